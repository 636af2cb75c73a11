/* SPDX-License-Identifier: MIT */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ssl-util.h"
#include "strv.h"
#include "test.h"
#include "x509.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 **, x509_chain_free);

/* Known values the generated certificates carry. */
#define ROOT_NOT_BEFORE ((time_t) 1700000000)  /* 2023-11-14T22:13:20Z, UTCTime */
#define ROOT_NOT_AFTER ((time_t) 2556057600)   /* 2051-01-01T00:00:00Z, GeneralizedTime */
#define LEAF_NOT_BEFORE ((time_t) 1735689600)  /* 2025-01-01T00:00:00Z */
#define LEAF_NOT_AFTER ((time_t) 1743465599)   /* 2025-03-31T23:59:59Z */
#define LEAF_SANS "DNS:leaf.example.com, DNS:*.leaf.example.com, IP:192.0.2.7, " \
                  "IP:2001:db8:0:0:1:0:0:1, email:hostmaster@example.com, IP:::ffff:198.51.100.1"

static const uint8_t root_kid[20] = {
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32,
        0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0xa5, 0x5a, 0xc3, 0x3c,
};
static const uint8_t root_serial[] = { 0x01 };
/* High bit set: DER needs a leading 0x00 to keep the INTEGER positive. */
static const uint8_t leaf_serial[] = { 0x80, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };

typedef struct CertSpec {
        const char *cn;         /* subject CN, or NULL for none */
        const char *sans;       /* subjectAltName in openssl config syntax, or NULL */
        const uint8_t *serial;
        size_t serial_len;
        time_t not_before, not_after;
        const uint8_t *ski;     /* 20 bytes, or NULL */
        const uint8_t *aki;     /* 20 bytes, or NULL */
} CertSpec;

/* Make a certificate for key as described by spec, signed by issuer_key; the issuer name
 * is issuer's subject, or the certificate's own for a self-signed one (issuer NULL). */
static X509 *make_cert(const CertSpec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key) {
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *serial = NULL;

        if (!x || !X509_set_version(x, X509_VERSION_3))
                return NULL;

        bn = BN_bin2bn(spec->serial, (int) spec->serial_len, NULL);
        if (!bn || !(serial = BN_to_ASN1_INTEGER(bn, NULL)) || !X509_set_serialNumber(x, serial))
                return NULL;

        if (!ASN1_TIME_set(X509_getm_notBefore(x), spec->not_before) ||
            !ASN1_TIME_set(X509_getm_notAfter(x), spec->not_after))
                return NULL;

        if (spec->cn &&
            !X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName, MBSTRING_ASC,
                                        (const unsigned char *) spec->cn, -1, -1, 0))
                return NULL;
        /* Give a CN-less subject some other attribute, as real certificates do. */
        if (!X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_organizationName,
                                        MBSTRING_ASC, (const unsigned char *) "renewd tests", -1, -1, 0))
                return NULL;
        if (!X509_set_issuer_name(x, X509_get_subject_name(issuer ?: x)))
                return NULL;
        if (!X509_set_pubkey(x, key))
                return NULL;

        if (spec->sans) {
                X509V3_CTX ctx;
                _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext = NULL;

                X509V3_set_ctx(&ctx, issuer ?: x, x, NULL, NULL, 0);
                ext = X509V3_EXT_nconf_nid(NULL, &ctx, NID_subject_alt_name, spec->sans);
                if (!ext || !X509_add_ext(x, ext, -1))
                        return NULL;
        }
        if (spec->ski) {
                _cleanup_(ASN1_OCTET_STRING_freep) ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

                if (!os || !ASN1_OCTET_STRING_set(os, spec->ski, 20) ||
                    X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, X509V3_ADD_DEFAULT) != 1)
                        return NULL;
        }
        if (spec->aki) {
                _cleanup_(AUTHORITY_KEYID_freep) AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();

                if (!aki || !(aki->keyid = ASN1_OCTET_STRING_new()) ||
                    !ASN1_OCTET_STRING_set(aki->keyid, spec->aki, 20) ||
                    X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0, X509V3_ADD_DEFAULT) != 1)
                        return NULL;
        }

        if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
                return NULL;
        return TAKE_PTR(x);
}

/* A small PKI: a self-signed root (no SAN, no AKI) and a leaf it issued. */
typedef struct Pki {
        EVP_PKEY *root_key, *leaf_key;
        X509 *root, *leaf;
} Pki;

static void pki_done(Pki *p) {
        X509_free(p->leaf);
        X509_free(p->root);
        EVP_PKEY_free(p->leaf_key);
        EVP_PKEY_free(p->root_key);
        *p = (Pki) {};
}

static bool pki_make(Pki *p) {
        const CertSpec root = {
                .cn = "Renewd Test Root",
                .serial = root_serial,
                .serial_len = sizeof root_serial,
                .not_before = ROOT_NOT_BEFORE,
                .not_after = ROOT_NOT_AFTER,
                .ski = root_kid,
        };
        const CertSpec leaf = {
                .cn = "leaf.example.com",
                .sans = LEAF_SANS,
                .serial = leaf_serial,
                .serial_len = sizeof leaf_serial,
                .not_before = LEAF_NOT_BEFORE,
                .not_after = LEAF_NOT_AFTER,
                .aki = root_kid,
        };

        *p = (Pki) {};
        p->root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        p->leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (p->root_key && p->leaf_key)
                p->root = make_cert(&root, p->root_key, NULL, p->root_key);
        if (p->root)
                p->leaf = make_cert(&leaf, p->leaf_key, p->root, p->root_key);
        if (!p->leaf) {
                ERR_print_errors_fp(stderr);
                pki_done(p);
                return false;
        }
        return true;
}

/* leaf + root as PEM text. */
static char *pki_chain_pem(const Pki *p) {
        X509 *chain[] = { p->leaf, p->root, NULL };
        char *s = NULL;

        if (x509_chain_to_pem(chain, &s) < 0)
                return NULL;
        return s;
}

/* The base64 body of a PEM block made of arbitrary bytes, with 64-column lines. */
static char *pem_block(const char *label, const void *data, size_t len) {
        _cleanup_free_ unsigned char *b64 = malloc(4 * ((len + 2) / 3) + 1);
        char *out, *p;
        size_t n;

        if (!b64)
                return NULL;
        n = (size_t) EVP_EncodeBlock(b64, data, (int) len);
        out = p = malloc(n + n / 64 + 2 * strlen(label) + 64);
        if (!out)
                return NULL;
        p += sprintf(p, "-----BEGIN %s-----\n", label);
        for (size_t i = 0; i < n; i += 64) {
                size_t k = n - i < 64 ? n - i : 64;
                memcpy(p, b64 + i, k);
                p += k;
                *p++ = '\n';
        }
        sprintf(p, "-----END %s-----\n", label);
        return out;
}

static char *cert_der(X509 *x, size_t *ret_len) {
        unsigned char *der = NULL, *q;
        int n = i2d_X509(x, NULL);

        if (n <= 0 || !(der = malloc((size_t) n)))
                return NULL;
        q = der;
        i2d_X509(x, &q);
        *ret_len = (size_t) n;
        return (char *) der;
}

/* Parse s (NUL-terminated) and return the result; on failure check ret was untouched. */
static int parse(const char *s, size_t len) {
        X509 **chain = (X509 **) 0x1;
        int r = x509_chain_from_pem(s, len, &chain);

        if (r >= 0)
                x509_chain_free(chain);
        else
                CHECK(chain == (X509 **) 0x1);
        return r;
}

static int parse_str(const char *s) {
        return parse(s, strlen(s));
}

TEST(chain_roundtrip) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *pem = NULL, *one = NULL, *again = NULL;
        _cleanup_(x509_chain_freep) X509 **chain = NULL;

        REQUIRE(pki_make(&p));
        REQUIRE(pem = pki_chain_pem(&p));
        CHECK(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);

        CHECK_INT(x509_chain_from_pem(pem, strlen(pem), &chain), 2);
        REQUIRE(chain);
        REQUIRE(chain[0] && chain[1]);
        CHECK(chain[2] == NULL);
        CHECK_INT(X509_cmp(chain[0], p.leaf), 0);
        CHECK_INT(X509_cmp(chain[1], p.root), 0);

        CHECK_INT(x509_chain_to_pem(chain, &again), 0);
        CHECK_STR(again, pem);

        CHECK_INT(x509_to_pem(p.leaf, &one), 0);
        REQUIRE(one);
        CHECK(strncmp(pem, one, strlen(one)) == 0);
        CHECK(strlen(one) < strlen(pem));
}

TEST(chain_to_pem_empty) {
        X509 *empty[] = { NULL };
        char *s = (char *) 0x1;

        CHECK_INT(x509_chain_to_pem(empty, &s), -ENODATA);
        CHECK(s == (char *) 0x1);
        CHECK_INT(x509_chain_to_pem(NULL, &s), -EINVAL);
        CHECK_INT(x509_to_pem(NULL, &s), -EINVAL);
}

TEST(times) {
        _cleanup_(pki_done) Pki p = {};
        time_t t = 0;

        REQUIRE(pki_make(&p));
        CHECK_INT(x509_not_before(p.leaf, &t), 0);
        CHECK_INT(t, LEAF_NOT_BEFORE);
        CHECK_INT(x509_not_after(p.leaf, &t), 0);
        CHECK_INT(t, LEAF_NOT_AFTER);
        CHECK_INT(x509_not_before(p.root, &t), 0);
        CHECK_INT(t, ROOT_NOT_BEFORE);
        /* After 2049 the certificate holds a GeneralizedTime. */
        CHECK_INT(ASN1_STRING_type(X509_get0_notAfter(p.root)), V_ASN1_GENERALIZEDTIME);
        CHECK_INT(x509_not_after(p.root, &t), 0);
        CHECK_INT(t, ROOT_NOT_AFTER);
}

TEST(times_survive_pem) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *pem = NULL;
        _cleanup_(x509_chain_freep) X509 **chain = NULL;
        time_t t = 0;

        REQUIRE(pki_make(&p));
        REQUIRE(pem = pki_chain_pem(&p));
        REQUIRE(x509_chain_from_pem(pem, strlen(pem), &chain) == 2);
        CHECK_INT(x509_not_after(chain[0], &t), 0);
        CHECK_INT(t, LEAF_NOT_AFTER);
        CHECK_INT(x509_not_after(chain[1], &t), 0);
        CHECK_INT(t, ROOT_NOT_AFTER);
}

TEST(sans) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_strv_free_ char **l = NULL, **none = NULL;

        REQUIRE(pki_make(&p));
        CHECK_INT(x509_sans(p.leaf, &l), 5);
        REQUIRE(l);
        REQUIRE(strv_length(l) == 5);
        CHECK_STR(l[0], "leaf.example.com");
        CHECK_STR(l[1], "*.leaf.example.com");
        CHECK_STR(l[2], "192.0.2.7");
        /* RFC 5952: lower case, the longest zero run compressed. */
        CHECK_STR(l[3], "2001:db8::1:0:0:1");
        CHECK_STR(l[4], "::ffff:198.51.100.1");

        /* No extension: an empty list. */
        CHECK_INT(x509_sans(p.root, &none), 0);
        REQUIRE(none);
        CHECK(none[0] == NULL);
}

TEST(sans_bad) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        const CertSpec spec = {
                .cn = "x",
                .sans = "DNS:ok.example.com, DNS:bad name.example.com",
                .serial = root_serial,
                .serial_len = 1,
                .not_before = ROOT_NOT_BEFORE,
                .not_after = ROOT_NOT_AFTER,
        };
        _cleanup_(X509_freep) X509 *x = NULL;
        char **l = (char **) 0x1;

        REQUIRE(key);
        REQUIRE(x = make_cert(&spec, key, NULL, key));
        CHECK_INT(x509_sans(x, &l), -EBADMSG);
        CHECK(l == (char **) 0x1);
}

TEST(serial) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *hex = NULL, *root_hex = NULL;
        _cleanup_free_ uint8_t *der = NULL, *root_der = NULL;
        size_t len = 0, root_len = 0;
        static const uint8_t want[] = { 0x00, 0x80, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };

        REQUIRE(pki_make(&p));
        CHECK_INT(x509_serial_hex(p.leaf, &hex), 0);
        CHECK_STR(hex, "8011223344556677");
        CHECK_INT(x509_serial_der(p.leaf, &der, &len), 0);
        CHECK_INT(len, sizeof want);
        CHECK(der && len == sizeof want && memcmp(der, want, len) == 0);

        CHECK_INT(x509_serial_hex(p.root, &root_hex), 0);
        CHECK_STR(root_hex, "01");
        CHECK_INT(x509_serial_der(p.root, &root_der, &root_len), 0);
        CHECK_INT(root_len, 1);
        CHECK(root_der && root_der[0] == 0x01);
}

TEST(serial_long) {
        /* 20 octets, the RFC 5280 maximum, with the high bit clear: no padding. */
        static const uint8_t s[20] = { 0x7f, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                       0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0xff };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        const CertSpec spec = {
                .serial = s,
                .serial_len = sizeof s,
                .not_before = ROOT_NOT_BEFORE,
                .not_after = ROOT_NOT_AFTER,
        };
        _cleanup_(X509_freep) X509 *x = NULL;
        _cleanup_free_ char *hex = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        size_t len = 0;

        REQUIRE(key);
        REQUIRE(x = make_cert(&spec, key, NULL, key));
        CHECK_INT(x509_serial_hex(x, &hex), 0);
        CHECK_STR(hex, "7f0102030405060708090a0b0c0d0e0f101112ff");
        CHECK_INT(x509_serial_der(x, &der, &len), 0);
        CHECK(der && len == sizeof s && memcmp(der, s, len) == 0);
}

TEST(aki) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ uint8_t *aki = NULL;
        uint8_t *none = (uint8_t *) 0x1;
        size_t len = 0, none_len = 7;

        REQUIRE(pki_make(&p));
        CHECK_INT(x509_aki(p.leaf, &aki, &len), 0);
        CHECK_INT(len, sizeof root_kid);
        CHECK(aki && len == sizeof root_kid && memcmp(aki, root_kid, len) == 0);

        CHECK_INT(x509_aki(p.root, &none, &none_len), -ENODATA);
        CHECK(none == (uint8_t *) 0x1);
        CHECK_INT(none_len, 7);
}

TEST(common_names) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *subject = NULL, *issuer = NULL, *root_issuer = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        char *s = (char *) 0x1;
        const CertSpec spec = {
                .serial = root_serial,
                .serial_len = 1,
                .not_before = ROOT_NOT_BEFORE,
                .not_after = ROOT_NOT_AFTER,
        };

        REQUIRE(pki_make(&p));
        CHECK_INT(x509_subject_cn(p.leaf, &subject), 0);
        CHECK_STR(subject, "leaf.example.com");
        CHECK_INT(x509_issuer_cn(p.leaf, &issuer), 0);
        CHECK_STR(issuer, "Renewd Test Root");
        CHECK_INT(x509_issuer_cn(p.root, &root_issuer), 0);
        CHECK_STR(root_issuer, "Renewd Test Root");

        REQUIRE(x = make_cert(&spec, p.leaf_key, p.root, p.root_key));
        CHECK_INT(x509_subject_cn(x, &s), -ENODATA);
        CHECK(s == (char *) 0x1);
}

TEST(matches_key) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *rsa = NULL, *pub = NULL;
        _cleanup_free_ unsigned char *der = NULL;
        const unsigned char *q;
        unsigned char *w;
        int n;

        REQUIRE(pki_make(&p));
        CHECK_INT(x509_matches_key(p.leaf, p.leaf_key), 1);
        CHECK_INT(x509_matches_key(p.root, p.root_key), 1);
        CHECK_INT(x509_matches_key(p.leaf, p.root_key), 0);
        CHECK_INT(x509_matches_key(p.root, p.leaf_key), 0);

        /* The public half alone matches too. */
        n = i2d_PUBKEY(p.leaf_key, NULL);
        REQUIRE(n > 0);
        REQUIRE(der = malloc((size_t) n));
        w = der;
        REQUIRE(i2d_PUBKEY(p.leaf_key, &w) == n);
        q = der;
        REQUIRE(pub = d2i_PUBKEY(NULL, &q, n));
        CHECK_INT(x509_matches_key(p.leaf, pub), 1);

        /* A different key type is a mismatch, not an error. */
        REQUIRE(rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048));
        CHECK_INT(x509_matches_key(p.leaf, rsa), 0);
        CHECK_INT(x509_matches_key(NULL, rsa), -EINVAL);
}

TEST(no_certificates) {
        CHECK_INT(parse("", 0), -ENODATA);
        CHECK_INT(parse(NULL, 0), -ENODATA);
        CHECK_INT(parse_str("hello world\n"), -ENODATA);
        CHECK_INT(parse_str("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), -ENODATA);
        CHECK_INT(parse_str("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"),
                  -ENODATA);
        CHECK_INT(parse_str("-----END CERTIFICATE-----\n"), -ENODATA);
}

TEST(truncated) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *pem = NULL, *leaf = NULL;
        size_t leaf_len;

        REQUIRE(pki_make(&p));
        REQUIRE(pem = pki_chain_pem(&p));
        REQUIRE(x509_to_pem(p.leaf, &leaf) == 0);
        leaf_len = strlen(leaf);

        /* Cut anywhere inside the first block: BEGIN without END, or a short block. */
        CHECK_INT(parse(pem, 10), -ENODATA); /* not even a whole BEGIN line */
        CHECK_INT(parse(pem, 28), -EBADMSG);
        CHECK_INT(parse(pem, leaf_len / 2), -EBADMSG);
        CHECK_INT(parse(pem, leaf_len - 10), -EBADMSG);
        /* Cut inside the second block. */
        CHECK_INT(parse(pem, leaf_len + 40), -EBADMSG);
        CHECK_INT(parse(pem, strlen(pem) - 3), -EBADMSG);
        /* Without the final newline the END line is still complete. */
        CHECK_INT(parse(pem, strlen(pem) - 1), 2);

        /* Lines lost from the middle of a block: the first block runs into the second. */
        {
                _cleanup_free_ char *s = NULL;
                const char *end = strstr(pem, "-----END CERTIFICATE-----\n");
                REQUIRE(end);
                REQUIRE(asprintf(&s, "%.*s%s", (int) (end - pem - 65), pem,
                                 end + strlen("-----END CERTIFICATE-----\n")) > 0);
                CHECK_INT(parse_str(s), -EBADMSG);
        }

        /* Lines lost from the middle of a block, block structure intact. */
        {
                _cleanup_free_ char *s = strdup(leaf);
                REQUIRE(s);
                memmove(s + 28 + 65 * 2, s + 28 + 65 * 3, strlen(s + 28 + 65 * 3) + 1);
                CHECK_INT(parse_str(s), -EBADMSG);
        }
}

TEST(begin_without_end) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *leaf = NULL, *s = NULL, *t = NULL;
        char *end;

        REQUIRE(pki_make(&p));
        REQUIRE(x509_to_pem(p.leaf, &leaf) == 0);
        REQUIRE(end = strstr(leaf, "-----END"));
        *end = '\0';
        CHECK_INT(parse_str(leaf), -EBADMSG);

        /* A complete certificate after an unterminated one does not rescue it. */
        REQUIRE(x509_to_pem(p.root, &t) == 0);
        REQUIRE(asprintf(&s, "%s%s", leaf, t) > 0);
        CHECK_INT(parse_str(s), -EBADMSG);
}

TEST(garbage_in_block) {
        static const char bad_b64[] =
                "-----BEGIN CERTIFICATE-----\n"
                "MIIB!!!!this is not base64 at all$$$$\n"
                "-----END CERTIFICATE-----\n";
        static const char empty[] =
                "-----BEGIN CERTIFICATE-----\n"
                "-----END CERTIFICATE-----\n";
        static const char not_der[] =
                "-----BEGIN CERTIFICATE-----\n"
                "aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGEgY2VydGlmaWNhdGU=\n"
                "-----END CERTIFICATE-----\n";
        static const char encrypted[] =
                "-----BEGIN CERTIFICATE-----\n"
                "Proc-Type: 4,ENCRYPTED\n"
                "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n"
                "\n"
                "aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGEgY2VydGlmaWNhdGU=\n"
                "-----END CERTIFICATE-----\n";
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *der = NULL, *padded = NULL, *block = NULL, *leaf = NULL, *s = NULL;
        size_t len = 0;

        CHECK_INT(parse_str(bad_b64), -EBADMSG);
        CHECK_INT(parse_str(empty), -EBADMSG);
        CHECK_INT(parse_str(not_der), -EBADMSG);
        /* Must fail without asking for a password. */
        CHECK_INT(parse_str(encrypted), -EBADMSG);

        REQUIRE(pki_make(&p));

        /* A certificate followed by extra bytes inside the block. */
        REQUIRE(der = cert_der(p.leaf, &len));
        REQUIRE(padded = malloc(len + 3));
        memcpy(padded, der, len);
        memcpy(padded + len, "\x05\x00\x00", 3);
        REQUIRE(block = pem_block("CERTIFICATE", padded, len + 3));
        CHECK_INT(parse_str(block), -EBADMSG);

        /* A good block followed by a bad one fails as a whole. */
        REQUIRE(x509_to_pem(p.leaf, &leaf) == 0);
        REQUIRE(asprintf(&s, "%s%s", leaf, bad_b64) > 0);
        CHECK_INT(parse_str(s), -EBADMSG);

        /* A flipped base64 character in the first bytes breaks the outer SEQUENCE tag. */
        leaf[28] = leaf[28] == 'A' ? 'B' : 'A';
        CHECK_INT(parse_str(leaf), -EBADMSG);
}

TEST(pem_block_helper_sane) {
        /* The helper used above produces blocks the parser accepts. */
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *der = NULL, *block = NULL, *leaf = NULL;
        size_t len = 0;

        REQUIRE(pki_make(&p));
        REQUIRE(der = cert_der(p.leaf, &len));
        REQUIRE(block = pem_block("CERTIFICATE", der, len));
        REQUIRE(x509_to_pem(p.leaf, &leaf) == 0);
        CHECK_STR(block, leaf);
        CHECK_INT(parse_str(block), 1);
}

TEST(text_between_blocks) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *leaf = NULL, *root = NULL, *s = NULL;
        _cleanup_(x509_chain_freep) X509 **chain = NULL;

        REQUIRE(pki_make(&p));
        REQUIRE(x509_to_pem(p.leaf, &leaf) == 0);
        REQUIRE(x509_to_pem(p.root, &root) == 0);
        REQUIRE(asprintf(&s,
                         "Bag Attributes\n    friendlyName: leaf\n"
                         "subject=CN = leaf.example.com\n"
                         "%s"
                         "\n\n# the issuer follows\n"
                         "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"
                         "%s"
                         "trailing text with no newline",
                         leaf, root) > 0);
        CHECK_INT(x509_chain_from_pem(s, strlen(s), &chain), 2);
        REQUIRE(chain);
        CHECK_INT(X509_cmp(chain[0], p.leaf), 0);
        CHECK_INT(X509_cmp(chain[1], p.root), 0);
}

TEST(crlf) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *pem = NULL, *crlf = NULL;
        _cleanup_(x509_chain_freep) X509 **chain = NULL;
        size_t n = 0;

        REQUIRE(pki_make(&p));
        REQUIRE(pem = pki_chain_pem(&p));
        REQUIRE(crlf = malloc(2 * strlen(pem) + 1));
        for (const char *c = pem; *c; c++) {
                if (*c == '\n')
                        crlf[n++] = '\r';
                crlf[n++] = *c;
        }
        crlf[n] = '\0';

        CHECK_INT(x509_chain_from_pem(crlf, n, &chain), 2);
        REQUIRE(chain);
        CHECK_INT(X509_cmp(chain[0], p.leaf), 0);
        CHECK_INT(X509_cmp(chain[1], p.root), 0);
}

TEST(size_limit) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *pem = NULL, *big = NULL;
        const size_t mib = 1024 * 1024;
        size_t len;

        REQUIRE(pki_make(&p));
        REQUIRE(pem = pki_chain_pem(&p));
        len = strlen(pem);

        /* A valid chain padded with comment text to exactly 1 MiB is fine … */
        REQUIRE(big = malloc(2 * mib));
        memcpy(big, pem, len);
        memset(big + len, '#', 2 * mib - len);
        CHECK_INT(parse(big, mib), 2);
        /* … one byte more, or 2 MiB, is refused before parsing. */
        CHECK_INT(parse(big, mib + 1), -E2BIG);
        CHECK_INT(parse(big, 2 * mib), -E2BIG);
}

TEST(embedded_nul) {
        _cleanup_(pki_done) Pki p = {};
        _cleanup_free_ char *pem = NULL, *s = NULL;
        size_t len;

        REQUIRE(pki_make(&p));
        REQUIRE(pem = pki_chain_pem(&p));
        len = strlen(pem);

        /* NUL bytes before and between blocks are ignored like other text. */
        REQUIRE(s = malloc(len + 2));
        s[0] = '\0';
        memcpy(s + 1, pem, len);
        s[len + 1] = '\0';
        CHECK_INT(parse(s, len + 2), 2);

        /* A NUL inside a block is corruption. */
        s[1 + 100] = '\0';
        CHECK_INT(parse(s, len + 2), -EBADMSG);
}

TEST_MAIN(T(chain_roundtrip),
          T(chain_to_pem_empty),
          T(times),
          T(times_survive_pem),
          T(sans),
          T(sans_bad),
          T(serial),
          T(serial_long),
          T(aki),
          T(common_names),
          T(matches_key),
          T(no_certificates),
          T(truncated),
          T(begin_without_end),
          T(garbage_in_block),
          T(pem_block_helper_sane),
          T(text_between_blocks),
          T(crlf),
          T(size_limit),
          T(embedded_nul))
