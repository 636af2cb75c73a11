/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the Varlink codec as a control-socket client would send them:
 * through a reader in chunks of varying size, each message parsed as a call and as a
 * reply, and what parses rebuilt and parsed again. The reader is checked against a
 * simple model of the framing (split at NULs, cap, json_parse_object()), so a message
 * over the cap that gets through, a message lost or made up, or a buffer that grows past
 * the cap aborts.
 *
 * Input: byte 0 picks the cap and the chunk pattern, the rest is the stream. */

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "varlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t caps[] = { 3, 16, 64, 256, 4096, VARLINK_MESSAGE_SIZE_DEFAULT };

/* True if every number in j is finite: cJSON prints others as null, which would make a
 * rebuilt message differ from the original for a reason that is not the codec's. */
static bool all_finite(const cJSON *j) {
        const cJSON *e;

        if (cJSON_IsNumber(j))
                return isfinite(j->valuedouble);
        cJSON_ArrayForEach(e, j)
                if (!all_finite(e))
                        return false;
        return true;
}

/* The same tree, member by member in order (cJSON_Compare() looks members up by name, so
 * it calls two copies of an object with a duplicate key different). The names of a and b
 * themselves do not matter. Numbers are compared exactly, or, after a trip through
 * cJSON's printer (which writes 15 significant digits when that reads back within one
 * unit in the last place), within that. */
static bool same_json(const cJSON *a, const cJSON *b, bool exact) {
        const cJSON *x, *y;

        if ((a->type & 0xff) != (b->type & 0xff))
                return false;
        if (cJSON_IsString(a))
                return streq_ptr(a->valuestring, b->valuestring);
        if (cJSON_IsNumber(a)) {
                double d = a->valuedouble, e = b->valuedouble, diff, m;

                if (exact)
                        return d == e;
                /* By hand: this target is not linked with libm. */
                diff = d > e ? d - e : e - d;
                m = d < 0 ? -d : d;
                if ((e < 0 ? -e : e) > m)
                        m = e < 0 ? -e : e;
                return diff <= m * DBL_EPSILON;
        }
        for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
                if (!streq_ptr(x->string, y->string) || !same_json(x, y, exact))
                        return false;
        return !x && !y;
}

/* One complete frame of text out of a reader that just got it, or NULL. */
static cJSON *reparse(const char *buf, size_t len) {
        VarlinkReader *r = NULL;
        cJSON *j = NULL;

        if (len == 0 || buf[len - 1] != 0 || strlen(buf) != len - 1)
                abort();        /* a built message is one frame, NUL at the end only */
        if (varlink_reader_new(VARLINK_MESSAGE_SIZE_LIMIT, &r) < 0)
                abort();
        if (varlink_reader_feed(r, buf, len) < 0)
                abort();
        if (varlink_reader_next(r, &j) != 1)
                abort();
        if (varlink_reader_buffered(r) != 0)
                abort();
        varlink_reader_free(r);
        return j;
}

typedef struct Params {
        const char *name;
        bool force;
        int64_t count;
        char **domains;
        const cJSON *extra;
} Params;

static const VarlinkField table[] = {
        { "name",    VARLINK_FIELD_STRING, true,  offsetof(Params, name) },
        { "force",   VARLINK_FIELD_BOOL,   false, offsetof(Params, force) },
        { "count",   VARLINK_FIELD_INT64,  false, offsetof(Params, count) },
        { "domains", VARLINK_FIELD_STRV,   false, offsetof(Params, domains) },
        { "extra",   VARLINK_FIELD_OBJECT, false, offsetof(Params, extra) },
};

static void fuzz_dispatch(const cJSON *parameters) {
        Params p = { .count = -1 };
        const char *bad = NULL;
        int k;

        k = varlink_dispatch(parameters, table, ELEMENTSOF(table), &p, &bad);
        if (k == 0) {
                if (!p.name || (p.extra && !cJSON_IsObject(p.extra)))
                        abort();
                (void) strv_length(p.domains);
                strv_free(p.domains);
        } else if (k == -EBADMSG) {
                if (!bad)
                        abort();
                /* Nothing stored. */
                if (p.name || p.domains || p.extra || p.count != -1 || p.force)
                        abort();
        } else if (k != -ENOMEM)
                abort();
}

static void fuzz_call(const cJSON *m) {
        VarlinkCall c = {}, c2 = {};
        char *buf = NULL;
        size_t len = 0;
        cJSON *again;
        int k;

        k = varlink_call_parse(m, &c);
        if (k < 0) {
                if (k != -EBADMSG && k != -ENOMEM)
                        abort();
                if (c.method || c.parameters)
                        abort();
                return;
        }

        if (!varlink_method_name_is_valid(c.method) || !cJSON_IsObject(c.parameters))
                abort();
        if ((c.more && c.oneway) || (c.upgrade && (c.more || c.oneway)))
                abort();

        fuzz_dispatch(c.parameters);

        /* Rebuild (there is no builder for upgrade) and parse again: the same call. */
        if (!c.upgrade && all_finite(c.parameters)) {
                if (varlink_call_build(c.method, c.parameters, c.more, c.oneway, &buf, &len) < 0)
                        abort();
                again = reparse(buf, len);
                if (varlink_call_parse(again, &c2) < 0)
                        abort();
                if (!streq(c.method, c2.method) || c.more != c2.more || c.oneway != c2.oneway || c2.upgrade ||
                    !same_json(c.parameters, c2.parameters, false))
                        abort();
                varlink_call_done(&c2);
                cJSON_Delete(again);
                free(buf);
        }

        varlink_call_done(&c);
}

static void fuzz_reply(const cJSON *m, bool more) {
        VarlinkReply r = {}, r2 = {};
        char *buf = NULL;
        size_t len = 0;
        cJSON *again;
        int k;

        k = varlink_reply_parse(m, more, &r);
        if (k < 0) {
                if (k != -EBADMSG && k != -ENOMEM)
                        abort();
                if (r.error || r.parameters)
                        abort();
                return;
        }

        if (!cJSON_IsObject(r.parameters))
                abort();
        if (r.continues && (!more || r.error))
                abort();
        if (r.error && !varlink_method_name_is_valid(r.error))
                abort();

        if (all_finite(r.parameters)) {
                if (r.error)
                        k = varlink_error(r.error, r.parameters, &buf, &len);
                else
                        k = varlink_reply(r.parameters, r.continues, &buf, &len);
                if (k < 0)
                        abort();
                again = reparse(buf, len);
                if (varlink_reply_parse(again, more, &r2) < 0)
                        abort();
                if (!streq_ptr(r.error, r2.error) || r.continues != r2.continues ||
                    !same_json(r.parameters, r2.parameters, false))
                        abort();
                varlink_reply_done(&r2);
                cJSON_Delete(again);
                free(buf);
        }

        varlink_reply_done(&r);
}

/* What the reader must produce for the stream: the messages before the first bad frame,
 * then that frame's error; or all messages and 0. */
typedef struct Model {
        cJSON **messages;
        size_t n;
        int error;
} Model;

static void model_build(const uint8_t *s, size_t size, size_t cap, Model *m) {
        size_t i = 0;

        *m = (Model) {};
        m->messages = calloc(size + 1, sizeof(cJSON *));
        if (!m->messages)
                abort();

        while (i < size) {
                const uint8_t *z = memchr(s + i, 0, size - i);
                size_t n = z ? (size_t) (z - (s + i)) : size - i;
                cJSON *j = NULL;

                if (!z) {
                        /* Unterminated: refused once it reaches the cap, else waiting. */
                        if (n >= cap)
                                m->error = -E2BIG;
                        return;
                }
                if (n + 1 > cap) {
                        m->error = -E2BIG;
                        return;
                }
                if (json_parse_object((const char *) s + i, n, &j) < 0) {
                        m->error = -EBADMSG;
                        return;
                }
                m->messages[m->n++] = j;
                i += n + 1;
        }
}

static void model_free(Model *m) {
        for (size_t i = 0; i < m->n; i++)
                cJSON_Delete(m->messages[i]);
        free(m->messages);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        VarlinkReader *r = NULL;
        Model model;
        size_t cap, pos = 0, got = 0;
        uint32_t state;
        int error = 0;

        if (size < 1 || size > 256 * 1024)
                return 0;

        cap = caps[data[0] % ELEMENTSOF(caps)];
        state = data[0] * 2654435761U + 1;
        data++;
        size--;

        model_build(data, size, cap, &model);

        if (varlink_reader_new(cap, &r) < 0)
                abort();

        while (pos < size && error == 0) {
                size_t chunk;

                /* Chunks of 1 to 64 bytes, or now and then a big one. */
                state = state * 1103515245U + 12345U;
                chunk = (state >> 16) % 64 + 1;
                if (((state >> 8) & 15) == 0)
                        chunk *= 512;
                if (chunk > size - pos)
                        chunk = size - pos;

                if (varlink_reader_feed(r, data + pos, chunk) < 0)
                        abort();
                pos += chunk;

                /* The incomplete message stays under the cap, and nothing but it and
                 * complete messages is held. */
                if (varlink_reader_pending(r) >= cap || varlink_reader_pending(r) > varlink_reader_buffered(r))
                        abort();

                for (;;) {
                        cJSON *m = NULL;
                        int k = varlink_reader_next(r, &m);

                        if (k == 0)
                                break;
                        if (k < 0) {
                                if (k != -E2BIG && k != -EBADMSG)
                                        abort();
                                if (varlink_reader_buffered(r) != 0 || varlink_reader_error(r) != k)
                                        abort();
                                error = k;
                                break;
                        }
                        if (!cJSON_IsObject(m))
                                abort();
                        if (got >= model.n || !same_json(m, model.messages[got], true))
                                abort();
                        got++;

                        fuzz_call(m);
                        fuzz_reply(m, false);
                        fuzz_reply(m, true);
                        cJSON_Delete(m);
                }
                /* With nothing left to take out, only the incomplete message is held. */
                if (error == 0 && varlink_reader_buffered(r) != varlink_reader_pending(r))
                        abort();
        }

        if (got != model.n || error != model.error)
                abort();

        varlink_reader_free(r);
        model_free(&model);
        return 0;
}
