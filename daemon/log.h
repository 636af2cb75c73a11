/* SPDX-License-Identifier: MIT */
#pragma once

/* Logging for renewd. Under systemd (stderr connected to the journal) each message is a
 * journal record with PRIORITY, CODE_FILE/CODE_LINE/CODE_FUNC, and for messages about a
 * certificate RENEWD_CERT= and RENEWD_DOMAINS=; elsewhere a readable line on stderr
 * ("renewd: NAME: message"). Errors are logged once, where the decision is made, with
 * the error text: log_error_errno(r, "…: %m") expands %m to strerror(-r). */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Force (1) or forbid (0) journal records; the default is to detect JOURNAL_STREAM. */
void log_set_journal(int on);

/* Log at level with error (a negative errno, or 0); returns error (or -EIO if 0 and level
 * is an error, so `return log_error_errno(0, …)` still fails). cert and domains may be
 * NULL. */
int log_internal(int level, int error, const char *file, const char *line, const char *func, const char *cert,
                 const char *domains, const char *fmt, ...) _printf_(8, 9);

#define LOG_STRINGIFY_(x) #x
#define LOG_STRINGIFY(x) LOG_STRINGIFY_(x)
#define LOG_LOCATION "CODE_FILE=" __FILE__, "CODE_LINE=" LOG_STRINGIFY(__LINE__), __func__

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), LOG_LOCATION, NULL, NULL, __VA_ARGS__)
/* About one certificate: adds RENEWD_CERT= and RENEWD_DOMAINS= (domains may be NULL). */
#define log_cert_errno(level, error, cert, domains, ...) \
        log_internal((level), (error), LOG_LOCATION, (cert), (domains), __VA_ARGS__)

#define log_full(level, ...) ((void) log_full_errno((level), 0, __VA_ARGS__))
#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")
