/* SPDX-License-Identifier: MIT */
/* The INI line reader: one file's text, line by line, into the Parser. It knows the
 * syntax (section headers, "key = value", comments, double quotes, the size limits) and
 * which object each section fills; what a value means is left to the key table. */

#include "config-internal.h"
#include "store.h"
#include "strv.h"

/* Trim blanks at both ends, in place. */
char *config_strip(char *s) {
        size_t n;

        while (is_blank(*s))
                s++;
        n = strlen(s);
        while (n > 0 && is_blank(s[n - 1]))
                s[--n] = 0;
        return s;
}

/* Cut a comment — '#' at the start of the value or after a blank, outside double
 * quotes — and the blanks around what is left, in place. -EINVAL on an unterminated
 * double quote. */
int config_value_lex(char *s, char **ret) {
        bool quoted = false;

        for (char *i = s; *i; i++) {
                if (*i == '"')
                        quoted = !quoted;
                else if (*i == '#' && !quoted && (i == s || is_blank(i[-1]))) {
                        *i = 0;
                        break;
                }
        }
        if (quoted)
                return -EINVAL;
        *ret = config_strip(s);
        return 0;
}

/* A scalar value in double quotes is the exact text between them; there are no escapes,
 * so a quoted value cannot itself contain a quote. -EINVAL on text after the closing
 * quote. */
int config_value_unquote(char *s, char **ret) {
        char *end;

        if (s[0] != '"') {
                *ret = s;
                return 0;
        }
        end = strchr(s + 1, '"');
        if (!end || end[1] != 0)
                return -EINVAL;
        *end = 0;
        *ret = s + 1;
        return 0;
}

/* Split on blanks; double quotes group (and are removed). An empty string gives an empty
 * list. -EINVAL on an unterminated quote. */
int config_split_words(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (;;) {
                _cleanup_free_ char *w = NULL;
                bool quoted = false;
                size_t n = 0;

                while (is_blank(*s))
                        s++;
                if (!*s)
                        break;
                w = malloc(strlen(s) + 1);
                if (!w)
                        return -ENOMEM;
                for (; *s && (quoted || !is_blank(*s)); s++) {
                        if (*s == '"')
                                quoted = !quoted;
                        else
                                w[n++] = *s;
                }
                if (quoted)
                        return -EINVAL;
                w[n] = 0;
                if (strv_consume(&l, TAKE_PTR(w)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- sections ---- */

static int parser_open_unnamed(Parser *p, unsigned section, unsigned *seen_line) {
        if (*seen_line)
                return parser_error(p, "%s: duplicate section, first at line %u", p->section_label, *seen_line);
        *seen_line = p->line;
        p->section = section;
        return 0;
}

static int parser_open_ca(Parser *p, const char *name) {
        const CaConfig *old = config_find_ca(p->config, name);
        CaConfig *n;
        int r;

        if (old)
                return parser_error(p, "%s: duplicate section, first at %s:%u", p->section_label, old->file, old->line);

        n = realloc(p->config->cas, (p->config->n_cas + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->config->cas = n;
        n = &p->config->cas[p->config->n_cas++];
        *n = (CaConfig) { .line = p->line };
        if (!(n->name = strdup(name)) || !(n->file = strdup(p->files[p->file])))
                return -ENOMEM;
        r = config_section_init(p, SEC_CA, n);
        if (r < 0)
                return r;

        p->ca = (KeyLines) {};
        p->section = SEC_CA;
        p->section_index = p->config->n_cas - 1;
        return 0;
}

static int parser_open_cert(Parser *p, const char *name) {
        const CertConfig *old = config_find_cert(p->config, name);
        CertConfig *n;
        CertState *s;
        size_t count = p->config->n_certs;
        int r;

        if (old)
                return parser_error(p, "%s: duplicate section, first at %s:%u", p->section_label, old->file, old->line);

        s = realloc(p->certs, (count + 1) * sizeof *s);
        if (!s)
                return -ENOMEM;
        p->certs = s;
        p->certs[count] = (CertState) { .file = p->file };

        n = realloc(p->config->certs, (count + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->config->certs = n;
        n = &p->config->certs[p->config->n_certs++];
        *n = (CertConfig) { .line = p->line };
        if (!(n->name = strdup(name)) || !(n->file = strdup(p->files[p->file])))
                return -ENOMEM;
        r = config_section_init(p, SEC_CERT, n);
        if (r < 0)
                return r;

        p->section = SEC_CERT;
        p->section_index = count;
        return 0;
}

/* "[name]" or "[type NAME]" (s starts at '['). Whatever goes wrong, the section's body
 * is skipped so that one mistake in a header does not bring an error for every key. */
static int parser_section(Parser *p, char *s) {
        char *end = strchr(s, ']'), *rest, *type, *name;
        int r;

        r = parser_close_section(p);
        if (r < 0)
                return r;
        p->section = SEC_SKIP;
        p->section_line = p->line;

        if (!end)
                return parser_error(p, "section header without closing ']'");
        *end = 0;
        if (config_value_lex(end + 1, &rest) < 0 || *rest)
                return parser_error(p, "unexpected text after section header [%s]", s + 1);

        type = config_strip(s + 1);
        name = type + strcspn(type, " \t");
        if (*name) {
                *name++ = 0;
                name = config_strip(name);
        }

        if (streq(type, "daemon") || streq(type, "defaults")) {
                if (*name)
                        return parser_error(p, "[%s %s]: [%s] takes no name", type, name, type);
                snprintf(p->section_label, sizeof p->section_label, "[%s]", type);
        } else if (streq(type, "ca") || streq(type, "certificate")) {
                if (!*name)
                        return parser_error(p, "[%s]: needs a name, as in [%s NAME]", type, type);
                if (!store_name_is_valid(name))
                        return parser_error(p,
                                            "[%s %.64s]: invalid name ([A-Za-z0-9._-], not starting with '.', at most 64)",
                                            type, name);
                snprintf(p->section_label, sizeof p->section_label, "[%s %s]", type, name);
        } else
                return parser_error(p, "unknown section [%.64s%s%.64s] (known: daemon, ca NAME, defaults, certificate NAME)",
                                    type, *name ? " " : "", name);

        if (p->dropin && !streq(type, "certificate"))
                return parser_error(p, "%s: not allowed in a drop-in file, only [certificate NAME] sections are",
                                    p->section_label);
        if (streq(type, "daemon"))
                return parser_open_unnamed(p, SEC_DAEMON, &p->daemon_line);
        if (streq(type, "defaults"))
                return parser_open_unnamed(p, SEC_DEFAULTS, &p->defaults_line);
        if (streq(type, "ca"))
                return parser_open_ca(p, name);
        return parser_open_cert(p, name);
}

/* The key lines of the open section, and the object its offsets apply to. */
static KeyLines *parser_current(Parser *p, void **ret_base) {
        switch (p->section) {
        case SEC_DAEMON:
                *ret_base = p->config;
                return &p->daemon;
        case SEC_CA:
                *ret_base = &p->config->cas[p->section_index];
                return &p->ca;
        case SEC_DEFAULTS:
                *ret_base = &p->defaults_cert;
                return &p->defaults;
        case SEC_CERT:
                *ret_base = &p->config->certs[p->section_index];
                return &p->certs[p->section_index].keys;
        default:
                return NULL;
        }
}

/* ---- lines ---- */

static bool key_name_is_valid(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!is_lower_alnum(*s) && *s != '_')
                        return false;
        return true;
}

/* One line, without its newline. Returns 0, -EINVAL (reported) or -ENOMEM. */
static int parser_line(Parser *p, char *line) {
        char *s = config_strip(line), *eq, *key, *value;
        _cleanup_free_ char *raw = NULL;
        KeyLines *keys;
        void *base;
        size_t i;
        int r;

        if (!*s || *s == '#')
                return 0;
        if (*s == '[')
                return parser_section(p, s);

        eq = strchr(s, '=');
        if (!eq)
                return parser_error(p, "expected \"key = value\" or \"[section]\", not \"%.64s\"", s);
        *eq = 0;
        key = config_strip(s);
        if (!key_name_is_valid(key))
                return parser_error(p, "\"%.64s\" is not a key name", key);
        if (p->section == 0)
                return parser_error(p, "%s: outside of a section (put it under [daemon], [ca NAME], [defaults] or [certificate NAME])",
                                    key);
        if (p->section == SEC_SKIP)
                return 0;

        i = config_key_index(p->section, key);
        if (i == SIZE_MAX)
                return parser_error(p, "%s: unknown key in %s", key, p->section_label);
        keys = parser_current(p, &base);
        if (keys->line[i])
                return parser_error(p, "%s: set twice in %s, first at line %u", key, p->section_label, keys->line[i]);
        keys->line[i] = p->line;

        if (config_value_lex(eq + 1, &value) < 0) {
                keys->bad[i] = true;
                return parser_error(p, "%s: unterminated double quote", key);
        }
        if (p->section == SEC_DEFAULTS && !(raw = strdup(value)))
                return -ENOMEM;

        r = parser_assign(p, i, value, base);
        if (r == -EINVAL)
                keys->bad[i] = true;
        if (r < 0)
                return r;
        if (raw)
                p->defaults_raw[i] = TAKE_PTR(raw);
        return 0;
}

static bool has_control_chars(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (is_control(s[i]) && s[i] != '\t')
                        return true;
        return false;
}

/* Read one file's text into the parser. Returns 0 (problems are recorded) or -ENOMEM. */
int parser_feed(Parser *p, const char *filename, const char *text, size_t len, bool dropin) {
        char buf[CONFIG_LINE_MAX + 1];
        size_t pos = 0;
        int r;

        if (strv_extend(&p->files, filename) < 0)
                return -ENOMEM;
        p->file = strv_length(p->files) - 1;
        p->line = 0;
        p->dropin = dropin;
        p->section = 0;

        if (len > CONFIG_FILE_SIZE_MAX) {
                r = parser_error_at(p, p->file, 0, "larger than %u bytes", CONFIG_FILE_SIZE_MAX);
                return r == -ENOMEM ? r : 0;
        }
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
                pos = 3;

        while (pos < len) {
                const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
                size_t n = nl ? (size_t) (nl - start) : len - pos;

                pos += n + 1;
                p->line++;
                if (n > 0 && start[n - 1] == '\r')
                        n--;
                if (n > CONFIG_LINE_MAX)
                        r = parser_error(p, "line longer than %u bytes", CONFIG_LINE_MAX);
                else if (has_control_chars(start, n))
                        r = parser_error(p, "line contains control characters or a NUL byte");
                else {
                        memcpy(buf, start, n);
                        buf[n] = 0;
                        r = parser_line(p, buf);
                        explicit_bzero(buf, n); /* eab_hmac_key */
                }
                if (r == -ENOMEM)
                        return r;
        }

        r = parser_close_section(p);
        return r == -ENOMEM ? r : 0;
}
