/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (!l)
                return 0;
        while (l[n])
                n++;
        return n;
}

int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **m;

        if (!s)
                return -ENOMEM;
        m = realloc(*l, sizeof(char *) * (n + 2));
        if (!m) {
                free(s);
                return -ENOMEM;
        }
        m[n] = s;
        m[n + 1] = NULL;
        *l = m;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s));
}

bool strv_contains(char *const *l, const char *s) {
        if (!l)
                return false;
        for (char *const *i = l; *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}

char **strv_copy(char *const *l) {
        _cleanup_strv_free_ char **c = calloc(1, sizeof(char *));

        if (!c)
                return NULL;
        for (char *const *i = l; i && *i; i++)
                if (strv_extend(&c, *i) < 0)
                        return NULL;
        return TAKE_PTR(c);
}

char *strv_join(char *const *l, const char *sep) {
        size_t len = 1, seplen = strlen(sep);
        char *r, *p;

        for (char *const *i = l; i && *i; i++)
                len += strlen(*i) + seplen;
        r = p = malloc(len);
        if (!r)
                return NULL;
        for (char *const *i = l; i && *i; i++) {
                if (i != l) {
                        memcpy(p, sep, seplen);
                        p += seplen;
                }
                size_t k = strlen(*i);
                memcpy(p, *i, k);
                p += k;
        }
        *p = 0;
        return r;
}

int strv_split_whitespace(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (;;) {
                while (*s && isspace((unsigned char) *s))
                        s++;
                if (!*s)
                        break;
                const char *e = s;
                while (*e && !isspace((unsigned char) *e))
                        e++;
                if (strv_consume(&l, strndup(s, e - s)) < 0)
                        return -ENOMEM;
                s = e;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

bool strv_equal_unordered(char *const *a, char *const *b) {
        if (strv_length(a) != strv_length(b))
                return false;
        for (char *const *i = a; i && *i; i++)
                if (!strv_contains(b, *i))
                        return false;
        for (char *const *i = b; i && *i; i++)
                if (!strv_contains(a, *i))
                        return false;
        return true;
}

char **strv_remove(char **l, const char *s) {
        char **w = l;

        if (!l)
                return NULL;
        for (char **r = l; *r; r++) {
                if (streq(*r, s))
                        free(*r);
                else
                        *w++ = *r;
        }
        *w = NULL;
        return l;
}
