/* SPDX-License-Identifier: MIT */
/* Per-certificate scheduling state in STATE_DIR/status/<name>.json (format: certstate.h).
 *
 * The file is read back by the daemon after a restart, and a mistake in it can cost a
 * backoff (hammering the CA) or a renewal point, so both directions are strict about what
 * they accept and the writer refuses anything the reader would refuse: a file renewd
 * wrote always loads again, into the same struct. */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "certstate.h"
#include "fileio.h"
#include "json.h"
#include "store.h"
#include "utf8.h"

#define CERT_STATE_VERSION 1
#define STATUS_DIR "status"
/* A valid file is a few KiB at most (CERT_STATE_ERROR_MAX plus two CERT_STATE_TEXT_MAX,
 * with escapes); anything much larger is not ours. */
#define CERT_STATE_FILE_MAX (64U * 1024U)
/* "YYYY-MM-DDTHH:MM:SSZ" */
#define TIME_STRING_LEN 20

void cert_state_done(CertState *s) {
        if (!s)
                return;
        free(s->last_error);
        free(s->ari_explanation_url);
        free(s->ari_cert_id);
        *s = (CertState) {};
}

/* A control character: C0, DEL, or C1 (U+0080..U+009F, UTF-8 C2 80..C2 9F), given the
 * start of a well-formed sequence of length k. */
static bool is_control(const uint8_t *p, size_t k) {
        if (k == 1)
                return p[0] < 0x20 || p[0] == 0x7F;
        return k == 2 && p[0] == 0xC2 && p[1] <= 0x9F;
}

static bool is_line_space(uint8_t c) {
        return c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Clean server text for last_error (rules in certstate.h). The result never exceeds
 * CERT_STATE_ERROR_MAX bytes, and cleaning it again gives it back unchanged. Returns 0 with
 * *ret allocated, or NULL when nothing is left; -ENOMEM. */
static int error_text_clean(const char *s, char **ret) {
        _cleanup_free_ char *buf = NULL;
        const uint8_t *p = (const uint8_t *) s;
        size_t left, n = 0;
        bool truncated = false;

        if (isempty(s)) {
                *ret = NULL;
                return 0;
        }

        /* Each unit appended is at most 4 bytes and the loop stops before exceeding the
         * cap, so the input's length does not matter. */
        buf = malloc(CERT_STATE_ERROR_MAX + 1);
        if (!buf)
                return -ENOMEM;

        left = strlen(s);
        while (left > 0) {
                size_t k = utf8_sequence_length(p, left);
                const uint8_t *unit = p;
                size_t unit_len = k;

                if (k == 0) {
                        unit = (const uint8_t *) "?";
                        unit_len = k = 1;
                } else if (is_control(p, k)) {
                        /* Line breaks and tabs separate words: keep one space for them. */
                        if (is_line_space(p[0]) && n > 0 && buf[n - 1] != ' ')
                                unit = (const uint8_t *) " ", unit_len = 1;
                        else
                                unit_len = 0;
                }

                if (n + unit_len > CERT_STATE_ERROR_MAX) {
                        truncated = true;
                        break;
                }
                memcpy(buf + n, unit, unit_len);
                n += unit_len;
                p += k;
                left -= k;
        }

        if (truncated) {
                /* Cut at a character boundary (buf is well-formed UTF-8 here) with room
                 * for the ellipsis. The loop stopped less than 4 bytes short of the cap,
                 * so buf[CERT_STATE_ERROR_MAX - 3] is written whenever it is looked at. */
                if (n > CERT_STATE_ERROR_MAX - 3) {
                        n = CERT_STATE_ERROR_MAX - 3;
                        while (n > 0 && ((uint8_t) buf[n] & 0xC0) == 0x80)
                                n--;
                }
                memcpy(buf + n, "...", 3);
                n += 3;
        }

        while (n > 0 && buf[n - 1] == ' ')
                n--;
        buf[n] = 0;

        /* Leading spaces are real spaces (converted ones never start the text). */
        size_t skip = strspn(buf, " ");
        if (skip == n) {
                *ret = NULL;
                return 0;
        }
        if (skip > 0)
                memmove(buf, buf + skip, n - skip + 1);

        *ret = TAKE_PTR(buf);
        return 0;
}

/* Whether s is acceptable as ari_cert_id or ari_explanation_url: well-formed UTF-8 without
 * control characters, at most CERT_STATE_TEXT_MAX bytes. */
static bool text_is_acceptable(const char *s) {
        const uint8_t *p = (const uint8_t *) s;
        size_t left = strlen(s);

        if (left > CERT_STATE_TEXT_MAX)
                return false;
        while (left > 0) {
                size_t k = utf8_sequence_length(p, left);
                if (k == 0 || is_control(p, k))
                        return false;
                p += k;
                left -= k;
        }
        return true;
}

static bool time_is_storable(time_t t) {
        return t >= 0 && t <= CERT_STATE_TIME_MAX;
}

/* Format t as "YYYY-MM-DDTHH:MM:SSZ". Returns 0 or -ERANGE. */
static int time_format(time_t t, char buf[static TIME_STRING_LEN + 1]) {
        struct tm tm;

        if (!time_is_storable(t))
                return -ERANGE;
        if (!gmtime_r(&t, &tm))
                return -ERANGE;
        if (strftime(buf, TIME_STRING_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != TIME_STRING_LEN)
                return -ERANGE;
        return 0;
}

/* Parse n decimal digits at s. Returns the value or -1. */
static int parse_digits(const char *s, size_t n) {
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

static bool is_leap_year(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Parse exactly the form time_format() writes; every field is range-checked (no 30
 * February, no leap second) so that timegm() cannot normalise one date into another and
 * formatting the result gives the same text back. Returns 0 or -EBADMSG. */
static int time_parse(const char *s, time_t *ret) {
        static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int year, mon, day, hour, min, sec;
        struct tm tm;
        time_t t;

        if (strlen(s) != TIME_STRING_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
            s[16] != ':' || s[19] != 'Z')
                return -EBADMSG;

        year = parse_digits(s, 4);
        mon = parse_digits(s + 5, 2);
        day = parse_digits(s + 8, 2);
        hour = parse_digits(s + 11, 2);
        min = parse_digits(s + 14, 2);
        sec = parse_digits(s + 17, 2);

        if (year < 1970 || mon < 1 || mon > 12 || day < 1 || hour < 0 || hour > 23 || min < 0 || min > 59 ||
            sec < 0 || sec > 59)
                return -EBADMSG;
        if (day > mdays[mon - 1] + (mon == 2 && is_leap_year(year)))
                return -EBADMSG;

        tm = (struct tm) {
                .tm_year = year - 1900,
                .tm_mon = mon - 1,
                .tm_mday = day,
                .tm_hour = hour,
                .tm_min = min,
                .tm_sec = sec,
        };
        t = timegm(&tm);
        if (!time_is_storable(t))
                return -EBADMSG;

        *ret = t;
        return 0;
}

/* Add key = t to o; a zero time is left out unless always. Returns 0, -ERANGE, -ENOMEM. */
static int add_time(cJSON *o, const char *key, time_t t, bool always) {
        char buf[TIME_STRING_LEN + 1];
        int r;

        if (t == 0 && !always)
                return 0;
        r = time_format(t, buf);
        if (r < 0)
                return r;
        return cJSON_AddStringToObject(o, key, buf) ? 0 : -ENOMEM;
}

/* Add key = s to o unless s is NULL or empty. Returns 0, -EINVAL, -ENOMEM. */
static int add_text(cJSON *o, const char *key, const char *s) {
        if (isempty(s))
                return 0;
        if (!text_is_acceptable(s))
                return -EINVAL;
        return cJSON_AddStringToObject(o, key, s) ? 0 : -ENOMEM;
}

/* Check every time before building anything, so the errors do not depend on order. */
static int check_times(const CertState *s) {
        const time_t times[] = {
                s->last_attempt, s->last_success, s->last_failure, s->next_attempt, s->ari_next_poll, s->scheduled,
        };

        for (size_t i = 0; i < ELEMENTSOF(times); i++)
                if (!time_is_storable(times[i]))
                        return -ERANGE;
        if (s->have_ari) {
                if (!time_is_storable(s->ari_start) || !time_is_storable(s->ari_end))
                        return -ERANGE;
                if (s->ari_end <= s->ari_start)
                        return -EINVAL;
        }
        return 0;
}

int cert_state_to_json(const CertState *s, char **ret) {
        _cleanup_json_ cJSON *o = NULL, *ari = NULL;
        _cleanup_free_ char *error = NULL, *text = NULL;
        char *printed;
        int r;

        if (!s || !ret)
                return -EINVAL;

        r = check_times(s);
        if (r < 0)
                return r;

        r = error_text_clean(s->last_error, &error);
        if (r < 0)
                return r;

        o = cJSON_CreateObject();
        ari = cJSON_CreateObject();
        if (!o || !ari)
                return -ENOMEM;

        if (!cJSON_AddNumberToObject(o, "version", CERT_STATE_VERSION) ||
            !cJSON_AddNumberToObject(o, "consecutiveFailures", (double) s->consecutive_failures))
                return -ENOMEM;
        if ((r = add_time(o, "lastAttempt", s->last_attempt, false)) < 0 ||
            (r = add_time(o, "lastSuccess", s->last_success, false)) < 0 ||
            (r = add_time(o, "lastFailure", s->last_failure, false)) < 0 ||
            (r = add_time(o, "nextAttempt", s->next_attempt, false)) < 0)
                return r;
        if (error && !cJSON_AddStringToObject(o, "lastError", error))
                return -ENOMEM;
        if ((r = add_time(o, "scheduled", s->scheduled, false)) < 0)
                return r;
        if (s->deploy_pending && !cJSON_AddTrueToObject(o, "deployPending"))
                return -ENOMEM;
        if (s->failure_notified_days > 0 &&
            !cJSON_AddNumberToObject(o, "failureNotifiedDays", (double) s->failure_notified_days))
                return -ENOMEM;

        if ((r = add_text(ari, "certID", s->ari_cert_id)) < 0)
                return r;
        if (s->have_ari) {
                cJSON *w = cJSON_AddObjectToObject(ari, "window");
                if (!w)
                        return -ENOMEM;
                if ((r = add_time(w, "start", s->ari_start, true)) < 0 ||
                    (r = add_time(w, "end", s->ari_end, true)) < 0)
                        return r;
        }
        if ((r = add_time(ari, "nextPoll", s->ari_next_poll, false)) < 0 ||
            (r = add_text(ari, "explanationURL", s->ari_explanation_url)) < 0)
                return r;
        if (cJSON_GetArraySize(ari) > 0) {
                if (!cJSON_AddItemToObject(o, "ari", ari))
                        return -ENOMEM;
                ari = NULL;     /* owned by o now */
        }

        printed = cJSON_Print(o);
        if (!printed)
                return -ENOMEM;
        r = asprintf(&text, "%s\n", printed);
        cJSON_free(printed);
        if (r < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(text);
        return 0;
}

/* Read a time member. Absent or null leaves *ret alone and returns 0, or -EBADMSG when
 * the member is required. Returns 0 or -EBADMSG. */
static int get_time(const cJSON *o, const char *key, bool required, time_t *ret) {
        const char *v = NULL;
        int r;

        r = json_get_string(o, key, &v);
        if (r == -ENOENT)
                return required ? -EBADMSG : 0;
        if (r < 0)
                return r;
        return time_parse(v, ret);
}

/* Read an optional ari_* string into *ret (a copy; empty means NULL). Returns 0, -EBADMSG,
 * -ENOMEM. */
static int get_text(const cJSON *o, const char *key, char **ret) {
        const char *v = NULL;
        int r;

        r = json_get_string(o, key, &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!text_is_acceptable(v))
                return -EBADMSG;
        if (isempty(v))
                return 0;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int parse_ari(const cJSON *ari, CertState *s) {
        const cJSON *w = NULL;
        int r;

        r = get_text(ari, "certID", &s->ari_cert_id);
        if (r < 0)
                return r;

        r = json_get_object(ari, "window", &w);
        if (r >= 0) {
                if ((r = get_time(w, "start", true, &s->ari_start)) < 0 ||
                    (r = get_time(w, "end", true, &s->ari_end)) < 0)
                        return r;
                if (s->ari_end <= s->ari_start)
                        return -EBADMSG;
                s->have_ari = true;
        } else if (r != -ENOENT)
                return r;

        if ((r = get_time(ari, "nextPoll", false, &s->ari_next_poll)) < 0 ||
            (r = get_text(ari, "explanationURL", &s->ari_explanation_url)) < 0)
                return r;
        return 0;
}

int cert_state_from_json(const char *text, size_t len, CertState *ret) {
        _cleanup_(cert_state_done) CertState s = {};
        _cleanup_json_ cJSON *o = NULL;
        const cJSON *ari = NULL;
        const char *error = NULL;
        int64_t v;
        int r;

        if ((!text && len > 0) || !ret)
                return -EINVAL;

        r = json_parse_object(text, len, &o);
        if (r == -E2BIG)
                return -EBADMSG;
        if (r < 0)
                return r;

        /* The version first: another version may use other types for the same names. */
        r = json_get_int64(o, "version", &v);
        if (r == -ENOENT)
                return -EBADMSG;
        if (r < 0)
                return r;
        if (v != CERT_STATE_VERSION)
                return -EPROTONOSUPPORT;

        r = json_get_int64(o, "consecutiveFailures", &v);
        if (r >= 0) {
                if (v < 0 || (uint64_t) v > UINT_MAX)
                        return -EBADMSG;
                s.consecutive_failures = (unsigned) v;
        } else if (r != -ENOENT)
                return r;

        if ((r = get_time(o, "lastAttempt", false, &s.last_attempt)) < 0 ||
            (r = get_time(o, "lastSuccess", false, &s.last_success)) < 0 ||
            (r = get_time(o, "lastFailure", false, &s.last_failure)) < 0 ||
            (r = get_time(o, "nextAttempt", false, &s.next_attempt)) < 0 ||
            (r = get_time(o, "scheduled", false, &s.scheduled)) < 0)
                return r;

        const cJSON *dp = cJSON_GetObjectItemCaseSensitive(o, "deployPending");
        if (dp && !cJSON_IsNull(dp)) {
                if (!cJSON_IsBool(dp))
                        return -EBADMSG;
                s.deploy_pending = cJSON_IsTrue(dp);
        }
        r = json_get_int64(o, "failureNotifiedDays", &v);
        if (r >= 0) {
                if (v < 0 || v > 100000)
                        return -EBADMSG;
                s.failure_notified_days = (unsigned) v;
        } else if (r != -ENOENT)
                return r;

        r = json_get_string(o, "lastError", &error);
        if (r >= 0) {
                r = error_text_clean(error, &s.last_error);
                if (r < 0)
                        return r;
        } else if (r != -ENOENT)
                return r;

        r = json_get_object(o, "ari", &ari);
        if (r >= 0) {
                r = parse_ari(ari, &s);
                if (r < 0)
                        return r;
        } else if (r != -ENOENT)
                return r;

        *ret = s;
        s = (CertState) {};
        return 0;
}

/* "status/<name>.json" into buf. Returns 0 or -EINVAL for a bad name. */
static int state_path(const char *name, char *buf, size_t size) {
        int k;

        if (!store_name_is_valid(name))
                return -EINVAL;
        k = snprintf(buf, size, STATUS_DIR "/%s.json", name);
        if (k < 0 || (size_t) k >= size)
                return -EINVAL;
        return 0;
}

/* Room for "status/" + a name (store names are at most 64 characters) + ".json". */
#define STATE_PATH_SIZE 128

int cert_state_load(int state_dir_fd, const char *name, CertState *ret) {
        _cleanup_free_ char *text = NULL;
        char path[STATE_PATH_SIZE];
        size_t len = 0;
        int r;

        if (!ret)
                return -EINVAL;
        r = state_path(name, path, sizeof(path));
        if (r < 0)
                return r;

        r = read_file_at(state_dir_fd, path, CERT_STATE_FILE_MAX, &text, &len);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;

        return cert_state_from_json(text, len, ret);
}

/* Create status/ with mode 0755 unless it exists; a new directory's entry is fsynced so a
 * file saved into it survives a crash. */
static int status_dir_ensure(int state_dir_fd) {
        struct stat st;
        int r;

        if (fstatat(state_dir_fd, STATUS_DIR, &st, 0) >= 0)
                return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        if (errno != ENOENT)
                return negative_errno();

        r = mkdir_p_at(state_dir_fd, STATUS_DIR, 0755);
        if (r < 0)
                return r;
        return fsync_dir_at(state_dir_fd, ".");
}

int cert_state_save(int state_dir_fd, const char *name, const CertState *s) {
        _cleanup_free_ char *text = NULL;
        char path[STATE_PATH_SIZE];
        int r;

        if (!s)
                return -EINVAL;
        r = state_path(name, path, sizeof(path));
        if (r < 0)
                return r;

        /* Serialise first: a state that cannot be stored creates nothing. */
        r = cert_state_to_json(s, &text);
        if (r < 0)
                return r;

        r = status_dir_ensure(state_dir_fd);
        if (r < 0)
                return r;

        return write_file_atomic(state_dir_fd, path, text, strlen(text), 0644, (gid_t) -1);
}

int cert_state_remove(int state_dir_fd, const char *name) {
        char path[STATE_PATH_SIZE];
        int r;

        r = state_path(name, path, sizeof(path));
        if (r < 0)
                return r;

        if (unlinkat(state_dir_fd, path, 0) < 0) {
                if (errno == ENOENT)
                        return 0;
                return negative_errno();
        }

        r = fsync_dir_at(state_dir_fd, STATUS_DIR);
        if (r < 0)
                return r;
        return 1;
}

void cert_state_record_deployed(CertState *s) {
        if (!s)
                return;
        s->consecutive_failures = 0;
        s->next_attempt = 0;
        s->deploy_pending = false;
        s->failure_notified_days = 0;
        s->last_error = mfree(s->last_error);
}

void cert_state_record_success(CertState *s, time_t now) {
        if (!s)
                return;

        cert_state_record_deployed(s); /* the failure streak ends */
        s->last_attempt = s->last_success = now;

        /* A new certificate: the old one's ARI window and schedule do not apply. */
        s->have_ari = false;
        s->ari_start = s->ari_end = s->ari_next_poll = 0;
        s->ari_explanation_url = mfree(s->ari_explanation_url);
        s->ari_cert_id = mfree(s->ari_cert_id);
        s->scheduled = 0;
}

int cert_state_record_failure(CertState *s, time_t now, const char *error, time_t next_attempt) {
        char *e = NULL;
        int r;

        if (!s)
                return -EINVAL;

        r = error_text_clean(error, &e);
        if (r < 0)
                return r;

        if (s->consecutive_failures < UINT_MAX)
                s->consecutive_failures++;
        s->last_attempt = s->last_failure = now;
        s->next_attempt = next_attempt;
        free(s->last_error);
        s->last_error = e;
        return 0;
}
