/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to json_parse_object() and, when they parse, runs every typed
 * getter over the members ACME objects (directory, account, order, authorization,
 * challenge, problem document) carry, including nested ones. Checks invariants the rest of
 * renewd relies on: what parses can be printed and parsed again, strings never hold
 * invalid UTF-8, and getters either succeed or fail with the documented errors. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "json.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const member_names[] = {
        /* order, authorization, challenge */
        "status", "expires", "identifiers", "identifier", "authorizations", "finalize", "certificate",
        "challenges", "wildcard", "type", "url", "token", "validated", "error", "notBefore", "notAfter",
        /* account */
        "contact", "termsOfServiceAgreed", "orders", "onlyReturnExisting", "externalAccountBinding",
        /* directory */
        "newNonce", "newAccount", "newOrder", "revokeCert", "keyChange", "meta", "termsOfService",
        "website", "caaIdentities", "externalAccountRequired", "profiles", "renewalInfo",
        /* problem document, ARI */
        "detail", "instance", "subproblems", "value", "suggestedWindow", "start", "end",
        "explanationURL",
        /* odd ones */
        "", "\xc3\xa9",
};

/* An error the getters are documented to return. */
static void check_error(int r) {
        if (r < 0 && r != -ENOENT && r != -EBADMSG)
                abort();
}

/* Exercise every getter on every known member of obj, recursing into objects and arrays of
 * objects down to depth levels. */
static void visit(const cJSON *obj, unsigned depth) {
        for (size_t i = 0; i < sizeof member_names / sizeof member_names[0]; i++) {
                const char *key = member_names[i], *s = NULL;
                const cJSON *o = NULL, *a = NULL, *e;
                char **l = NULL;
                int64_t n = 0;
                bool b = false;
                int r;

                r = json_get_string(obj, key, &s);
                check_error(r);
                if (r >= 0) {
                        if (!s)
                                abort();
                        /* Tokens and nonces are base64url; decoding any string must be safe. */
                        uint8_t *d = NULL;
                        size_t dl = 0;
                        if (b64url_decode(s, strlen(s), &d, &dl) >= 0 && d[dl] != 0)
                                abort();
                        free(d);
                        (void) b64url_is_valid(s, 1024);
                }

                check_error(json_get_bool(obj, key, &b));
                check_error(json_get_int64(obj, key, &n));

                r = json_get_strv(obj, key, &l);
                check_error(r);
                if (r >= 0 && !l)
                        abort();
                strv_free(l);

                r = json_get_object(obj, key, &o);
                check_error(r);
                if (r >= 0 && depth > 0)
                        visit(o, depth - 1);

                r = json_get_array(obj, key, &a);
                check_error(r);
                if (r >= 0 && depth > 0)
                        cJSON_ArrayForEach(e, a)
                                if (cJSON_IsObject(e))
                                        visit(e, depth - 1);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_json_ cJSON *j = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        r = json_parse_object((const char *) data, size, &j);
        if (r < 0) {
                if (r != -EBADMSG && r != -E2BIG && r != -ENOMEM)
                        abort();
                return 0;
        }

        visit(j, 4);

        /* What was accepted prints, and the printed form is accepted again (unless printing
         * grew it past the size limit: "9e15" prints as sixteen digits). */
        text = json_print(j);
        if (!text)
                return 0;       /* ENOMEM */
        r = json_parse_object(text, strlen(text), &again);
        if (r < 0 && r != -E2BIG && r != -ENOMEM)
                abort();
        return 0;
}
