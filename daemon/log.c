/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "log.h"

/* The one piece of process-wide state of the daemon's logging; lib/ has none. */
static int log_max_level = LOG_INFO;

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_full_errno(int level, int error, const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        if (level <= log_max_level) {
                char line[4096];
                /* %m in the format means the error passed in, not whatever errno holds. */
                errno = error < 0 ? -error : saved;
                va_start(ap, fmt);
                (void) vsnprintf(line, sizeof line, fmt, ap);
                va_end(ap);
                /* Server-provided text can reach the log: keep it one line. */
                for (char *p = line; *p; p++)
                        if ((unsigned char) *p < 0x20 && *p != '\t')
                                *p = ' ';
                fprintf(stderr, "renewd: %s\n", line);
        }
        errno = saved;
        if (error < 0)
                return error;
        return level <= LOG_ERR ? -EIO : 0;
}
