/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64url.h"
#include "csr.h"
#include "ssl-util.h"
#include "test.h"

static inline void sk_X509_EXTENSION_pop_freep(STACK_OF(X509_EXTENSION) **s) {
        if (*s)
                sk_X509_EXTENSION_pop_free(*s, X509_EXTENSION_free);
}

static EVP_PKEY *ec_key(void) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* Generate a CSR for ids with key and parse the DER back; NULL (and a failed check) if
 * either step fails. */
static X509_REQ *make_req(EVP_PKEY *key, char *const *ids) {
        _cleanup_free_ unsigned char *der = NULL;
        const unsigned char *p;
        size_t len = 0;
        X509_REQ *req;
        int r;

        r = csr_generate_der(key, ids, &der, &len);
        CHECK_INT(r, 0);
        if (r < 0)
                return NULL;
        p = der;
        req = d2i_X509_REQ(NULL, &p, (long) len);
        CHECK(req);
        CHECK(p == der + len);
        return req;
}

/* The SANs of req; *ret_critical tells whether the extension was marked critical. */
static GENERAL_NAMES *req_sans(X509_REQ *req, int *ret_critical) {
        _cleanup_(sk_X509_EXTENSION_pop_freep) STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
        int i;

        if (!exts)
                return NULL;
        i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
        if (i < 0)
                return NULL;
        /* Exactly one SAN extension. */
        CHECK(X509v3_get_ext_by_NID(exts, NID_subject_alt_name, i) < 0);
        *ret_critical = X509_EXTENSION_get_critical(sk_X509_EXTENSION_value(exts, i));
        return X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i));
}

/* Whether gn is a dNSName of exactly these bytes. */
static bool gn_is_dns(const GENERAL_NAME *gn, const char *name) {
        int type;
        const ASN1_STRING *s = GENERAL_NAME_get0_value(gn, &type);

        return type == GEN_DNS && (size_t) ASN1_STRING_length(s) == strlen(name) &&
               memcmp(ASN1_STRING_get0_data(s), name, strlen(name)) == 0;
}

/* Whether gn is an iPAddress holding the binary form of ip. */
static bool gn_is_ip(const GENERAL_NAME *gn, const char *ip) {
        unsigned char addr[16];
        size_t alen;
        int type;
        const ASN1_STRING *s = GENERAL_NAME_get0_value(gn, &type);

        if (inet_pton(AF_INET, ip, addr) == 1)
                alen = 4;
        else if (inet_pton(AF_INET6, ip, addr) == 1)
                alen = 16;
        else
                return false;

        return type == GEN_IPADD && (size_t) ASN1_STRING_length(s) == alen &&
               memcmp(ASN1_STRING_get0_data(s), addr, alen) == 0;
}

/* The subject's CN (NUL-terminated copy), or NULL; *ret_entries is the entry count. */
static char *req_cn(X509_REQ *req, int *ret_entries) {
        X509_NAME *name = X509_REQ_get_subject_name(req);
        char buf[256];

        *ret_entries = X509_NAME_entry_count(name);
        if (X509_NAME_get_text_by_NID(name, NID_commonName, buf, sizeof buf) < 0)
                return NULL;
        return strdup(buf);
}

/* Full check of a CSR made with key: signature, version, algorithm, CN and SANs. */
static void check_csr(EVP_PKEY *key, int sig_nid) {
        char *ids[] = { "example.com", "www.example.com", "192.0.2.1", "2001:db8::1",
                        "*.example.org", NULL };
        _cleanup_(X509_REQ_freep) X509_REQ *req = NULL;
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *sans = NULL;
        _cleanup_free_ char *cn = NULL;
        int critical = -1, entries = -1;

        REQUIRE(req = make_req(key, ids));
        CHECK_INT(X509_REQ_get_version(req), 0);
        CHECK_INT(X509_REQ_verify(req, key), 1);
        CHECK_INT(X509_REQ_get_signature_nid(req), sig_nid);
        CHECK(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), key) == 1);

        cn = req_cn(req, &entries);
        CHECK_STR(cn, "example.com");
        CHECK_INT(entries, 1);

        REQUIRE(sans = req_sans(req, &critical));
        CHECK_INT(critical, 0);
        REQUIRE(sk_GENERAL_NAME_num(sans) == 5);
        CHECK(gn_is_dns(sk_GENERAL_NAME_value(sans, 0), "example.com"));
        CHECK(gn_is_dns(sk_GENERAL_NAME_value(sans, 1), "www.example.com"));
        CHECK(gn_is_ip(sk_GENERAL_NAME_value(sans, 2), "192.0.2.1"));
        CHECK(gn_is_ip(sk_GENERAL_NAME_value(sans, 3), "2001:db8::1"));
        CHECK(gn_is_dns(sk_GENERAL_NAME_value(sans, 4), "*.example.org"));
}

TEST(ec) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = ec_key();

        REQUIRE(key);
        check_csr(key, NID_ecdsa_with_SHA256);
}

TEST(ec384) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");

        REQUIRE(key);
        check_csr(key, NID_ecdsa_with_SHA256);
}

TEST(rsa) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);

        REQUIRE(key);
        check_csr(key, NID_sha256WithRSAEncryption);
}

TEST(wrong_key_fails_verify) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = ec_key(), *other = ec_key();
        _cleanup_(X509_REQ_freep) X509_REQ *req = NULL;
        char *ids[] = { "example.com", NULL };

        REQUIRE(key && other);
        REQUIRE(req = make_req(key, ids));
        CHECK(X509_REQ_verify(req, other) != 1);
        ERR_clear_error();
}

TEST(b64url) {
        /* RSA PKCS#1 v1.5 signatures are deterministic: both forms carry the same DER. */
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        _cleanup_free_ unsigned char *der = NULL;
        _cleanup_free_ uint8_t *decoded = NULL;
        _cleanup_free_ char *s = NULL;
        char *ids[] = { "example.com", "192.0.2.1", NULL };
        size_t len = 0, dlen = 0;

        REQUIRE(key);
        CHECK_INT(csr_generate(key, ids, &s), 0);
        REQUIRE(s);
        CHECK(b64url_is_valid(s, SIZE_MAX));
        CHECK(!strchr(s, '='));
        CHECK_INT(b64url_decode(s, strlen(s), &decoded, &dlen), 0);

        CHECK_INT(csr_generate_der(key, ids, &der, &len), 0);
        CHECK_INT(dlen, len);
        CHECK(decoded && der && dlen == len && memcmp(decoded, der, len) == 0);
}

TEST(cn_rules) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = ec_key();
        char label63[64], cn64[65], cn65[66];

        REQUIRE(key);
        memset(label63, 'a', 63);
        label63[63] = '\0';
        memset(cn64, 'b', 64);
        memcpy(cn64 + 64 - 4, ".com", 5);
        memset(cn65, 'c', 65);
        memcpy(cn65 + 65 - 4, ".com", 5);
        CHECK_INT(strlen(cn64), 64);
        CHECK_INT(strlen(cn65), 65);

        struct {
                char *ids[3];
                const char *cn;         /* NULL: empty subject */
        } cases[] = {
                { { "example.com", "192.0.2.1", NULL }, "example.com" },
                { { "192.0.2.1", "example.com", NULL }, NULL },
                { { "2001:db8::1", NULL }, NULL },
                { { cn64, NULL }, cn64 },
                { { cn65, "example.com", NULL }, NULL },
                { { "*.example.com", NULL }, "*.example.com" },
                /* A 63-character single label is a valid name and a valid CN. */
                { { label63, NULL }, label63 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(X509_REQ_freep) X509_REQ *req = NULL;
                _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *sans = NULL;
                _cleanup_free_ char *cn = NULL;
                int entries = -1, critical = -1;
                size_t n = 0;

                while (cases[i].ids[n])
                        n++;

                req = make_req(key, cases[i].ids);
                if (!req) {
                        fprintf(stderr, "case %zu failed\n", i);
                        continue;
                }
                CHECK_INT(X509_REQ_verify(req, key), 1);
                cn = req_cn(req, &entries);
                if (cases[i].cn) {
                        CHECK_STR(cn, cases[i].cn);
                        CHECK_INT(entries, 1);
                } else {
                        CHECK(cn == NULL);
                        CHECK_INT(entries, 0);
                }

                /* The SANs hold every identifier either way; critical when the subject is
                 * empty, as RFC 5280 §4.2.1.6 requires. */
                sans = req_sans(req, &critical);
                CHECK(sans);
                if (sans)
                        CHECK_INT(sk_GENERAL_NAME_num(sans), n);
                CHECK_INT(critical, cases[i].cn ? 0 : 1);
        }
}

TEST(valid_identifiers) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = ec_key();
        char name253[254];

        REQUIRE(key);
        /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
        memset(name253, 'a', 253);
        name253[63] = name253[127] = name253[191] = '.';
        name253[253] = '\0';

        const char *valid[] = {
                "localhost",
                "a.b",
                "EXAMPLE.com",
                "xn--bcher-kva.example",
                "_acme-challenge.example.com",
                "a-b.c-d.example",
                "0.example.com",
                "123.example.com",
                "*.example.com",
                "::1",
                "::ffff:192.0.2.1",
                "fe80::1",
                "0.0.0.0",
                "255.255.255.255",
                name253,
        };

        for (size_t i = 0; i < ELEMENTSOF(valid); i++) {
                char *ids[] = { (char *) valid[i], NULL };
                _cleanup_free_ unsigned char *der = NULL;
                size_t len = 0;
                int r = csr_generate_der(key, ids, &der, &len);

                if (r != 0)
                        fprintf(stderr, "valid identifier \"%s\" refused: %d\n", valid[i], r);
                CHECK_INT(r, 0);
        }
}

TEST(invalid_identifiers) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = ec_key();
        char name254[255], label64[70];

        REQUIRE(key);
        memset(name254, 'a', 254);
        name254[63] = name254[127] = name254[191] = '.';
        name254[254] = '\0';
        memset(label64, 'x', 64);
        memcpy(label64 + 64, ".com", 5);

        const char *invalid[] = {
                "",
                " ",
                "a b",
                "example.com ",
                " example.com",
                "exa\tmple.com",
                "example.com\n",
                "exa\x01mple.com",
                "exa\x7fmple.com",
                "a/b",
                "example.com/",
                "https://example.com",
                "a..b",
                ".example.com",
                "example.com.",
                ".",
                "-x.y",
                "x-.y",
                "x.-y",
                "x.y-",
                "b\xc3\xbc" "cher.de",
                "*",
                "*.",
                "**.example.com",
                "a.*.example.com",
                "*example.com",
                "ex*ample.com",
                "user@example.com",
                "example.com:443",
                "1.2.3",
                "192.168.1.256",
                "192.168.001.1",
                "1.2.3.4.5",
                "fe80::1%eth0",
                "[::1]",
                "2001:db8::1::2",
                name254,
                label64,
        };

        for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
                char *ids[] = { (char *) invalid[i], NULL };
                char *ids_second[] = { "example.com", (char *) invalid[i], NULL };
                unsigned char *der = (unsigned char *) 0x1;
                size_t len = 42;
                char *s = (char *) 0x1;
                int r;

                r = csr_generate_der(key, ids, &der, &len);
                if (r != -EINVAL)
                        fprintf(stderr, "invalid identifier #%zu \"%s\" gave %d\n", i, invalid[i], r);
                CHECK_INT(r, -EINVAL);
                CHECK(der == (unsigned char *) 0x1);
                CHECK_INT(len, 42);

                /* Not only in first position. */
                CHECK_INT(csr_generate_der(key, ids_second, &der, &len), -EINVAL);
                CHECK_INT(csr_generate(key, ids_second, &s), -EINVAL);
                CHECK(s == (char *) 0x1);
        }
}

TEST(bad_arguments) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = ec_key();
        char *empty[] = { NULL };
        char *ids[] = { "example.com", NULL };
        char *s = (char *) 0x1;

        REQUIRE(key);
        CHECK_INT(csr_generate(key, empty, &s), -EINVAL);
        CHECK_INT(csr_generate(key, NULL, &s), -EINVAL);
        CHECK_INT(csr_generate(NULL, ids, &s), -EINVAL);
        CHECK(s == (char *) 0x1);
}

TEST_MAIN(T(ec),
          T(ec384),
          T(rsa),
          T(wrong_key_fails_verify),
          T(b64url),
          T(cn_rules),
          T(valid_identifiers),
          T(invalid_identifiers),
          T(bad_arguments))
