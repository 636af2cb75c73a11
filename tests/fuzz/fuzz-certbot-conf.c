/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the certbot renewal configuration parser. Nothing may crash or
 * leak; a refusal must say where ("line N: ..."); and what is accepted must hold together:
 * every entry findable under its section, scalars with exactly one value, no value with a
 * control character but the line breaks of triple-quoted values, and the lookups agreeing
 * with the entries. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certbot-conf.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_control(const char *s, bool newline_ok) {
        for (; *s; s++)
                if (((unsigned char) *s < 0x20 && *s != '\t' && !(newline_ok && *s == '\n')) || *s == 0x7f)
                        return true;
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CertbotConf *c = NULL;
        char *error = NULL;
        int r;

        r = certbot_conf_parse((const char *) data, size, &c, &error);
        if (r < 0) {
                if (r == -ENOMEM) {
                        free(error);
                        return 0;
                }
                if ((r != -EINVAL && r != -E2BIG) || c || !error || strncmp(error, "line ", 5) != 0)
                        abort();
                free(error);
                return 0;
        }
        if (!c || error)
                abort();

        for (size_t i = 0; i < c->n_entries; i++) {
                const CertbotEntry *e = &c->entries[i];
                const char *v = NULL;

                if (!e->section || !e->key || !e->values || e->line == 0 || isempty(e->key))
                        abort();
                if (!e->is_list && strv_length(e->values) != 1)
                        abort();
                if (*e->section && !certbot_conf_has_section(c, e->section))
                        abort();
                /* Keys are unique within a section, so the lookup finds this very entry. */
                if (certbot_conf_find(c, e->section, e->key) != e)
                        abort();
                if (has_control(e->key, false))
                        abort();
                for (char **s = e->values; *s; s++)
                        if (has_control(*s, true) || (e->is_list && strchr(*s, '\n')))
                                abort();
                r = certbot_conf_get_string(c, e->section, e->key, &v);
                if ((r == 0) != (strv_length(e->values) == 1) || (r == 0 && v != e->values[0]))
                        abort();
                r = certbot_conf_get_bool(c, e->section, e->key);
                if (r != 0 && r != 1 && r != -EINVAL)
                        abort();
        }
        for (char **s = c->sections; *s; s++)
                if (isempty(*s) || has_control(*s, false) || strv_contains(s + 1, *s))
                        abort();

        certbot_conf_free(c);
        return 0;
}
