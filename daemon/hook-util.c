/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "hook-util.h"
#include "log.h"
#include "strv.h"

#define HOOK_LOG_LINES_MAX 50

int hook_env_push(char ***env, const char *name, const char *value) {
        char *e = NULL;
        int k;

        k = hook_env_entry(name, value ? value : "", &e);
        if (k < 0)
                return k;
        return strv_consume(env, e) < 0 ? -ENOMEM : 0;
}

void hook_log_output(int level, const char *cert, const char *what, Hook *h) {
        const char *p = hook_output(h);
        unsigned n = 0;

        while (*p && n < HOOK_LOG_LINES_MAX) {
                size_t len = strcspn(p, "\n");
                if (len > 0) {
                        log_cert_errno(level, 0, cert, NULL, "%s: %.*s", what, (int) len, p);
                        n++;
                }
                p += len;
                if (*p == '\n')
                        p++;
        }
        if (*p || hook_output_truncated(h))
                log_cert_errno(level, 0, cert, NULL, "%s: (more output not logged)", what);
}
