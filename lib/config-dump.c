/* SPDX-License-Identifier: MIT */
/* A Config back to text: the printer of each kind of value, named by the key table, and
 * config_dump(), which prints every key of every section so that the text parses back to
 * the same configuration (secrets aside). */

#include <stdio.h>

#include "config-internal.h"

/* Whether a scalar can be written bare and read back unchanged. */
static bool value_is_bare(const char *v) {
        _cleanup_free_ char *copy = strdup(v);
        char *lexed;

        if (!copy)
                return false; /* quoting is always safe for values that needed no quoting */
        if (config_value_lex(copy, &lexed) < 0)
                return false;
        return lexed[0] != '"' && streq(lexed, v);
}

/* ---- printers; scalars are quoted only when they could not be read back bare ---- */

void config_dump_string(FILE *f, const ConfigKey *k, const void *field) {
        const char *s = *(char *const *) field;

        if (isempty(s))
                return;
        if (value_is_bare(s))
                fprintf(f, " %s", s);
        else
                fprintf(f, " \"%s\"", s);
}

void config_dump_secret(FILE *f, const ConfigKey *k, const void *field) {
        if (*(char *const *) field)
                fputs(" (set)", f);
}

void config_dump_words(FILE *f, const ConfigKey *k, const void *field) {
        char *const *l = *(char **const *) field;

        for (char *const *i = l; i && *i; i++) {
                bool quote = !**i || **i == '#' || strpbrk(*i, " \t");
                fprintf(f, quote ? " \"%s\"" : " %s", *i);
        }
}

void config_dump_unsigned(FILE *f, const ConfigKey *k, const void *field) {
        fprintf(f, " %u", *(const unsigned *) field);
}

void config_dump_mode(FILE *f, const ConfigKey *k, const void *field) {
        fprintf(f, " %04o", *(const unsigned *) field);
}

void config_dump_bool(FILE *f, const ConfigKey *k, const void *field) {
        fputs(*(const bool *) field ? " yes" : " no", f);
}

void config_dump_key_type(FILE *f, const ConfigKey *k, const void *field) {
        fprintf(f, " %s", strna(key_type_to_string(*(const KeyType *) field)));
}

void config_dump_challenge(FILE *f, const ConfigKey *k, const void *field) {
        fprintf(f, " %s", strna(challenge_type_to_string(*(const ChallengeType *) field)));
}

/* ---- sections ---- */

/* Print every key of `section` of the object at base, in table order. */
static void dump_section(FILE *f, unsigned section, const void *base) {
        for (size_t i = 0; i < config_n_keys; i++) {
                const ConfigKey *k = &config_keys[i];
                if (!(k->sections & section))
                        continue;
                fprintf(f, "%s =", k->name);
                k->dump(f, k, (const uint8_t *) base + k->offset);
                fputc('\n', f);
        }
}

/* A blank line, "# from FILE:LINE" with anything that would end the comment line made
 * harmless, and the section header "[type name]". */
static void dump_header(FILE *f, const char *type, const char *name, const char *file, unsigned line) {
        fputs("\n# from ", f);
        for (const char *s = file; s && *s; s++)
                fputc(is_control(*s) ? '?' : *s, f);
        fprintf(f, ":%u\n[%s %s]\n", line, type, name);
}

int config_dump(const Config *c, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!c || !ret)
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fputs("[daemon]\n", f);
        dump_section(f, SEC_DAEMON, c);
        for (size_t i = 0; i < c->n_cas; i++) {
                dump_header(f, "ca", c->cas[i].name, c->cas[i].file, c->cas[i].line);
                dump_section(f, SEC_CA, &c->cas[i]);
        }
        for (size_t i = 0; i < c->n_certs; i++) {
                dump_header(f, "certificate", c->certs[i].name, c->certs[i].file, c->certs[i].line);
                dump_section(f, SEC_CERT, &c->certs[i]);
        }

        if (ferror(f)) {
                fclose(f);
                return -ENOMEM;
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}
