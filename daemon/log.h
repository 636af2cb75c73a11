/* SPDX-License-Identifier: MIT */
#pragma once

/* Logging for renewd: readable lines on stderr ("renewd: message"). Errors are logged
 * once, where the decision is made, with the error text: log_error_errno(r, "…: %m")
 * expands %m to strerror(-r). */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);

/* Log at level with error (a negative errno, or 0); returns error (or -EIO if 0, so
 * `return log_error_errno(0, …)` still fails). */
int log_full_errno(int level, int error, const char *fmt, ...) _printf_(3, 4);

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
