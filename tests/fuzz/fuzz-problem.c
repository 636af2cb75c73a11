/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the parsers of what an ACME server sends besides JSON objects
 * of the protocol itself: problem documents, the directory, Retry-After and Link header
 * values. None may crash, leak, or produce output that breaks its own promises. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme-directory.h"
#include "acme-problem.h"
#include "http.h"
#include "retry-after.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_problem(const char *buf, size_t size) {
        AcmeProblem *p = NULL;
        char *s;

        if (acme_problem_parse(buf, size, 400, &p) < 0)
                return;
        if (!p || !p->type)
                abort();
        if (p->n_subproblems > 0 && !p->subproblems)
                abort();
        (void) acme_problem_short_type(p);
        (void) acme_problem_is(p, "badNonce");
        if (acme_problem_to_errno(p) >= 0)
                abort();
        s = acme_problem_format(p);
        if (!s)
                abort();
        /* Whatever the server wrote, the line holds no control characters. */
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c < 0x20 || *c == 0x7f || (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f))
                        abort();
        free(s);
        acme_problem_free(p);
}

static void fuzz_directory(const char *buf, size_t size) {
        AcmeDirectory *d = NULL;

        for (int allow_http = 0; allow_http <= 1; allow_http++) {
                if (acme_directory_parse(buf, size, allow_http, &d) < 0)
                        continue;
                if (!acme_url_is_valid(d->new_nonce, allow_http) || !acme_url_is_valid(d->new_account, allow_http) ||
                    !acme_url_is_valid(d->new_order, allow_http) || !d->profiles)
                        abort();
                if (d->renewal_info && !acme_url_is_valid(d->renewal_info, allow_http))
                        abort();
                (void) strv_length(d->profiles);
                d = acme_directory_free(d);
        }
}

static void fuzz_header_values(const char *s) {
        uint64_t seconds = 0;
        time_t t;
        char **targets = NULL, **rels = NULL;

        if (retry_after_parse(s, (time_t) 1700000000, &seconds) >= 0 && seconds > RETRY_AFTER_MAX)
                abort();
        (void) http_date_parse(s, &t);

        (void) http_parse_link_header(s, &targets, &rels);
        if (strv_length(targets) != strv_length(rels))
                abort();
        strv_free(targets);
        strv_free(rels);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s;

        if (size > 64 * 1024)
                return 0;

        fuzz_problem((const char *) data, size);
        fuzz_directory((const char *) data, size);

        /* Header values are C strings: a copy with a NUL appended (anything after an
         * embedded NUL is simply not seen). */
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        fuzz_header_values(s);
        free(s);
        return 0;
}
