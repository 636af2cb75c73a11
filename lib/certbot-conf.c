/* SPDX-License-Identifier: MIT */
/* certbot's renewal configuration (configobj syntax, see certbot-conf.h): a line reader,
 * section headers, "key = value" with configobj's list and quoting rules, and lookups. */

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "certbot-conf.h"
#include "strv.h"

typedef struct Parser {
        CertbotConf *conf;
        size_t n_alloc;
        const char *pos, *end;  /* the text not read yet */
        unsigned line;          /* of the last line read */
        char *open[CERTBOT_CONF_DEPTH_MAX]; /* names of the open sections, outermost first */
        unsigned depth;
        char *path;             /* "" or the open sections joined by '/' */
        char *error;
} Parser;

static void parser_done(Parser *p) {
        certbot_conf_free(p->conf);
        for (unsigned i = 0; i < p->depth; i++)
                free(p->open[i]);
        free(p->path);
        free(p->error);
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static char *skip_blanks(char *s) {
        while (is_blank(*s))
                s++;
        return s;
}

static void strip_trailing_blanks(char *s) {
        size_t n = strlen(s);

        while (n > 0 && is_blank(s[n - 1]))
                s[--n] = 0;
}

/* Keep the first problem as "line N: message". Returns -EINVAL, or -ENOMEM. */
_printf_(3, 4) static int parser_error(Parser *p, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int n;

        if (p->error)
                return -EINVAL;
        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        if (asprintf(&p->error, "line %u: %s", line, msg) < 0) {
                p->error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

/* The next line, without "\n" or "\r\n", as a new string in *ret. Returns 1, 0 at the end
 * of the text, -EINVAL for a control character, -ENOMEM. */
static int parser_next_line(Parser *p, char **ret) {
        const char *nl;
        size_t n;
        char *s;

        if (p->pos >= p->end)
                return 0;
        nl = memchr(p->pos, '\n', (size_t) (p->end - p->pos));
        n = (size_t) ((nl ? nl : p->end) - p->pos);
        p->line++;
        s = strndup(p->pos, n);
        if (!s)
                return -ENOMEM;
        p->pos += n + (nl ? 1 : 0);
        if (n > 0 && s[n - 1] == '\r')
                s[--n] = 0;
        for (size_t i = 0; i < n; i++)
                if (((unsigned char) s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
                        unsigned c = (unsigned char) s[i];
                        free(s);
                        return parser_error(p, p->line, "control character 0x%02x", c);
                }
        *ret = s;
        return 1;
}

/* The path of section name inside parent ("" for the top level). NULL on ENOMEM. */
static char *section_path(const char *parent, const char *name) {
        char *s = NULL;

        if (asprintf(&s, "%s%s%s", parent, isempty(parent) ? "" : "/", name) < 0)
                return NULL;
        return s;
}

/* The path of the first n open sections. NULL on ENOMEM. */
static char *parser_open_path(Parser *p, unsigned n) {
        _cleanup_free_ char *path = strdup("");

        for (unsigned i = 0; path && i < n; i++) {
                char *next = section_path(path, p->open[i]);
                free(path);
                path = next;
        }
        return TAKE_PTR(path);
}

/* After a section name: one or more ']' (blanks between allowed), then only blanks and
 * maybe a comment. Returns the number of ']', or 0 if s is not such a tail. */
static unsigned header_tail(const char *s) {
        unsigned n = 0;

        for (;;) {
                while (is_blank(*s))
                        s++;
                if (*s != ']')
                        break;
                n++;
                s++;
        }
        return n > 0 && (*s == 0 || *s == '#') ? n : 0;
}

/* A section header: s starts with '['. Opens the section at its depth. */
static int parse_header(Parser *p, char *s) {
        _cleanup_free_ char *path = NULL, *parent = NULL, *name_copy = NULL;
        unsigned depth = 0, close = 0;
        char *name, *q;

        while (*s == '[') {
                depth++;
                s = skip_blanks(s + 1);
        }
        if (*s == '\'' || *s == '"') {
                q = strchr(s + 1, *s);
                if (!q)
                        return parser_error(p, p->line, "unterminated quote in a section header");
                *q = 0;
                name = s + 1;
                close = header_tail(q + 1);
                if (close == 0)
                        return parser_error(p, p->line, "unterminated section header");
                if (isempty(skip_blanks(name)))
                        return parser_error(p, p->line, "empty section name");
        } else {
                /* The name runs to the first point from which only closing brackets and
                 * maybe a comment follow, as configobj's non-greedy match does. */
                if (*s == 0)
                        return parser_error(p, p->line, "unterminated section header");
                for (q = s + 1; *q; q++) {
                        close = header_tail(q);
                        if (close > 0)
                                break;
                }
                if (close == 0)
                        return parser_error(p, p->line, "unterminated section header");
                *q = 0;
                name = s;
        }
        if (close != depth)
                return parser_error(p, p->line, "section header with %u '[' but %u ']'", depth, close);
        if (depth > p->depth + 1)
                return parser_error(p, p->line, "section [%s] is nested more deeply than the section above it", name);
        if (depth > CERTBOT_CONF_DEPTH_MAX)
                return parser_error(p, p->line, "sections nested more than %u deep", CERTBOT_CONF_DEPTH_MAX);

        name_copy = strdup(name);
        if (!name_copy)
                return -ENOMEM;
        while (p->depth >= depth) {
                p->depth--;
                p->open[p->depth] = mfree(p->open[p->depth]);
        }
        parent = parser_open_path(p, depth - 1);
        if (!parent)
                return -ENOMEM;
        path = section_path(parent, name);
        if (!path)
                return -ENOMEM;
        if (strv_contains(p->conf->sections, path))
                return parser_error(p, p->line, "section [%s] given twice", name);
        if (certbot_conf_find(p->conf, parent, name))
                return parser_error(p, p->line, "section [%s] has the name of a key above it", name);
        if (strv_extend(&p->conf->sections, path) < 0)
                return -ENOMEM;

        p->open[p->depth++] = TAKE_PTR(name_copy);
        free(p->path);
        p->path = TAKE_PTR(path);
        return 0;
}

/* A value in triple quotes, from v (which starts with them) over as many lines as it
 * takes; the lines are joined with '\n'. */
static int parse_triple_quoted(Parser *p, char *v, char **ret) {
        const char quote[4] = { v[0], v[0], v[0], 0 };
        _cleanup_free_ char *value = NULL;
        unsigned first = p->line;
        char *q, *tail;
        int r;

        value = strdup(v + 3);
        if (!value)
                return -ENOMEM;
        q = strstr(value, quote);
        while (!q) {
                _cleanup_free_ char *l = NULL, *joined = NULL;

                r = parser_next_line(p, &l);
                if (r < 0)
                        return r;
                if (r == 0)
                        return parser_error(p, first, "unterminated %s value", quote);
                if (asprintf(&joined, "%s\n%s", value, l) < 0)
                        return -ENOMEM;
                q = strstr(joined + strlen(value) + 1, quote);
                free(value);
                value = TAKE_PTR(joined);
        }
        *q = 0;
        tail = skip_blanks(q + 3);
        if (*tail != 0 && *tail != '#')
                return parser_error(p, p->line, "text after the closing %s", quote);
        *ret = TAKE_PTR(value);
        return 0;
}

/* A value: a scalar, or with a comma a list (configobj's list syntax). */
static int parse_value(Parser *p, char *v, char ***ret, bool *ret_is_list) {
        _cleanup_strv_free_ char **values = calloc(1, sizeof(char *));
        bool is_list = false;
        char *s = v;

        if (!values)
                return -ENOMEM;

        if (startswith(s, "'''") || startswith(s, "\"\"\"")) {
                char *text = NULL;
                int r = parse_triple_quoted(p, s, &text);
                if (r < 0)
                        return r;
                if (strv_consume(&values, text) < 0)
                        return -ENOMEM;
                *ret = TAKE_PTR(values);
                *ret_is_list = false;
                return 0;
        }

        if (*s == ',') {
                /* "," alone is the empty list. */
                s = skip_blanks(s + 1);
                if (*s != 0 && *s != '#')
                        return parser_error(p, p->line, "a list that starts with ','");
                *ret = TAKE_PTR(values);
                *ret_is_list = true;
                return 0;
        }

        for (;;) {
                char *item;

                s = skip_blanks(s);
                if (*s == 0 || *s == '#') {
                        /* The end, after a trailing comma or of an empty value. */
                        if (!is_list && strv_extend(&values, "") < 0)
                                return -ENOMEM;
                        break;
                }
                if (*s == '\'' || *s == '"') {
                        char *q = strchr(s + 1, *s);
                        if (!q)
                                return parser_error(p, p->line, "unterminated quote");
                        item = strndup(s + 1, (size_t) (q - s - 1));
                        s = skip_blanks(q + 1);
                } else {
                        /* Unquoted: up to a comma or a comment; quotes inside are text. */
                        size_t n = strcspn(s, ",#");
                        while (n > 0 && is_blank(s[n - 1]))
                                n--;
                        if (n == 0)
                                return parser_error(p, p->line, "empty item in a list");
                        item = strndup(s, n);
                        s += strcspn(s, ",#");
                }
                if (strv_consume(&values, item) < 0)
                        return -ENOMEM;
                if (*s == ',') {
                        is_list = true;
                        s++;
                        continue;
                }
                if (*s == 0 || *s == '#')
                        break;
                return parser_error(p, p->line, "text after a quoted value");
        }
        *ret = TAKE_PTR(values);
        *ret_is_list = is_list;
        return 0;
}

/* "key = value" (the key may be quoted) into the open section. */
static int parse_assignment(Parser *p, char *s) {
        _cleanup_strv_free_ char **values = NULL;
        _cleanup_free_ char *key = NULL, *section = NULL, *sub = NULL;
        const CertbotEntry *dup;
        unsigned line = p->line;
        bool is_list = false;
        char *v;
        int r;

        if (*s == '\'' || *s == '"') {
                char *q = strchr(s + 1, *s);
                if (!q)
                        return parser_error(p, line, "unterminated quote in a key");
                *q = 0;
                v = skip_blanks(q + 1);
                if (*v != '=')
                        return parser_error(p, line, "no '=' after the key");
                key = strdup(s + 1);
        } else {
                v = strchr(s, '=');
                if (!v)
                        return parser_error(p, line, "neither a section header, nor key = value, nor a comment");
                *v = 0;
                strip_trailing_blanks(s);
                key = strdup(s);
        }
        if (!key)
                return -ENOMEM;
        if (isempty(key))
                return parser_error(p, line, "empty key");

        dup = certbot_conf_find(p->conf, p->path, key);
        if (dup)
                return parser_error(p, line, "key %s given twice (first on line %u)", key, dup->line);
        sub = section_path(p->path, key);
        if (!sub)
                return -ENOMEM;
        if (strv_contains(p->conf->sections, sub))
                return parser_error(p, line, "key %s has the name of a section", key);

        r = parse_value(p, skip_blanks(v + 1), &values, &is_list);
        if (r < 0)
                return r;

        section = strdup(p->path);
        if (!section)
                return -ENOMEM;
        if (p->conf->n_entries == p->n_alloc) {
                size_t n = p->n_alloc ? p->n_alloc * 2 : 16;
                CertbotEntry *e = reallocarray(p->conf->entries, n, sizeof(CertbotEntry));
                if (!e)
                        return -ENOMEM;
                p->conf->entries = e;
                p->n_alloc = n;
        }
        p->conf->entries[p->conf->n_entries++] = (CertbotEntry) {
                .section = TAKE_PTR(section),
                .key = TAKE_PTR(key),
                .values = TAKE_PTR(values),
                .is_list = is_list,
                .line = line,
        };
        return 0;
}

int certbot_conf_parse(const char *text, size_t len, CertbotConf **ret, char **ret_error) {
        _cleanup_(parser_done) Parser p = {};
        int r;

        if ((!text && len > 0) || !ret)
                return -EINVAL;
        text = text ?: "";

        p.conf = calloc(1, sizeof(CertbotConf));
        p.path = strdup("");
        if (!p.conf || !p.path)
                return -ENOMEM;
        p.conf->sections = calloc(1, sizeof(char *));
        if (!p.conf->sections)
                return -ENOMEM;

        if (len > CERTBOT_CONF_SIZE_MAX) {
                r = parser_error(&p, 1, "larger than %u bytes", CERTBOT_CONF_SIZE_MAX);
                if (r == -EINVAL)
                        r = -E2BIG;
        } else if (memchr(text, 0, len)) {
                const char *nul = memchr(text, 0, len);
                unsigned line = 1;
                for (const char *i = text; i < nul; i++)
                        line += *i == '\n';
                r = parser_error(&p, line, "NUL byte");
        } else {
                p.pos = text;
                p.end = text + len;
                if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                        p.pos += 3;
                for (;;) {
                        _cleanup_free_ char *l = NULL;
                        char *s;

                        r = parser_next_line(&p, &l);
                        if (r <= 0)
                                break;
                        s = skip_blanks(l);
                        if (*s == 0 || *s == '#')
                                continue;
                        r = *s == '[' ? parse_header(&p, s) : parse_assignment(&p, s);
                        if (r < 0)
                                break;
                }
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(p.error);
                return r;
        }

        *ret = TAKE_PTR(p.conf);
        if (ret_error)
                *ret_error = NULL;
        return 0;
}

CertbotConf *certbot_conf_free(CertbotConf *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_entries; i++) {
                free(c->entries[i].section);
                free(c->entries[i].key);
                strv_free(c->entries[i].values);
        }
        free(c->entries);
        strv_free(c->sections);
        return mfree(c);
}

const CertbotEntry *certbot_conf_find(const CertbotConf *c, const char *section, const char *key) {
        if (!c || !section || !key)
                return NULL;
        for (size_t i = 0; i < c->n_entries; i++)
                if (streq(c->entries[i].section, section) && streq(c->entries[i].key, key))
                        return &c->entries[i];
        return NULL;
}

bool certbot_conf_has_section(const CertbotConf *c, const char *section) {
        return c && section && strv_contains(c->sections, section);
}

int certbot_conf_get_string(const CertbotConf *c, const char *section, const char *key, const char **ret) {
        const CertbotEntry *e = certbot_conf_find(c, section, key);

        if (!e)
                return -ENOENT;
        if (strv_length(e->values) != 1)
                return -EINVAL;
        *ret = e->values[0];
        return 0;
}

int certbot_conf_get_bool(const CertbotConf *c, const char *section, const char *key) {
        const char *v;
        int r;

        r = certbot_conf_get_string(c, section, key, &v);
        if (r < 0)
                return r;
        if (strcasecmp(v, "true") == 0)
                return 1;
        if (strcasecmp(v, "false") == 0)
                return 0;
        return -EINVAL;
}
