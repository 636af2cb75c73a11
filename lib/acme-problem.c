/* SPDX-License-Identifier: MIT */
/* Problem documents: parsing, classification and formatting. */

#include <stdio.h>

#include "acme-problem.h"
#include "json.h"
#include "strv.h"

#define ACME_MAX_SUBPROBLEMS 100
#define ACME_MAX_TEXT 1024

AcmeProblem *acme_problem_free(AcmeProblem *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_subproblems; i++) {
                free(p->subproblems[i].type);
                free(p->subproblems[i].detail);
                free(p->subproblems[i].identifier);
        }
        free(p->subproblems);
        free(p->type);
        free(p->detail);
        free(p);
        return NULL;
}

int acme_problem_new(const char *type, const char *detail, int status, AcmeProblem **ret) {
        _cleanup_(acme_problem_freep) AcmeProblem *p = calloc(1, sizeof *p);

        if (!p)
                return -ENOMEM;
        p->type = strdup(type ? type : "about:blank");
        if (!p->type)
                return -ENOMEM;
        if (detail) {
                p->detail = strndup(detail, ACME_MAX_TEXT);
                if (!p->detail)
                        return -ENOMEM;
        }
        p->status = status;
        *ret = TAKE_PTR(p);
        return 0;
}

/* Copy an optional string member, capped in length. */
static int dup_member(const cJSON *obj, const char *key, char **ret) {
        const char *s;
        int r = json_get_string(obj, key, &s);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = strndup(s, ACME_MAX_TEXT);
        return *ret ? 0 : -ENOMEM;
}

static int parse_identifier(const cJSON *sub, char **ret) {
        const cJSON *id;
        const char *type, *value;
        int r;

        r = json_get_object(sub, "identifier", &id);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        r = json_get_string(id, "type", &type);
        if (r < 0)
                return r == -ENOENT ? -EBADMSG : r;
        r = json_get_string(id, "value", &value);
        if (r < 0)
                return r == -ENOENT ? -EBADMSG : r;
        if (asprintf(ret, "%.64s:%.256s", type, value) < 0)
                return -ENOMEM;
        return 0;
}

int acme_problem_parse(const char *body, size_t len, int http_status, AcmeProblem **ret) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_(acme_problem_freep) AcmeProblem *p = NULL;
        const cJSON *subs;
        int64_t status;
        int r;

        r = json_parse_object(body, len, &j);
        if (r < 0)
                return r;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        r = dup_member(j, "type", &p->type);
        if (r < 0)
                return r;
        if (!p->type) {
                p->type = strdup("about:blank");
                if (!p->type)
                        return -ENOMEM;
        }
        r = dup_member(j, "detail", &p->detail);
        if (r < 0)
                return r;

        r = json_get_int64(j, "status", &status);
        if (r == -ENOENT)
                p->status = http_status;
        else if (r < 0)
                return r;
        else if (status < 100 || status > 599)
                return -EBADMSG;
        else
                p->status = (int) status;

        r = json_get_array(j, "subproblems", &subs);
        if (r >= 0) {
                int n = cJSON_GetArraySize(subs);
                if (n > ACME_MAX_SUBPROBLEMS)
                        n = ACME_MAX_SUBPROBLEMS;
                if (n > 0) {
                        p->subproblems = calloc((size_t) n, sizeof *p->subproblems);
                        if (!p->subproblems)
                                return -ENOMEM;
                }
                for (int i = 0; i < n; i++) {
                        const cJSON *sub = cJSON_GetArrayItem(subs, i);
                        AcmeSubproblem *s = &p->subproblems[p->n_subproblems];

                        if (!cJSON_IsObject(sub))
                                return -EBADMSG;
                        p->n_subproblems++;
                        r = dup_member(sub, "type", &s->type);
                        if (r < 0)
                                return r;
                        r = dup_member(sub, "detail", &s->detail);
                        if (r < 0)
                                return r;
                        r = parse_identifier(sub, &s->identifier);
                        if (r < 0)
                                return r;
                }
        } else if (r != -ENOENT)
                return r;

        *ret = TAKE_PTR(p);
        return 0;
}

static const char *short_type(const char *type) {
        if (type && strncmp(type, ACME_ERROR_PREFIX, strlen(ACME_ERROR_PREFIX)) == 0)
                return type + strlen(ACME_ERROR_PREFIX);
        return type;
}

const char *acme_problem_short_type(const AcmeProblem *p) {
        return short_type(p->type);
}

bool acme_problem_is(const AcmeProblem *p, const char *name) {
        if (!p || !p->type || strncmp(p->type, ACME_ERROR_PREFIX, strlen(ACME_ERROR_PREFIX)) != 0)
                return false;
        return streq(p->type + strlen(ACME_ERROR_PREFIX), name);
}

int acme_problem_to_errno(const AcmeProblem *p) {
        static const struct {
                const char *name;
                int error;
        } table[] = {
                { "badNonce", -EAGAIN },
                { "accountDoesNotExist", -ENOENT },
                { "unauthorized", -EACCES },
                { "externalAccountRequired", -EACCES },
                { "userActionRequired", -EACCES },
                { "rejectedIdentifier", -EACCES },
                { "rateLimited", -EBUSY },
                { "alreadyReplaced", -EEXIST },
                { "alreadyRevoked", -EEXIST },
                { "malformed", -EINVAL },
                { "badCSR", -EINVAL },
                { "badPublicKey", -EINVAL },
                { "badSignatureAlgorithm", -EINVAL },
                { "badRevocationReason", -EINVAL },
                { "invalidContact", -EINVAL },
                { "unsupportedContact", -EINVAL },
                { "unsupportedIdentifier", -EINVAL },
                { "invalidProfile", -EINVAL },
                { "orderNotReady", -EBUSY },
                { "serverInternal", -EIO },
                { "connection", -ENOLINK },
                { "dns", -ENOLINK },
                { "tls", -ENOLINK },
                { "incorrectResponse", -ENOLINK },
                { "caa", -EACCES },
                { "compound", -ENOLINK },
        };

        if (!p)
                return -EPROTO;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (acme_problem_is(p, table[i].name))
                        return table[i].error;
        return -EPROTO;
}

/* Append text to a growing buffer, replacing control characters with '?': C0, DEL, and
 * the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F; U+009B is a terminal CSI). */
static int append_clean(char **buf, size_t *len, const char *s) {
        size_t n = strlen(s), k = *len;
        char *b = realloc(*buf, *len + n + 1);
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == 0xc2 && i + 1 < n && (unsigned char) s[i + 1] >= 0x80 && (unsigned char) s[i + 1] <= 0x9f) {
                        b[k++] = '?';
                        i++;
                } else
                        b[k++] = (c < 0x20 || c == 0x7f) ? '?' : s[i];
        }
        *len = k;
        b[*len] = 0;
        *buf = b;
        return 0;
}

char *acme_problem_format(const AcmeProblem *p) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        char status[32];

        if (append_clean(&buf, &len, short_type(p->type)) < 0)
                return NULL;
        if (p->detail && (append_clean(&buf, &len, ": ") < 0 || append_clean(&buf, &len, p->detail) < 0))
                return NULL;
        if (p->status > 0) {
                snprintf(status, sizeof status, " (HTTP %d)", p->status);
                if (append_clean(&buf, &len, status) < 0)
                        return NULL;
        }
        for (size_t i = 0; i < p->n_subproblems; i++) {
                const AcmeSubproblem *s = &p->subproblems[i];
                if (append_clean(&buf, &len, i == 0 ? "; " : ", ") < 0)
                        return NULL;
                if (s->identifier && (append_clean(&buf, &len, s->identifier) < 0 || append_clean(&buf, &len, ": ") < 0))
                        return NULL;
                if (append_clean(&buf, &len, s->type ? short_type(s->type) : "problem") < 0)
                        return NULL;
                if (s->detail && (append_clean(&buf, &len, ": ") < 0 || append_clean(&buf, &len, s->detail) < 0))
                        return NULL;
        }
        return TAKE_PTR(buf);
}
