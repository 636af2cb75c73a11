/* SPDX-License-Identifier: MIT */
/* Logging: structured records to the journal when stderr is connected to it (as under
 * systemd), readable "renewd: …" lines on stderr otherwise. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

/* The only process-wide state of the daemon's logging; lib/ has none. */
static int log_max_level = LOG_INFO;
static int log_to_journal = -1; /* unknown yet */

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

/* systemd sets JOURNAL_STREAM=DEV:INODE for a stderr connected to journald; use native
 * journal records (with fields) only then. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_set_journal(int on) {
        log_to_journal = on;
}

static void sanitize(char *line) {
        /* Server-provided text can reach the log: keep it one line. */
        for (char *p = line; *p; p++)
                if ((unsigned char) *p < 0x20 && *p != '\t')
                        *p = ' ';
}

int log_internal(int level, int error, const char *file, const char *line, const char *func, const char *cert,
                 const char *domains, const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        if (level <= log_max_level) {
                char msg[4096];

                /* %m in the format means the error passed in, not whatever errno holds. */
                errno = error < 0 ? -error : saved;
                va_start(ap, fmt);
                (void) vsnprintf(msg, sizeof msg, fmt, ap);
                va_end(ap);
                sanitize(msg);

                if (log_to_journal < 0)
                        log_to_journal = stderr_is_journal();

                if (log_to_journal) {
                        char f_msg[4200], f_prio[32], f_cert[256], f_domains[1024], f_errno[32];
                        struct iovec iov[5];
                        int n = 0;

                        snprintf(f_msg, sizeof f_msg, "MESSAGE=%s%s%s", cert ? cert : "", cert ? ": " : "", msg);
                        snprintf(f_prio, sizeof f_prio, "PRIORITY=%i", level);
                        iov[n++] = (struct iovec) { f_msg, strlen(f_msg) };
                        iov[n++] = (struct iovec) { f_prio, strlen(f_prio) };
                        if (cert) {
                                snprintf(f_cert, sizeof f_cert, "RENEWD_CERT=%s", cert);
                                iov[n++] = (struct iovec) { f_cert, strlen(f_cert) };
                        }
                        if (domains) {
                                snprintf(f_domains, sizeof f_domains, "RENEWD_DOMAINS=%s", domains);
                                iov[n++] = (struct iovec) { f_domains, strlen(f_domains) };
                        }
                        if (error < 0) {
                                snprintf(f_errno, sizeof f_errno, "ERRNO=%i", -error);
                                iov[n++] = (struct iovec) { f_errno, strlen(f_errno) };
                        }
                        (void) sd_journal_sendv_with_location(file, line, func, iov, n);
                } else if (cert)
                        fprintf(stderr, "renewd: %s: %s\n", cert, msg);
                else
                        fprintf(stderr, "renewd: %s\n", msg);
        }
        errno = saved;
        if (error < 0)
                return error;
        return level <= LOG_ERR ? -EIO : 0;
}
