/* SPDX-License-Identifier: MIT */
/* The Varlink wire codec: framing, strict call/reply parsing, message building, parameter
 * dispatch, org.varlink.service. No I/O and no logging; see varlink.h for the rules. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "varlink.h"

#define VARLINK_NAME_MAX 255U

/* What a reader allocates at least, and what it keeps allocated while empty. */
#define READER_ALLOC_MIN 4096U
#define READER_KEEP_MAX (64U * 1024U)

/* Largest magnitude at which every integer is exactly representable in a double (2^53). */
#define INT_EXACT_MAX 9007199254740992.0

const char varlink_service_interface_description[] =
        "# The interface every Varlink service implements: what the service is and which\n"
        "# interfaces it offers.\n"
        "interface org.varlink.service\n"
        "\n"
        "# Vendor, product, version and URL of the service, and the names of the interfaces\n"
        "# it implements.\n"
        "method GetInfo() -> (\n"
        "  vendor: string,\n"
        "  product: string,\n"
        "  version: string,\n"
        "  url: string,\n"
        "  interfaces: []string\n"
        ")\n"
        "\n"
        "# The description, in Varlink IDL, of one interface the service implements.\n"
        "method GetInterfaceDescription(interface: string) -> (description: string)\n"
        "\n"
        "# The service does not implement the interface.\n"
        "error InterfaceNotFound (interface: string)\n"
        "\n"
        "# The service does not know the method.\n"
        "error MethodNotFound (method: string)\n"
        "\n"
        "# The interface defines the method, but the service does not implement it.\n"
        "error MethodNotImplemented (method: string)\n"
        "\n"
        "# A parameter is unknown, missing, or of the wrong type or value.\n"
        "error InvalidParameter (parameter: string)\n"
        "\n"
        "# The caller may not call the method.\n"
        "error PermissionDenied ()\n"
        "\n"
        "# The method has to be called with \"more\" set.\n"
        "error ExpectedMore ()\n";

/* ---- Names ---- */

static bool ascii_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_alnum(char c) {
        return ascii_alpha(c) || (c >= '0' && c <= '9');
}

/* The interface name in the n bytes at s (see varlink_interface_name_is_valid()). */
static bool interface_name_valid_n(const char *s, size_t n) {
        size_t labels = 1;
        bool label_start = true;

        if (n == 0 || n > VARLINK_NAME_MAX || !ascii_alpha(s[0]))
                return false;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.') {
                        /* No empty label, no label ending in a dash. */
                        if (label_start || s[i - 1] == '-')
                                return false;
                        labels++;
                        label_start = true;
                } else if (c == '-') {
                        if (label_start)
                                return false;
                } else if (ascii_alnum(c))
                        label_start = false;
                else
                        return false;
        }

        return !label_start && s[n - 1] != '-' && labels >= 2;
}

bool varlink_interface_name_is_valid(const char *name) {
        return name && interface_name_valid_n(name, strlen(name));
}

bool varlink_method_name_is_valid(const char *name) {
        const char *dot;
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n > VARLINK_NAME_MAX)
                return false;

        dot = strrchr(name, '.');
        if (!dot)
                return false;

        /* The member: an upper-case letter, then letters and digits. */
        if (!(dot[1] >= 'A' && dot[1] <= 'Z'))
                return false;
        for (const char *c = dot + 2; *c; c++)
                if (!ascii_alnum(*c))
                        return false;

        return interface_name_valid_n(name, (size_t) (dot - name));
}

/* ---- Framing ---- */

struct VarlinkReader {
        char *buf;
        size_t allocated;
        size_t start;           /* first byte held */
        size_t end;             /* past the last byte held */
        size_t pending;         /* bytes at the end without a NUL (the incomplete message) */
        size_t max_size;
        int pending_error;      /* to report once the complete messages before it are out */
        int error;              /* the reader is broken */
};

int varlink_reader_new(size_t max_size, VarlinkReader **ret) {
        VarlinkReader *r;

        if (!ret)
                return -EINVAL;
        if (max_size == 0)
                max_size = VARLINK_MESSAGE_SIZE_DEFAULT;
        if (max_size < 3 || max_size > VARLINK_MESSAGE_SIZE_LIMIT)
                return -EINVAL;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->max_size = max_size;

        *ret = r;
        return 0;
}

VarlinkReader *varlink_reader_free(VarlinkReader *r) {
        if (!r)
                return NULL;
        free(r->buf);
        return mfree(r);
}

static void reader_release(VarlinkReader *r) {
        r->buf = mfree(r->buf);
        r->allocated = r->start = r->end = r->pending = 0;
}

static int reader_break(VarlinkReader *r, int error) {
        reader_release(r);
        r->pending_error = 0;
        r->error = error;
        return error;
}

/* Make room for n more bytes after end. */
static int reader_reserve(VarlinkReader *r, size_t n) {
        size_t used = r->end - r->start, want;
        char *b;

        if (r->allocated - r->end >= n)
                return 0;

        if (r->start > 0 && r->allocated - used >= n) {
                memmove(r->buf, r->buf + r->start, used);
                r->start = 0;
                r->end = used;
                return 0;
        }

        if (n > SIZE_MAX - used)
                return -ENOMEM;
        want = used + n;
        if (want < READER_ALLOC_MIN)
                want = READER_ALLOC_MIN;
        if (r->allocated <= SIZE_MAX / 2 && want < r->allocated * 2)
                want = r->allocated * 2;

        /* A new buffer rather than realloc(): only the bytes still held are worth copying. */
        b = malloc(want);
        if (!b)
                return -ENOMEM;
        if (used > 0)
                memcpy(b, r->buf + r->start, used);
        free(r->buf);
        r->buf = b;
        r->allocated = want;
        r->start = 0;
        r->end = used;
        return 0;
}

int varlink_reader_feed(VarlinkReader *r, const void *data, size_t len) {
        const char *p = data;
        size_t accept = 0, pending;
        bool overflow = false;
        int k;

        if (!r || (!data && len > 0))
                return -EINVAL;
        if (r->error != 0 || r->pending_error != 0)
                return 0;       /* the stream is lost; next() says why */

        /* Walk the new bytes message by message and stop at the first one over the cap, so
         * that nothing of it is kept: a message is over the cap once it has max_size bytes
         * without a NUL (the NUL would make max_size + 1). */
        pending = r->pending;
        while (accept < len) {
                const char *z = memchr(p + accept, 0, len - accept);
                size_t seg = z ? (size_t) (z - (p + accept)) + 1 : len - accept;

                if (z) {
                        if (seg > r->max_size - pending) {
                                overflow = true;
                                break;
                        }
                        pending = 0;
                } else {
                        if (seg >= r->max_size - pending) {
                                overflow = true;
                                break;
                        }
                        pending += seg;
                }
                accept += seg;
        }

        k = reader_reserve(r, accept);
        if (k < 0)
                return k;
        if (accept > 0)
                memcpy(r->buf + r->end, p, accept);
        r->end += accept;
        r->pending = pending;

        if (overflow) {
                /* Drop the beginning of the oversized message that is already in. */
                r->end -= r->pending;
                r->pending = 0;
                r->pending_error = -E2BIG;
        }
        return 0;
}

int varlink_reader_next(VarlinkReader *r, cJSON **ret) {
        _cleanup_json_ cJSON *j = NULL;
        const char *b, *z;
        size_t complete, n;
        int k;

        if (!r || !ret)
                return -EINVAL;
        if (r->error != 0)
                return r->error;

        complete = r->end - r->pending - r->start;
        if (complete == 0) {
                if (r->pending_error != 0)
                        return reader_break(r, r->pending_error);
                return 0;
        }

        b = r->buf + r->start;
        z = memchr(b, 0, complete);
        if (!z)
                return reader_break(r, -EPROTO);        /* cannot happen: complete ends in a NUL */
        n = (size_t) (z - b);

        k = json_parse_object(b, n, &j);
        if (k == -ENOMEM)
                return k;       /* the message stays; try again */
        if (k < 0)
                /* Empty, not JSON, not strict JSON, not an object. */
                return reader_break(r, -EBADMSG);

        r->start += n + 1;
        if (r->start == r->end) {
                r->start = r->end = 0;
                if (r->allocated > READER_KEEP_MAX)
                        reader_release(r);
        }

        *ret = TAKE_PTR(j);
        return 1;
}

size_t varlink_reader_buffered(const VarlinkReader *r) {
        return r ? r->end - r->start : 0;
}

size_t varlink_reader_pending(const VarlinkReader *r) {
        return r ? r->pending : 0;
}

int varlink_reader_error(const VarlinkReader *r) {
        return r ? r->error : -EINVAL;
}

/* ---- Parsing ---- */

/* Sort the members of obj into values[] by keys[] (n of them). Unknown and duplicate keys
 * are -EBADMSG. Members that are null are stored too (so that a duplicate is noticed);
 * the callers treat them as absent. */
static int object_members(const cJSON *obj, const char *const *keys, size_t n, const cJSON **values) {
        const cJSON *e;

        if (!cJSON_IsObject(obj))
                return -EBADMSG;

        for (size_t i = 0; i < n; i++)
                values[i] = NULL;

        cJSON_ArrayForEach(e, obj) {
                size_t i;

                if (!e->string)
                        return -EBADMSG;
                for (i = 0; i < n; i++)
                        if (streq(e->string, keys[i]))
                                break;
                if (i >= n || values[i])
                        return -EBADMSG;
                values[i] = e;
        }
        return 0;
}

static bool member_absent(const cJSON *v) {
        return !v || cJSON_IsNull(v);
}

/* An optional boolean: absent or null is false. */
static int member_bool(const cJSON *v, bool *ret) {
        if (member_absent(v)) {
                *ret = false;
                return 0;
        }
        if (!cJSON_IsBool(v))
                return -EBADMSG;
        *ret = cJSON_IsTrue(v);
        return 0;
}

/* Parameters: absent, null or an object, always returned as a new object. */
static int member_parameters(const cJSON *v, cJSON **ret) {
        cJSON *p;

        if (member_absent(v))
                p = cJSON_CreateObject();
        else if (cJSON_IsObject(v))
                p = cJSON_Duplicate(v, /* recurse= */ true);
        else
                return -EBADMSG;
        if (!p)
                return -ENOMEM;

        *ret = p;
        return 0;
}

enum { CALL_METHOD, CALL_PARAMETERS, CALL_MORE, CALL_ONEWAY, CALL_UPGRADE, _CALL_MAX };

int varlink_call_parse(const cJSON *message, VarlinkCall *ret) {
        static const char *const keys[_CALL_MAX] = {
                [CALL_METHOD] = "method",
                [CALL_PARAMETERS] = "parameters",
                [CALL_MORE] = "more",
                [CALL_ONEWAY] = "oneway",
                [CALL_UPGRADE] = "upgrade",
        };
        const cJSON *v[_CALL_MAX];
        _cleanup_json_ cJSON *parameters = NULL;
        _cleanup_free_ char *method = NULL;
        bool more, oneway, upgrade;
        int k;

        if (!message || !ret)
                return -EINVAL;

        k = object_members(message, keys, _CALL_MAX, v);
        if (k < 0)
                return k;

        if (!cJSON_IsString(v[CALL_METHOD]) || !varlink_method_name_is_valid(v[CALL_METHOD]->valuestring))
                return -EBADMSG;
        if (member_bool(v[CALL_MORE], &more) < 0 ||
            member_bool(v[CALL_ONEWAY], &oneway) < 0 ||
            member_bool(v[CALL_UPGRADE], &upgrade) < 0)
                return -EBADMSG;
        /* "more" asks for several replies, "oneway" for none, "upgrade" for exactly one. */
        if ((more && oneway) || (upgrade && (more || oneway)))
                return -EBADMSG;

        k = member_parameters(v[CALL_PARAMETERS], &parameters);
        if (k < 0)
                return k;

        method = strdup(v[CALL_METHOD]->valuestring);
        if (!method)
                return -ENOMEM;

        *ret = (VarlinkCall) {
                .method = TAKE_PTR(method),
                .parameters = TAKE_PTR(parameters),
                .more = more,
                .oneway = oneway,
                .upgrade = upgrade,
        };
        return 0;
}

void varlink_call_done(VarlinkCall *c) {
        if (!c)
                return;
        c->method = mfree(c->method);
        cJSON_Delete(c->parameters);
        c->parameters = NULL;
        c->more = c->oneway = c->upgrade = false;
}

enum { REPLY_PARAMETERS, REPLY_ERROR, REPLY_CONTINUES, _REPLY_MAX };

int varlink_reply_parse(const cJSON *message, bool more, VarlinkReply *ret) {
        static const char *const keys[_REPLY_MAX] = {
                [REPLY_PARAMETERS] = "parameters",
                [REPLY_ERROR] = "error",
                [REPLY_CONTINUES] = "continues",
        };
        const cJSON *v[_REPLY_MAX];
        _cleanup_json_ cJSON *parameters = NULL;
        _cleanup_free_ char *error = NULL;
        bool continues;
        int k;

        if (!message || !ret)
                return -EINVAL;

        k = object_members(message, keys, _REPLY_MAX, v);
        if (k < 0)
                return k;

        if (!member_absent(v[REPLY_ERROR]) &&
            (!cJSON_IsString(v[REPLY_ERROR]) || !varlink_method_name_is_valid(v[REPLY_ERROR]->valuestring)))
                return -EBADMSG;
        if (member_bool(v[REPLY_CONTINUES], &continues) < 0)
                return -EBADMSG;
        /* Only a call with "more" gets several replies, and an error is always the last. */
        if (continues && (!more || !member_absent(v[REPLY_ERROR])))
                return -EBADMSG;

        k = member_parameters(v[REPLY_PARAMETERS], &parameters);
        if (k < 0)
                return k;

        if (!member_absent(v[REPLY_ERROR])) {
                error = strdup(v[REPLY_ERROR]->valuestring);
                if (!error)
                        return -ENOMEM;
        }

        *ret = (VarlinkReply) {
                .parameters = TAKE_PTR(parameters),
                .error = TAKE_PTR(error),
                .continues = continues,
        };
        return 0;
}

void varlink_reply_done(VarlinkReply *r) {
        if (!r)
                return;
        cJSON_Delete(r->parameters);
        r->parameters = NULL;
        r->error = mfree(r->error);
        r->continues = false;
}

/* ---- Building ---- */

/* Add parameters (NULL for {}) to msg without copying them. */
static int add_parameters(cJSON *msg, const cJSON *parameters) {
        cJSON *p;

        if (parameters && !cJSON_IsObject(parameters))
                return -EINVAL;

        p = parameters ? cJSON_CreateObjectReference(parameters->child) : cJSON_CreateObject();
        if (!p)
                return -ENOMEM;
        if (!cJSON_AddItemToObject(msg, "parameters", p)) {
                cJSON_Delete(p);
                return -ENOMEM;
        }
        return 0;
}

static int add_true(cJSON *msg, const char *key) {
        return cJSON_AddTrueToObject(msg, key) ? 0 : -ENOMEM;
}

/* The text of msg and its NUL, which cJSON writes anyway: that is the frame. */
static int message_finish(const cJSON *msg, char **ret, size_t *ret_len) {
        char *s;

        s = json_print(msg);
        if (!s)
                return -ENOMEM;

        *ret = s;
        *ret_len = strlen(s) + 1;
        return 0;
}

int varlink_call_build(const char *method, const cJSON *parameters, bool more, bool oneway,
                       char **ret, size_t *ret_len) {
        _cleanup_json_ cJSON *msg = NULL;
        int k;

        if (!ret || !ret_len || !varlink_method_name_is_valid(method) || (more && oneway))
                return -EINVAL;
        if (parameters && !cJSON_IsObject(parameters))
                return -EINVAL;

        msg = cJSON_CreateObject();
        if (!msg || !cJSON_AddStringToObject(msg, "method", method))
                return -ENOMEM;
        k = add_parameters(msg, parameters);
        if (k < 0)
                return k;
        if (more && (k = add_true(msg, "more")) < 0)
                return k;
        if (oneway && (k = add_true(msg, "oneway")) < 0)
                return k;

        return message_finish(msg, ret, ret_len);
}

int varlink_reply(const cJSON *parameters, bool continues, char **ret, size_t *ret_len) {
        _cleanup_json_ cJSON *msg = NULL;
        int k;

        if (!ret || !ret_len)
                return -EINVAL;
        if (parameters && !cJSON_IsObject(parameters))
                return -EINVAL;

        msg = cJSON_CreateObject();
        if (!msg)
                return -ENOMEM;
        k = add_parameters(msg, parameters);
        if (k < 0)
                return k;
        if (continues && (k = add_true(msg, "continues")) < 0)
                return k;

        return message_finish(msg, ret, ret_len);
}

int varlink_error(const char *error_name, const cJSON *parameters, char **ret, size_t *ret_len) {
        _cleanup_json_ cJSON *msg = NULL;
        int k;

        if (!ret || !ret_len || !varlink_method_name_is_valid(error_name))
                return -EINVAL;
        if (parameters && !cJSON_IsObject(parameters))
                return -EINVAL;

        msg = cJSON_CreateObject();
        if (!msg || !cJSON_AddStringToObject(msg, "error", error_name))
                return -ENOMEM;
        k = add_parameters(msg, parameters);
        if (k < 0)
                return k;

        return message_finish(msg, ret, ret_len);
}

/* An error whose parameters are one string. */
static int error_with_string(const char *error_name, const char *key, const char *value,
                             char **ret, size_t *ret_len) {
        _cleanup_json_ cJSON *p = NULL;

        if (!value)
                return -EINVAL;

        p = cJSON_CreateObject();
        if (!p || !cJSON_AddStringToObject(p, key, value))
                return -ENOMEM;

        return varlink_error(error_name, p, ret, ret_len);
}

int varlink_error_invalid_parameter(const char *name, char **ret, size_t *ret_len) {
        return error_with_string(VARLINK_ERROR_INVALID_PARAMETER, "parameter", name, ret, ret_len);
}

int varlink_error_method_not_found(const char *method, char **ret, size_t *ret_len) {
        return error_with_string(VARLINK_ERROR_METHOD_NOT_FOUND, "method", method, ret, ret_len);
}

/* ---- Parameter dispatch ---- */

/* An integral number of magnitude up to 2^53 (cJSON only keeps a double: beyond that the
 * value the peer wrote is not known exactly). The range test fails for NaN too. */
static bool number_to_int64(const cJSON *v, int64_t *ret) {
        double d;
        int64_t i;

        if (!cJSON_IsNumber(v))
                return false;
        d = v->valuedouble;
        if (!(d >= -INT_EXACT_MAX && d <= INT_EXACT_MAX))
                return false;
        i = (int64_t) d;
        if ((double) i != d)
                return false;
        *ret = i;
        return true;
}

static bool value_has_type(const cJSON *v, VarlinkFieldType type) {
        const cJSON *e;
        int64_t i;

        switch (type) {
        case VARLINK_FIELD_STRING:
                return cJSON_IsString(v) && v->valuestring;
        case VARLINK_FIELD_BOOL:
                return cJSON_IsBool(v);
        case VARLINK_FIELD_INT64:
                return number_to_int64(v, &i);
        case VARLINK_FIELD_STRV:
                if (!cJSON_IsArray(v))
                        return false;
                cJSON_ArrayForEach(e, v)
                        if (!cJSON_IsString(e) || !e->valuestring)
                                return false;
                return true;
        case VARLINK_FIELD_OBJECT:
                return cJSON_IsObject(v);
        default:
                return false;
        }
}

static void strvs_free(char ***strvs, size_t n) {
        if (!strvs)
                return;
        for (size_t i = 0; i < n; i++)
                strv_free(strvs[i]);
        free(strvs);
}

int varlink_dispatch(const cJSON *parameters, const VarlinkField *table, size_t n, void *target,
                     const char **reterr_field) {
        char ***strvs = NULL;
        const cJSON *e;
        bool any_strv = false;

        if (!parameters || (!table && n > 0) || !target)
                return -EINVAL;
        if (!cJSON_IsObject(parameters))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (!table[i].name || (unsigned) table[i].type >= _VARLINK_FIELD_TYPE_MAX)
                        return -EINVAL;
                any_strv = any_strv || table[i].type == VARLINK_FIELD_STRV;
        }

#define BAD(name)                               \
        do {                                    \
                if (reterr_field)               \
                        *reterr_field = (name); \
                return -EBADMSG;                \
        } while (0)

        /* Every key known, given once, of the right type (or null). */
        cJSON_ArrayForEach(e, parameters) {
                size_t i;

                if (!e->string)
                        return -EBADMSG;
                for (i = 0; i < n; i++)
                        if (streq(e->string, table[i].name))
                                break;
                if (i >= n)
                        BAD(e->string);
                /* The members before e are all known and distinct, so this is O(n) each. */
                for (const cJSON *p = parameters->child; p && p != e; p = p->next)
                        if (p->string && streq(p->string, e->string))
                                BAD(table[i].name);
                if (!member_absent(e) && !value_has_type(e, table[i].type))
                        BAD(table[i].name);
        }

        for (size_t i = 0; i < n; i++)
                if (table[i].required &&
                    member_absent(cJSON_GetObjectItemCaseSensitive(parameters, table[i].name)))
                        BAD(table[i].name);
#undef BAD

        /* Copy what needs copying before anything is stored, so that ENOMEM stores nothing. */
        if (any_strv) {
                strvs = calloc(n, sizeof(char **));
                if (!strvs)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        const cJSON *v = cJSON_GetObjectItemCaseSensitive(parameters, table[i].name);

                        if (table[i].type != VARLINK_FIELD_STRV || member_absent(v))
                                continue;
                        if (json_get_strv(parameters, table[i].name, &strvs[i]) < 0) {
                                strvs_free(strvs, n);
                                return -ENOMEM;
                        }
                }
        }

        for (size_t i = 0; i < n; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(parameters, table[i].name);
                void *p = (uint8_t *) target + table[i].offset;

                if (member_absent(v))
                        continue;

                switch (table[i].type) {
                case VARLINK_FIELD_STRING:
                        *(const char **) p = v->valuestring;
                        break;
                case VARLINK_FIELD_BOOL:
                        *(bool *) p = cJSON_IsTrue(v);
                        break;
                case VARLINK_FIELD_INT64:
                        (void) number_to_int64(v, (int64_t *) p);
                        break;
                case VARLINK_FIELD_STRV:
                        strv_free(*(char ***) p);
                        *(char ***) p = TAKE_PTR(strvs[i]);
                        break;
                case VARLINK_FIELD_OBJECT:
                        *(const cJSON **) p = v;
                        break;
                default:
                        break;
                }
        }

        strvs_free(strvs, n);
        return 0;
}

/* ---- org.varlink.service ---- */

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int varlink_get_info_build(const char *vendor, const char *product, const char *version, const char *url,
                           char *const *interfaces, cJSON **ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_json_ cJSON *o = NULL;
        cJSON *a;
        size_t n = 0;

        if (!vendor || !product || !version || !url || !ret)
                return -EINVAL;

        for (char *const *i = interfaces; i && *i; i++) {
                if (!varlink_interface_name_is_valid(*i))
                        return -EINVAL;
                if (!strv_contains(l, *i) && strv_extend(&l, *i) < 0)
                        return -ENOMEM;
        }
        if (!strv_contains(l, VARLINK_SERVICE_INTERFACE) && strv_extend(&l, VARLINK_SERVICE_INTERFACE) < 0)
                return -ENOMEM;

        n = strv_length(l);
        qsort(l, n, sizeof(char *), strcmp_ptr);

        o = cJSON_CreateObject();
        if (!o ||
            !cJSON_AddStringToObject(o, "vendor", vendor) ||
            !cJSON_AddStringToObject(o, "product", product) ||
            !cJSON_AddStringToObject(o, "version", version) ||
            !cJSON_AddStringToObject(o, "url", url))
                return -ENOMEM;

        a = cJSON_AddArrayToObject(o, "interfaces");
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                cJSON *s = cJSON_CreateString(l[i]);

                if (!s)
                        return -ENOMEM;
                if (!cJSON_AddItemToArray(a, s)) {
                        cJSON_Delete(s);
                        return -ENOMEM;
                }
        }

        *ret = TAKE_PTR(o);
        return 0;
}
