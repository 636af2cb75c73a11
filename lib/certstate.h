/* SPDX-License-Identifier: MIT */
#pragma once

/* The persisted scheduling state of one certificate: backoff after failures, the last
 * error, the CA's ARI window and the chosen renewal time, so that a restarted daemon
 * neither forgets a backoff (and hammers the CA) nor re-rolls its random renewal point.
 *
 * One file per certificate, STATE_DIR/status/<name>.json, mode 0644 (it holds no secrets),
 * replaced atomically. The status/ directory is created 0755 on the first save.
 *
 * The file is a JSON object; every time is a string in the one RFC 3339 form
 * "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds, upper-case T and Z), so an operator can read
 * it. A time that is 0 ("never"/"none") and a string that is NULL are left out:
 *
 *   {
 *     "version": 1,                              required; anything but 1 is refused
 *     "consecutiveFailures": 3,                  integer, 0 .. UINT_MAX
 *     "lastAttempt": "2025-03-01T10:00:00Z",
 *     "lastSuccess": "2025-01-30T09:12:44Z",
 *     "lastFailure": "2025-03-01T10:00:00Z",
 *     "nextAttempt": "2025-03-01T11:40:00Z",
 *     "lastError": "rateLimited: too many ...",
 *     "scheduled": "2025-03-02T04:17:09Z",
 *     "deployPending": true,                     boolean; absent = false
 *     "failureNotifiedDays": 7,                  integer; absent = 0
 *     "ari": {
 *       "certID": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
 *       "window": { "start": "2025-03-02T00:00:00Z", "end": "2025-03-04T00:00:00Z" },
 *       "nextPoll": "2025-03-01T16:00:00Z",
 *       "explanationURL": "https://ca.example/docs/ari"
 *     }
 *   }
 *
 * "window" is present exactly when have_ari is set; both its times are then written, even
 * 0, and end must be after start. "ari" is left out when it would be empty. Members that
 * are absent or JSON null take their defaults (0, NULL, false). Unknown members, at the top
 * level and inside "ari" and "window", are ignored, so that a newer renewd can add some
 * without a version bump; a change that older readers must not misread bumps "version".
 *
 * Text fields: last_error is text from servers, so it is cleaned wherever it is stored
 * (cert_state_record_failure(), cert_state_to_json(), cert_state_from_json()): tabs and
 * line breaks become a space, other control characters (C0, DEL, C1) are dropped, invalid
 * UTF-8 bytes become '?', surrounding spaces are trimmed, and text longer than
 * CERT_STATE_ERROR_MAX bytes is cut at a character boundary and ends in "...". Text that
 * cleans to nothing is NULL. ari_cert_id and ari_explanation_url are not altered: they must
 * be UTF-8 without control characters and at most CERT_STATE_TEXT_MAX bytes, or saving
 * fails with -EINVAL and loading with -EBADMSG. Empty strings are stored as NULL. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "macro.h"

/* Longest last_error kept, in bytes, NUL excluded. */
#define CERT_STATE_ERROR_MAX 1024U
/* Longest ari_cert_id / ari_explanation_url accepted, in bytes, NUL excluded. */
#define CERT_STATE_TEXT_MAX 4096U
/* Latest time that can be stored: 9999-12-31T23:59:59Z. Earliest: the epoch. */
#define CERT_STATE_TIME_MAX ((time_t) 253402300799LL)

typedef struct CertState {
        unsigned consecutive_failures;
        time_t last_attempt, last_success, last_failure;   /* 0 = never */
        time_t next_attempt;            /* backoff: not before this (0 = no backoff) */
        char *last_error;               /* NULL or text, <= CERT_STATE_ERROR_MAX bytes */
        bool have_ari;                  /* ari_start/ari_end hold a window (stored only then) */
        time_t ari_start, ari_end;      /* suggested window, end > start */
        time_t ari_next_poll;           /* when to ask renewalInfo again (0 = not set) */
        char *ari_explanation_url;
        char *ari_cert_id;              /* the certID the window belongs to (a new cert means a new window) */
        time_t scheduled;               /* the chosen renewal time (kept so a restart does not re-roll the random point) */
        bool deploy_pending;            /* the live version is installed but its deployment (copies, hook,
                                         * reloads) failed: the next attempt deploys again, it does not order */
        unsigned failure_notified_days; /* on_failure last ran at this many days left (0 = not in this streak) */
} CertState;

/* Free the members and zero the struct. Usable as a cleanup: _cleanup_(cert_state_done). */
void cert_state_done(CertState *s);

/* Serialise s as described above (indented, with a trailing newline). Returns 0, -EINVAL
 * for an ARI window whose end is not after its start or an unacceptable ari_* string,
 * -ERANGE for a time before the epoch or after CERT_STATE_TIME_MAX, -ENOMEM. */
int cert_state_to_json(const CertState *s, char **ret);

/* Parse len bytes of a state file into *ret (overwritten, not freed first). Returns 0,
 * -EPROTONOSUPPORT when "version" is an integer other than 1, -EBADMSG for anything else
 * that is not a valid state: bad JSON, no "version", a member of the wrong type, a time not
 * in the form above or out of range, a count beyond UINT_MAX, an empty or backwards window.
 * Unknown members are ignored. */
int cert_state_from_json(const char *text, size_t len, CertState *ret);

/* Load status/<name>.json of the state directory into *ret (overwritten). Returns 0,
 * -EINVAL for a name that is not store_name_is_valid(), -ENOENT when there is no file,
 * -EBADMSG when it is corrupt (including unreasonably large), -EPROTONOSUPPORT when it was
 * written by an incompatible version, or another negative errno from reading it. */
int cert_state_load(int state_dir_fd, const char *name, CertState *ret);

/* Write s to status/<name>.json atomically (mode 0644), creating status/ (0755) first if
 * needed. On failure the previous file, if any, is intact. Returns 0 or a negative errno
 * (those of cert_state_to_json(), -EINVAL for a bad name). */
int cert_state_save(int state_dir_fd, const char *name, const CertState *s);

/* Remove status/<name>.json. Returns 1 if a file was removed, 0 if there was none, or a
 * negative errno (-EINVAL for a bad name). */
int cert_state_remove(int state_dir_fd, const char *name);

/* A renewal attempt succeeded at now: the backoff is over (consecutive_failures = 0,
 * next_attempt = 0, last_error cleared), last_attempt = last_success = now. Everything
 * that belonged to the certificate just replaced is dropped too: the ARI window, its
 * certID, explanation URL and poll time, and the scheduled renewal time, so that the new
 * certificate gets its own (a stale scheduled time in the past would otherwise renew it
 * again at once after a restart). last_failure is kept as history. */
void cert_state_record_success(CertState *s, time_t now);

/* A renewal attempt failed at now with error (may be NULL; cleaned as described above)
 * and must not be retried before next_attempt (0 = at once): consecutive_failures + 1
 * (saturating), last_attempt = last_failure = now. Returns 0, -EINVAL for a NULL s, or
 * -ENOMEM, in which case s is unchanged. */
/* A deployment that had failed (deploy_pending) succeeded: the failure streak ends; the
 * certificate's own history (last success, ARI) is kept. */
void cert_state_record_deployed(CertState *s);

int cert_state_record_failure(CertState *s, time_t now, const char *error, time_t next_attempt);
