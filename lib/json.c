/* SPDX-License-Identifier: MIT */
/* Strict parsing and typed member access on top of cJSON.
 *
 * cJSON is lenient where ACME responses come from an untrusted network: it takes any bytes
 * inside strings and turns a "\u0000" escape into a silently truncated C string. The text
 * is therefore checked first (UTF-8, no NUL, no raw control characters or \u0000 in
 * strings), and cJSON only has to deal with the structure. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "strv.h"
#include "utf8.h"

#define JSON_SIZE_MAX (16U * 1024U * 1024U)

/* Largest magnitude at which every integer is exactly representable in a double (2^53). */
#define JSON_INT_EXACT_MAX 9007199254740992.0

/* Check what cJSON does not: the text is UTF-8 without NUL bytes, and strings hold no raw
 * control characters and no \u0000 escape. Only the string boundaries are tracked; the
 * grammar is left to cJSON (outside strings a backslash is a syntax error anyway).
 * Returns 0 or -EBADMSG. */
static int json_text_check(const uint8_t *p, size_t len) {
        bool in_string = false;

        for (size_t i = 0; i < len;) {
                uint8_t c = p[i];

                if (c >= 0x80) {
                        size_t k = utf8_sequence_length(p + i, len - i);
                        if (k == 0)
                                return -EBADMSG;
                        i += k;
                        continue;
                }
                if (c == 0)
                        return -EBADMSG;
                if (in_string) {
                        if (c < 0x20)
                                return -EBADMSG;
                        if (c == '"')
                                in_string = false;
                        else if (c == '\\') {
                                if (i + 1 >= len)
                                        return -EBADMSG;
                                if (p[i + 1] == 'u' && len - i >= 6 && memcmp(p + i + 2, "0000", 4) == 0)
                                        return -EBADMSG;
                                i += 2;
                                continue;
                        }
                } else if (c == '"')
                        in_string = true;
                i++;
        }
        return 0;
}

int json_parse_object(const char *buf, size_t len, cJSON **ret) {
        _cleanup_free_ char *copy = NULL;
        _cleanup_json_ cJSON *j = NULL;
        const char *end = NULL;
        int r;

        if (!ret || (!buf && len > 0))
                return -EINVAL;
        if (len > JSON_SIZE_MAX)
                return -E2BIG;

        r = json_text_check((const uint8_t *) buf, len);
        if (r < 0)
                return r;

        /* Parse a NUL-terminated copy: cJSON only refuses trailing garbage reliably that
         * way, and its length-bounded parser has read past the end of unterminated input
         * before (a string ending in a backslash). */
        copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        if (len > 0)
                memcpy(copy, buf, len);
        copy[len] = '\0';

        j = cJSON_ParseWithOpts(copy, &end, /* require_null_terminated= */ true);
        if (!j)
                /* cJSON reports allocation failures and syntax errors alike. */
                return -EBADMSG;
        if (!cJSON_IsObject(j))
                return -EBADMSG;

        *ret = TAKE_PTR(j);
        return 0;
}

/* Look key up in obj (case-sensitively, as JSON member names are). Returns 0 with the
 * member, -ENOENT if absent or null, -EBADMSG if obj is not an object. */
static int json_member(const cJSON *obj, const char *key, const cJSON **ret) {
        const cJSON *m;

        if (!obj || !key || !ret)
                return -EINVAL;
        if (!cJSON_IsObject(obj))
                return -EBADMSG;

        m = cJSON_GetObjectItemCaseSensitive(obj, key);
        if (!m || cJSON_IsNull(m))
                return -ENOENT;

        *ret = m;
        return 0;
}

int json_get_string(const cJSON *obj, const char *key, const char **ret) {
        const cJSON *m = NULL;
        int r;

        r = json_member(obj, key, &m);
        if (r < 0)
                return r;
        if (!cJSON_IsString(m) || !m->valuestring)
                return -EBADMSG;

        *ret = m->valuestring;
        return 0;
}

int json_get_bool(const cJSON *obj, const char *key, bool *ret) {
        const cJSON *m = NULL;
        int r;

        r = json_member(obj, key, &m);
        if (r < 0)
                return r;
        if (!cJSON_IsBool(m))
                return -EBADMSG;

        *ret = cJSON_IsTrue(m);
        return 0;
}

int json_get_int64(const cJSON *obj, const char *key, int64_t *ret) {
        const cJSON *m = NULL;
        int64_t v;
        double d;
        int r;

        r = json_member(obj, key, &m);
        if (r < 0)
                return r;
        if (!cJSON_IsNumber(m))
                return -EBADMSG;

        /* cJSON keeps only the double: beyond 2^53 the text's value is no longer known
         * exactly, so such numbers are refused rather than silently rounded. The range
         * test is written so that NaN fails it too. */
        d = m->valuedouble;
        if (!(d >= -JSON_INT_EXACT_MAX && d <= JSON_INT_EXACT_MAX))
                return -EBADMSG;
        v = (int64_t) d;
        if ((double) v != d)
                return -EBADMSG;        /* not integral */

        *ret = v;
        return 0;
}

int json_get_object(const cJSON *obj, const char *key, const cJSON **ret) {
        const cJSON *m = NULL;
        int r;

        r = json_member(obj, key, &m);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(m))
                return -EBADMSG;

        *ret = m;
        return 0;
}

int json_get_array(const cJSON *obj, const char *key, const cJSON **ret) {
        const cJSON *m = NULL;
        int r;

        r = json_member(obj, key, &m);
        if (r < 0)
                return r;
        if (!cJSON_IsArray(m))
                return -EBADMSG;

        *ret = m;
        return 0;
}

int json_get_strv(const cJSON *obj, const char *key, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const cJSON *a = NULL, *e;
        size_t n = 0, i = 0;
        int r;

        r = json_get_array(obj, key, &a);
        if (r < 0)
                return r;

        cJSON_ArrayForEach(e, a) {
                if (!cJSON_IsString(e) || !e->valuestring)
                        return -EBADMSG;
                n++;
        }

        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        cJSON_ArrayForEach(e, a) {
                l[i] = strdup(e->valuestring);
                if (!l[i])
                        return -ENOMEM;
                i++;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

char *json_print(const cJSON *obj) {
        if (!obj)
                return NULL;
        return cJSON_PrintUnformatted(obj);
}
