/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the config parser as a main file. Nothing may crash or leak; a
 * refusal must come with a reason; and what is accepted must print as text that parses
 * back to the same configuration (unless a secret is in it, which prints as "(set)"). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The dump without its "# from FILE:LINE" comment lines, which differ between the two
 * parses. */
static char *strip_comments(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;

        if (!out)
                return NULL;
        while (*s) {
                const char *end = strchrnul(s, '\n');
                if (*s != '#') {
                        memcpy(o, s, (size_t) (end - s));
                        o += end - s;
                        *o++ = '\n';
                }
                s = *end ? end + 1 : end;
        }
        *o = 0;
        return out;
}

static bool has_secret(const Config *c) {
        for (size_t i = 0; i < c->n_cas; i++)
                if (c->cas[i].eab_hmac_key)
                        return true;
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Config *c = NULL, *again = NULL;
        char *err = NULL, *dump = NULL, *dump2 = NULL, *a = NULL, *b = NULL;
        int r;

        r = config_parse_string("fuzz.conf", (const char *) data, size, &c, &err);
        if (r < 0) {
                /* Every refusal explains itself, in FILE:LINE form. */
                if (r == -EINVAL && (!err || strncmp(err, "fuzz.conf:", 10) != 0))
                        abort();
                free(err);
                return 0;
        }
        if (err)
                abort();

        if (config_dump(c, &dump) < 0)
                goto finish;
        if (!has_secret(c)) {
                r = config_parse_string("again.conf", dump, strlen(dump), &again, &err);
                if (r == -EINVAL)
                        abort(); /* the dump did not parse */
                if (r < 0 || config_dump(again, &dump2) < 0)
                        goto finish;
                a = strip_comments(dump);
                b = strip_comments(dump2);
                if (a && b && strcmp(a, b) != 0)
                        abort();
        }

finish:
        free(a);
        free(b);
        free(dump);
        free(dump2);
        free(err);
        config_free(again);
        config_free(c);
        return 0;
}
