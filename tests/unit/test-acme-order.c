/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <openssl/pem.h>

#include "acme-order.h"
#include "json.h"
#include "ssl-util.h"
#include "strv.h"
#include "test.h"

TEST(identifier_type) {
        static const struct {
                const char *identifier;
                const char *type;
        } cases[] = {
                { "example.com", "dns" },
                { "*.example.com", "dns" },
                { "xn--bcher-kva.example", "dns" },
                { "localhost", "dns" },
                { "192.0.2.1", "ip" },
                { "0.0.0.0", "ip" },
                { "255.255.255.255", "ip" },
                { "2001:db8::1", "ip" },
                { "::1", "ip" },
                { "::", "ip" },
                { "::ffff:192.0.2.1", "ip" },
                { "2001:0db8:0000:0000:0000:0000:0000:0001", "ip" },
                /* Not IP literals as ACME spells them. */
                { "[2001:db8::1]", "dns" },
                { "192.0.2", "dns" },
                { "192.0.2.256", "dns" },
                { "192.0.2.1.example", "dns" },
                { "1.2.3.4.5", "dns" },
                { "fe80::1%eth0", "dns" },
                { "2001:db8::1/64", "dns" },
                { "", "dns" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *t = acme_identifier_type(cases[i].identifier);
                if (!streq(t, cases[i].type))
                        fprintf(stderr, "%s\n", cases[i].identifier);
                CHECK_STR(t, cases[i].type);
        }
}

TEST(payload) {
        char *ids[] = { (char *) "example.com", (char *) "*.example.com", (char *) "192.0.2.1",
                        (char *) "2001:db8::1", NULL };
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        CHECK_INT(acme_order_payload(ids, NULL, NULL, &a), 0);
        CHECK_STR(a, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.com\"},"
                     "{\"type\":\"dns\",\"value\":\"*.example.com\"},"
                     "{\"type\":\"ip\",\"value\":\"192.0.2.1\"},"
                     "{\"type\":\"ip\",\"value\":\"2001:db8::1\"}]}");

        char *one[] = { (char *) "a.test", NULL };
        CHECK_INT(acme_order_payload(one, "shortlived", NULL, &b), 0);
        CHECK_STR(b, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],\"profile\":\"shortlived\"}");

        CHECK_INT(acme_order_payload(one, NULL, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", &c), 0);
        CHECK_STR(c, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],"
                     "\"replaces\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\"}");

        CHECK_INT(acme_order_payload(one, "classic", "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", &d), 0);
        CHECK_STR(d, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],\"profile\":\"classic\","
                     "\"replaces\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\"}");
}

TEST(payload_escaping) {
        /* Whatever the strings hold, the payload is JSON that reads back the same. */
        char *ids[] = { (char *) "we\"ird\\name\n.test", NULL };
        _cleanup_free_ char *s = NULL;
        _cleanup_json_ cJSON *j = NULL;
        const cJSON *arr, *first;
        const char *v;

        REQUIRE(acme_order_payload(ids, "p\"x", NULL, &s) == 0);
        REQUIRE(json_parse_object(s, strlen(s), &j) == 0);
        REQUIRE(json_get_array(j, "identifiers", &arr) == 0);
        REQUIRE(cJSON_GetArraySize(arr) == 1);
        first = cJSON_GetArrayItem(arr, 0);
        REQUIRE(json_get_string(first, "value", &v) == 0);
        CHECK_STR(v, "we\"ird\\name\n.test");
        REQUIRE(json_get_string(j, "profile", &v) == 0);
        CHECK_STR(v, "p\"x");
}

TEST(payload_empty) {
        char *none[] = { NULL };
        char *s = (char *) 0x1;

        CHECK_INT(acme_order_payload(none, NULL, NULL, &s), -EINVAL);
        CHECK_INT(acme_order_payload(NULL, "classic", "x", &s), -EINVAL);
        CHECK(s == (char *) 0x1);
}

/* ---------------------------------------------------------------- chains */

static EVP_PKEY *new_key(void) {
        return EVP_EC_gen("P-256");
}

/* A certificate for key with subject CN cn, issued by issuer (NULL: self-signed). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca, long serial) {
        _cleanup_(X509_freep) X509 *x = X509_new();
        X509_NAME *name;

        if (!x || !X509_set_version(x, X509_VERSION_3) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial))
                return NULL;
        if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) || !X509_gmtime_adj(X509_getm_notAfter(x), 86400))
                return NULL;
        name = X509_get_subject_name(x);
        if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *) "renewd test", -1, -1, 0) ||
            !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0))
                return NULL;
        if (!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
                return NULL;
        if (!X509_set_pubkey(x, key))
                return NULL;
        if (ca) {
                X509V3_CTX ctx;
                X509V3_set_ctx_nodb(&ctx);
                X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
                _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext =
                        X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
                if (!ext || !X509_add_ext(x, ext, -1))
                        return NULL;
        }
        if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
                return NULL;
        return TAKE_PTR(x);
}

/* Concatenated PEM of the given certificates (NULL-terminated list). */
static char *chain_pem(X509 *const *certs) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        char *data = NULL, *s;
        long n;

        if (!b)
                return NULL;
        for (X509 *const *c = certs; *c; c++)
                if (!PEM_write_bio_X509(b, *c))
                        return NULL;
        n = BIO_get_mem_data(b, &data);
        if (n <= 0)
                return NULL;
        s = strndup(data, (size_t) n);
        return s;
}

typedef struct Pki {
        EVP_PKEY *root_key, *root_b_key, *int_key, *leaf_key;
        X509 *root, *root_b, *cross, *intermediate, *leaf;
} Pki;

static void pki_done(Pki *p) {
        X509_free(p->root);
        X509_free(p->root_b);
        X509_free(p->cross);
        X509_free(p->intermediate);
        X509_free(p->leaf);
        EVP_PKEY_free(p->root_key);
        EVP_PKEY_free(p->root_b_key);
        EVP_PKEY_free(p->int_key);
        EVP_PKEY_free(p->leaf_key);
}

/* Root A → Intermediate X1 → leaf.test; and Root B, which cross-signs Root A (as ISRG
 * Root X1 was cross-signed by DST Root CA X3). */
static bool pki_make(Pki *p) {
        *p = (Pki) {};
        p->root_key = new_key();
        p->root_b_key = new_key();
        p->int_key = new_key();
        p->leaf_key = new_key();
        if (!p->root_key || !p->root_b_key || !p->int_key || !p->leaf_key)
                return false;
        p->root = make_cert("Root A", p->root_key, NULL, NULL, true, 1);
        p->root_b = make_cert("Root B", p->root_b_key, NULL, NULL, true, 2);
        if (!p->root || !p->root_b)
                return false;
        p->cross = make_cert("Root A", p->root_key, p->root_b, p->root_b_key, true, 3);
        p->intermediate = make_cert("Intermediate X1", p->int_key, p->root, p->root_key, true, 4);
        if (!p->cross || !p->intermediate)
                return false;
        p->leaf = make_cert("leaf.test", p->leaf_key, p->intermediate, p->int_key, false, 5);
        return p->leaf != NULL;
}

TEST(chain_matches) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *short_chain = NULL, *long_chain = NULL, *cross_chain = NULL, *leaf_only = NULL;

        REQUIRE(pki_make(&p));

        /* leaf, intermediate: the top is Intermediate X1, issued by Root A. */
        short_chain = chain_pem((X509 *[]) { p.leaf, p.intermediate, NULL });
        REQUIRE(short_chain);
        CHECK(acme_chain_matches(short_chain, strlen(short_chain), "Root A"));          /* issuer CN */
        CHECK(acme_chain_matches(short_chain, strlen(short_chain), "Intermediate X1")); /* subject CN */
        CHECK(!acme_chain_matches(short_chain, strlen(short_chain), "Root B"));
        CHECK(!acme_chain_matches(short_chain, strlen(short_chain), "leaf.test"));
        CHECK(!acme_chain_matches(short_chain, strlen(short_chain), "root a"));
        CHECK(!acme_chain_matches(short_chain, strlen(short_chain), "Root"));
        CHECK(!acme_chain_matches(short_chain, strlen(short_chain), "renewd test"));
        CHECK(!acme_chain_matches(short_chain, strlen(short_chain), ""));

        /* leaf, intermediate, Root A cross-signed by Root B: the alternate chain. */
        cross_chain = chain_pem((X509 *[]) { p.leaf, p.intermediate, p.cross, NULL });
        REQUIRE(cross_chain);
        CHECK(acme_chain_matches(cross_chain, strlen(cross_chain), "Root B"));
        CHECK(acme_chain_matches(cross_chain, strlen(cross_chain), "Root A"));
        CHECK(!acme_chain_matches(cross_chain, strlen(cross_chain), "Intermediate X1"));

        /* With the self-signed root on top, issuer and subject are both Root A. */
        long_chain = chain_pem((X509 *[]) { p.leaf, p.intermediate, p.root, NULL });
        REQUIRE(long_chain);
        CHECK(acme_chain_matches(long_chain, strlen(long_chain), "Root A"));
        CHECK(!acme_chain_matches(long_chain, strlen(long_chain), "Intermediate X1"));
        CHECK(!acme_chain_matches(long_chain, strlen(long_chain), "Root B"));

        /* Only len bytes count: cut after the intermediate, the top is Intermediate X1. */
        CHECK(acme_chain_matches(long_chain, strlen(short_chain), "Intermediate X1"));

        /* A lone leaf: its issuer may match, its own name never (it is no CA). */
        leaf_only = chain_pem((X509 *[]) { p.leaf, NULL });
        REQUIRE(leaf_only);
        CHECK(acme_chain_matches(leaf_only, strlen(leaf_only), "Intermediate X1"));
        CHECK(!acme_chain_matches(leaf_only, strlen(leaf_only), "leaf.test"));
}

TEST(chain_garbage) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *pem = NULL, *broken = NULL;

        CHECK(!acme_chain_matches("", 0, "Root A"));
        CHECK(!acme_chain_matches("not a certificate", 17, "Root A"));
        CHECK(!acme_chain_matches("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 58, "Root A"));

        REQUIRE(pki_make(&p));
        pem = chain_pem((X509 *[]) { p.leaf, p.intermediate, NULL });
        REQUIRE(pem);
        /* Truncated in the middle of the second certificate. */
        broken = strndup(pem, strlen(pem) - 100);
        REQUIRE(broken);
        CHECK(!acme_chain_matches(broken, strlen(broken), "Root A"));
        CHECK(!acme_chain_matches(broken, strlen(broken), "Intermediate X1"));
}

TEST_MAIN(T(identifier_type), T(payload), T(payload_escaping), T(payload_empty), T(chain_matches), T(chain_garbage))
