/* SPDX-License-Identifier: MIT */
/* The read-only commands, status, list and show: one call each, the reply as text for
 * people or as JSON, and the exit status monitoring relies on (1 when any certificate
 * needs attention). Replies are read leniently: a member this client does not know is
 * ignored and a nullable one that is absent or of an unexpected type shows as "-". */

#include <inttypes.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "renewctl.h"
#include "rfc3339.h"
#include "strv.h"
#include "table.h"

/* The widest LAST ERROR column when stdout is not a terminal (or its width is unknown). */
#define LAST_ERROR_WIDTH 48

static const char *get_str(const cJSON *o, const char *key) {
        const char *s = NULL;

        return json_get_string(o, key, &s) >= 0 ? s : NULL;
}

/* A timestamp member, parsed. false when absent, null or not RFC 3339. */
static bool get_time(const cJSON *o, const char *key, time_t *ret) {
        const char *s = get_str(o, key);

        return s && rfc3339_parse(s, ret) >= 0;
}

/* Why a certificate (a Certificate of docs/io.renewd.varlink) needs attention at now, or
 * NULL when it does not: its state says it is failing, due or missing, its last attempt
 * failed, it has expired, or it is inside its renewal window (its next renewal or the
 * CA's suggested window has begun). A certificate being renewed only counts for the last
 * two. */
static const char *certificate_attention(const cJSON *cert, time_t now) {
        const char *state = get_str(cert, "state");
        int64_t failures = 0;
        time_t t;

        if (streq_ptr(state, "failing"))
                return "failing";
        if (streq_ptr(state, "due"))
                return "due";
        if (streq_ptr(state, "missing"))
                return "missing";
        if (json_get_int64(cert, "consecutive_failures", &failures) >= 0 && failures > 0)
                return "last attempt failed";
        if (get_time(cert, "not_after", &t) && t <= now)
                return "expired";
        if (get_time(cert, "next_renewal", &t) && t <= now)
                return "inside its renewal window";
        if (get_time(cert, "ari_window_start", &t) && t <= now)
                return "inside its renewal window";
        return NULL;
}

/* "2025-07-01 (in 45 days)", the raw text when it is not RFC 3339, or NULL for none. */
static char *time_cell(const cJSON *o, const char *key, time_t now) {
        char date[FORMAT_TIME_MAX], rel[FORMAT_TIME_MAX];
        const char *s = get_str(o, key);
        char *cell = NULL;
        time_t t;

        if (!s)
                return NULL;
        if (rfc3339_parse(s, &t) < 0)
                return strdup(s);
        if (asprintf(&cell, "%s (%s)", format_date(t, date), format_relative(t, now, rel)) < 0)
                return NULL;
        return cell;
}

/* "example.com +2": the first domain and how many more. */
static char *domains_cell(const cJSON *cert) {
        const cJSON *domains = NULL, *first;
        char *cell = NULL;
        int n;

        if (json_get_array(cert, "domains", &domains) < 0)
                return NULL;
        n = cJSON_GetArraySize(domains);
        first = cJSON_GetArrayItem(domains, 0);
        if (!cJSON_IsString(first))
                return NULL;
        if (n <= 1)
                return strdup(first->valuestring);
        if (asprintf(&cell, "%s +%d", first->valuestring, n - 1) < 0)
                return NULL;
        return cell;
}

static int64_t get_count(const cJSON *o, const char *key, bool *ok) {
        int64_t v = 0;

        if (json_get_int64(o, key, &v) < 0 || v < 0)
                *ok = false;
        return v;
}

int cmd_status(const Args *a) {
        _cleanup_(varlink_reply_done) VarlinkReply reply = {};
        char buf[FORMAT_TIME_MAX], rel[FORMAT_TIME_MAX];
        const char *version, *next_cert;
        int64_t uptime, total, valid, due, renewing, failing, missing;
        time_t now, next;
        bool ok = true, has_next, attention;
        int r;

        r = ctl_call_simple(a, "io.renewd.Status", NULL, &reply);
        if (r > 0)
                return r;
        now = time(NULL);

        version = get_str(reply.parameters, "version");
        uptime = get_count(reply.parameters, "uptime_sec", &ok);
        total = get_count(reply.parameters, "certificates", &ok);
        valid = get_count(reply.parameters, "valid", &ok);
        due = get_count(reply.parameters, "due", &ok);
        renewing = get_count(reply.parameters, "renewing", &ok);
        failing = get_count(reply.parameters, "failing", &ok);
        missing = get_count(reply.parameters, "missing", &ok);
        if (!ok || !version)
                return ctl_unexpected_reply(a, "a member of the Status reply is missing or of the wrong type");
        has_next = get_time(reply.parameters, "next_renewal", &next);
        next_cert = get_str(reply.parameters, "next_certificate");

        attention = failing > 0 || due > 0 || missing > 0 || (has_next && next <= now);

        if (a->json) {
                r = ctl_print_json(reply.parameters, false);
                if (r > 0)
                        return r;
        } else {
                _cleanup_free_ char *v = text_sanitize(version), *nc = text_sanitize(next_cert);

                if (!v || !nc)
                        return ctl_oom();
                printf("Daemon:        renewd %s, up %s\n", v, format_duration(uptime, buf));
                printf("Certificates:  %" PRId64 " (%" PRId64 " valid, %" PRId64 " due, %" PRId64 " renewing, "
                       "%" PRId64 " failing, %" PRId64 " missing)\n",
                       total, valid, due, renewing, failing, missing);
                if (has_next)
                        printf("Next renewal:  %s (%s)%s%s\n", format_timestamp(next, buf),
                               format_relative(next, now, rel), next_cert ? ", " : "", nc);
                else
                        printf("Next renewal:  none scheduled\n");
                if (!attention)
                        printf("Attention:     none needed\n");
                else {
                        const char *sep = "";

                        printf("Attention:     ");
                        if (failing > 0) {
                                printf("%s%" PRId64 " failing", sep, failing);
                                sep = ", ";
                        }
                        if (due > 0) {
                                printf("%s%" PRId64 " due", sep, due);
                                sep = ", ";
                        }
                        if (missing > 0) {
                                printf("%s%" PRId64 " missing", sep, missing);
                                sep = ", ";
                        }
                        if (has_next && next <= now)
                                printf("%sa renewal is overdue", sep);
                        printf(" ('renewctl list' shows which)\n");
                }
        }
        return attention ? EXIT_ATTENTION : EXIT_OK;
}

/* The width for the last column: what is left of the terminal's width (at least 16) when
 * stdout is a terminal, else LAST_ERROR_WIDTH. */
static size_t last_column_width(const Table *t, size_t last) {
        struct winsize ws = {};
        size_t used = 0;

        if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return LAST_ERROR_WIDTH;
        for (size_t i = 0; i < last; i++)
                used += table_column_width(t, i) + 2;
        return ws.ws_col >= used + 16 ? ws.ws_col - used : 16;
}

int cmd_list(const Args *a) {
        static const char *const headers[] = {
                "NAME", "DOMAINS", "STATE", "EXPIRES", "NEXT RENEWAL", "LAST ERROR",
        };
        _cleanup_(varlink_reply_done) VarlinkReply reply = {};
        _cleanup_(table_freep) Table *t = NULL;
        const cJSON *certs = NULL, *cert;
        size_t n = 0, needing = 0;
        time_t now;
        int r;

        r = ctl_call_simple(a, "io.renewd.List", NULL, &reply);
        if (r > 0)
                return r;
        now = time(NULL);

        if (json_get_array(reply.parameters, "certificates", &certs) < 0)
                return ctl_unexpected_reply(a, "no list of certificates");
        cJSON_ArrayForEach(cert, certs) {
                if (!cJSON_IsObject(cert) || !get_str(cert, "name"))
                        return ctl_unexpected_reply(a, "a certificate without a name");
                n++;
                if (certificate_attention(cert, now))
                        needing++;
        }

        if (a->json) {
                r = ctl_print_json(reply.parameters, false);
                if (r > 0)
                        return r;
                return needing > 0 ? EXIT_ATTENTION : EXIT_OK;
        }

        if (n == 0) {
                printf("No certificates.\n");
                return EXIT_OK;
        }

        if (table_new(headers, ELEMENTSOF(headers), &t) < 0)
                return ctl_oom();
        cJSON_ArrayForEach(cert, certs) {
                _cleanup_free_ char *domains = domains_cell(cert), *expires = time_cell(cert, "not_after", now),
                                    *next = time_cell(cert, "next_renewal", now);
                const char *cells[] = {
                        get_str(cert, "name"), domains, get_str(cert, "state"),
                        expires, next, get_str(cert, "last_error"),
                };

                if (table_add_row(t, cells) < 0)
                        return ctl_oom();
        }
        table_set_max_width(t, ELEMENTSOF(headers) - 1, last_column_width(t, ELEMENTSOF(headers) - 1));
        if (table_print(t, stdout) < 0)
                return ctl_oom();

        printf("\n%zu certificate%s", n, n == 1 ? "" : "s");
        if (needing > 0)
                printf(", %zu need%s attention (failing, due, missing, expired or inside the renewal window)",
                       needing, needing == 1 ? "s" : "");
        printf(".\n");
        return needing > 0 ? EXIT_ATTENTION : EXIT_OK;
}

/* "Key:" padded so the values line up. */
static void show_field(const char *key, const char *value) {
        _cleanup_free_ char *v = text_sanitize(value ? value : "-");

        printf("%-22s %s\n", key, v ? v : "-");
}

static void show_time(const cJSON *cert, const char *key, const char *label, time_t now) {
        char buf[FORMAT_TIME_MAX], rel[FORMAT_TIME_MAX];
        _cleanup_free_ char *s = NULL;
        time_t t;

        if (get_time(cert, key, &t) && asprintf(&s, "%s (%s)", format_timestamp(t, buf),
                                                format_relative(t, now, rel)) < 0)
                s = NULL;
        show_field(label, s ? s : get_str(cert, key));
}

int cmd_show(const Args *a) {
        _cleanup_(varlink_reply_done) VarlinkReply reply = {};
        _cleanup_json_ cJSON *params = NULL;
        _cleanup_strv_free_ char **domains = NULL;
        _cleanup_free_ char *joined = NULL, *window = NULL;
        const cJSON *cert = NULL;
        char buf[32], s1[FORMAT_TIME_MAX], s2[FORMAT_TIME_MAX];
        const char *attention;
        int64_t v;
        time_t now, ws, we;
        int r;

        params = cJSON_CreateObject();
        if (!params || !cJSON_AddStringToObject(params, "name", a->args[0]))
                return ctl_oom();

        r = ctl_call_simple(a, "io.renewd.Show", params, &reply);
        if (r > 0)
                return r;
        now = time(NULL);

        if (json_get_object(reply.parameters, "certificate", &cert) < 0 || !get_str(cert, "name"))
                return ctl_unexpected_reply(a, "no certificate");
        if (a->json)
                return ctl_print_json(reply.parameters, false);

        if (json_get_strv(cert, "domains", &domains) >= 0)
                joined = strv_join(domains, ", ");
        attention = certificate_attention(cert, now);

        show_field("Name:", get_str(cert, "name"));
        show_field("Domains:", joined);
        show_field("State:", get_str(cert, "state"));
        show_time(cert, "not_after", "Expires:", now);
        show_time(cert, "next_renewal", "Next renewal:", now);
        show_field("Serial:", get_str(cert, "serial"));
        show_field("Version:", json_get_int64(cert, "version", &v) >= 0 &&
                   snprintf(buf, sizeof(buf), "%" PRId64, v) > 0 ? buf : NULL);
        show_time(cert, "last_success", "Last success:", now);
        show_time(cert, "last_failure", "Last failure:", now);
        show_field("Consecutive failures:", json_get_int64(cert, "consecutive_failures", &v) >= 0 &&
                   snprintf(buf, sizeof(buf), "%" PRId64, v) > 0 ? buf : NULL);
        show_field("Last error:", get_str(cert, "last_error"));
        if (get_time(cert, "ari_window_start", &ws) && get_time(cert, "ari_window_end", &we) &&
            asprintf(&window, "%s to %s", format_timestamp(ws, s1), format_timestamp(we, s2)) < 0)
                window = NULL;
        show_field("ARI window:", window);
        show_field("Needs attention:", attention ? attention : "no");
        return EXIT_OK;
}
