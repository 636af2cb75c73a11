/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to what renewd reads from a CA's renewalInfo: the RenewalInfo
 * object and its RFC 3339 times. Nothing may crash or leak, and what parses must keep
 * the promises of ari.h: a window that ends after it starts, an explanation URL that is
 * https or absent, a time that reads back the same when printed in canonical form. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme-directory.h"
#include "ari.h"
#include "rfc3339.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_window(const char *buf, size_t size) {
        AriWindow w = { .start = 1, .end = 0 };
        int r;

        r = ari_parse(buf, size, &w);
        if (r < 0) {
                /* untouched on failure */
                if (w.start != 1 || w.end != 0 || w.explanation_url)
                        abort();
                return;
        }
        if (w.end <= w.start)
                abort();
        if (w.explanation_url && !acme_url_is_valid(w.explanation_url, false))
                abort();
        ari_window_done(&w);
}

static void fuzz_time(const char *s) {
        time_t t = 0, again = 0;
        struct tm tm;
        char canonical[64];

        if (rfc3339_parse(s, &t) < 0)
                return;
        if (!gmtime_r(&t, &tm))
                abort();
        /* Outside 0000–9999 the form is not RFC 3339; an offset can push a time there. */
        if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
                return;
        snprintf(canonical, sizeof canonical, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (rfc3339_parse(canonical, &again) < 0 || again != t)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s;

        if (size > 64 * 1024)
                return 0;

        fuzz_window((const char *) data, size);

        /* rfc3339_parse() takes a C string: a NUL-terminated copy. */
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        fuzz_time(s);
        free(s);
        return 0;
}
