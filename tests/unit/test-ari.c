/* SPDX-License-Identifier: MIT */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ari.h"
#include "rfc3339.h"
#include "ssl-util.h"
#include "test.h"
#include "x509.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 **, x509_chain_free);

/* RFC 9773 Appendix A: the example certificate of §4.1, whose certID the RFC gives. Its
 * AKI keyIdentifier is 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4 and its
 * serial 0x87654321 (DER content 00 87 65 43 21: the high bit needs the leading zero). */
static const char rfc9773_example[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt\n"
        "cGxlIENBMCIYDzAwMDEwMTAxMDAwMDAwWhgPMDAwMTAxMDEwMDAwMDBaMBYxFDAS\n"
        "BgNVBAMTC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeBZu\n"
        "7cbpAYNXZLbbh8rNIzuOoqOOtmxA1v7cRm//AwyMwWxyHz4zfwmBhcSrf47NUAFf\n"
        "qzLQ2PPQxdTXREYEnKMjMCEwHwYDVR0jBBgwFoAUaYhba4dGQEHhs3uEe6CuLN4B\n"
        "yNQwCgYIKoZIzj0EAwIDRwAwRAIge09+S5TZAlw5tgtiVvuERV6cT4mfutXIlwTb\n"
        "+FYN/8oCIClDsqBklhB9KAelFiYt9+6FDj3z4KGVelYM5MdsO3pK\n"
        "-----END CERTIFICATE-----\n";

/* What an AKI extension holds in the generated certificates. */
typedef enum AkiKind {
        AKI_NONE,
        AKI_KEYID,              /* keyIdentifier 10 11 … 23 */
        AKI_ISSUER_SERIAL,      /* authorityCertSerialNumber only, no keyIdentifier */
} AkiKind;

static const uint8_t test_keyid[20] = {
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
        0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
};
#define TEST_KEYID_B64 "EBESExQVFhcYGRobHB0eHyAhIiM"

/* A self-signed certificate with the given serial (big-endian magnitude) and AKI. */
static X509 *make_cert(const uint8_t *serial, size_t serial_len, AkiKind aki_kind) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *sn = NULL;

        if (!key || !x || !X509_set_version(x, X509_VERSION_3))
                return NULL;
        bn = BN_bin2bn(serial, (int) serial_len, NULL);
        if (!bn || !(sn = BN_to_ASN1_INTEGER(bn, NULL)) || !X509_set_serialNumber(x, sn))
                return NULL;
        if (!ASN1_TIME_set(X509_getm_notBefore(x), 1767225600) ||
            !ASN1_TIME_set(X509_getm_notAfter(x), 1767225600 + 90 * 86400))
                return NULL;
        if (!X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName, MBSTRING_ASC,
                                        (const unsigned char *) "ari.example", -1, -1, 0) ||
            !X509_set_issuer_name(x, X509_get_subject_name(x)) || !X509_set_pubkey(x, key))
                return NULL;

        if (aki_kind != AKI_NONE) {
                _cleanup_(AUTHORITY_KEYID_freep) AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();

                if (!aki)
                        return NULL;
                if (aki_kind == AKI_KEYID) {
                        if (!(aki->keyid = ASN1_OCTET_STRING_new()) ||
                            !ASN1_OCTET_STRING_set(aki->keyid, test_keyid, sizeof test_keyid))
                                return NULL;
                } else if (!(aki->serial = ASN1_INTEGER_new()) || !ASN1_INTEGER_set(aki->serial, 7))
                        return NULL;
                if (X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0, X509V3_ADD_DEFAULT) != 1)
                        return NULL;
        }

        if (X509_sign(x, key, EVP_sha256()) <= 0)
                return NULL;
        return TAKE_PTR(x);
}

TEST(cert_id_rfc_example) {
        _cleanup_(x509_chain_freep) X509 **chain = NULL;
        _cleanup_free_ char *id = NULL;

        REQUIRE(x509_chain_from_pem(rfc9773_example, strlen(rfc9773_example), &chain) == 1);
        CHECK_INT(ari_cert_id(chain[0], &id), 0);
        CHECK_STR(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

TEST(cert_id_generated) {
        static const struct {
                uint8_t serial[9];
                size_t len;
                const char *id;
        } cases[] = {
                { { 0x01 }, 1, TEST_KEYID_B64 ".AQ" },
                { { 0x7f }, 1, TEST_KEYID_B64 ".fw" },
                /* the high bit set: DER keeps a leading 0x00, and so does the certID */
                { { 0xff }, 1, TEST_KEYID_B64 ".AP8" },
                { { 0x80, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 }, 8, TEST_KEYID_B64 ".AIARIjNEVWZ3" },
                /* leading zero bytes of the magnitude are not part of the DER integer */
                { { 0x00, 0x00, 0x01 }, 3, TEST_KEYID_B64 ".AQ" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(X509_freep) X509 *x = make_cert(cases[i].serial, cases[i].len, AKI_KEYID);
                _cleanup_free_ char *id = NULL;

                REQUIRE(x);
                CHECK_INT(ari_cert_id(x, &id), 0);
                CHECK_STR(id, cases[i].id);
        }
}

TEST(cert_id_without_aki) {
        static const uint8_t serial[] = { 0x42 };
        _cleanup_(X509_freep) X509 *none = make_cert(serial, sizeof serial, AKI_NONE);
        _cleanup_(X509_freep) X509 *no_keyid = make_cert(serial, sizeof serial, AKI_ISSUER_SERIAL);
        char *id = (char *) "untouched";

        REQUIRE(none && no_keyid);
        CHECK_INT(ari_cert_id(none, &id), -ENODATA);
        CHECK_INT(ari_cert_id(no_keyid, &id), -ENODATA);
        CHECK_STR(id, "untouched");
        CHECK_INT(ari_cert_id(NULL, &id), -EINVAL);
        CHECK_INT(ari_cert_id(none, NULL), -EINVAL);
}

TEST(url) {
        static const char *const bad_ids[] = {
                "", "abc", ".abc", "abc.", "a.b.c", "a/b.c", "a.b/../c", "a.b?x=1", "a.b%2e", "a .b", "a.b=",
        };
        _cleanup_free_ char *u1 = NULL, *u2 = NULL;
        char *u = (char *) "untouched";

        CHECK_INT(ari_url("https://ca.example/renewal-info", "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", &u1), 0);
        CHECK_STR(u1, "https://ca.example/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
        CHECK_INT(ari_url("https://ca.example/renewal-info/", "a-_9.Zz", &u2), 0);
        CHECK_STR(u2, "https://ca.example/renewal-info/a-_9.Zz");

        for (size_t i = 0; i < ELEMENTSOF(bad_ids); i++)
                CHECK_INT(ari_url("https://ca.example/ri", bad_ids[i], &u), -EINVAL);
        CHECK_INT(ari_url("", "a.b", &u), -EINVAL);
        CHECK_INT(ari_url(NULL, "a.b", &u), -EINVAL);
        CHECK_INT(ari_url("https://ca.example/ri", NULL, &u), -EINVAL);
        CHECK_STR(u, "untouched");
}

/* ari_parse() on a C string. */
static int parse(const char *json, AriWindow *w) {
        return ari_parse(json, strlen(json), w);
}

TEST(parse_window) {
        AriWindow w = {};

        CHECK_INT(parse("{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\",\"end\":\"2025-01-03T04:00:00Z\"},"
                        "\"explanationURL\":\"https://acme.example.com/docs/ari\"}", &w), 0);
        CHECK_INT(w.start, 1735790400);
        CHECK_INT(w.end, 1735790400 + 86400);
        CHECK_STR(w.explanation_url, "https://acme.example.com/docs/ari");
        ari_window_done(&w);
        CHECK(!w.explanation_url && w.start == 0 && w.end == 0);
        ari_window_done(&w); /* twice is fine */
        ari_window_done(NULL);

        /* offsets, fractions, unknown members, whitespace; no explanationURL */
        CHECK_INT(parse(" {\"x\": [1, {}], \"suggestedWindow\": {\"end\": \"2025-01-02T03:04:05.5-00:30\", "
                        "\"start\": \"2025-01-02t03:04:05+02:00\", \"y\": null}} ", &w), 0);
        CHECK_INT(w.start, 1735779845);
        CHECK_INT(w.end, 1735788845);
        CHECK(!w.explanation_url);
        ari_window_done(&w);

        /* one second is a window */
        CHECK_INT(parse("{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\",\"end\":\"2025-01-02T04:00:01Z\"}}", &w), 0);
        CHECK_INT(w.end - w.start, 1);
        ari_window_done(&w);

        /* an explanationURL that is not https, or not a string, is dropped, not an error */
        static const char *const ignored[] = {
                "\"http://acme.example.com/docs\"", "\"ftp://x\"", "\"https://\"", "\"https://a b\"", "\"\"",
                "42", "null", "{}", "[\"https://acme.example.com/\"]",
        };
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++) {
                _cleanup_free_ char *json = NULL;

                REQUIRE(asprintf(&json, "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\","
                                        "\"end\":\"2025-01-03T04:00:00Z\"},\"explanationURL\":%s}", ignored[i]) > 0);
                CHECK_INT(parse(json, &w), 0);
                CHECK(!w.explanation_url);
                ari_window_done(&w);
        }
}

TEST(parse_bad) {
        static const char *const bad[] = {
                "",
                "not JSON",
                "[]",
                "\"suggestedWindow\"",
                "{}",
                "{\"explanationURL\":\"https://acme.example.com/\"}",
                "{\"suggestedWindow\":null}",
                "{\"suggestedWindow\":\"2025-01-02T04:00:00Z/2025-01-03T04:00:00Z\"}",
                "{\"suggestedWindow\":[\"2025-01-02T04:00:00Z\",\"2025-01-03T04:00:00Z\"]}",
                "{\"suggestedWindow\":{}}",
                "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\"}}",
                "{\"suggestedWindow\":{\"end\":\"2025-01-03T04:00:00Z\"}}",
                "{\"suggestedWindow\":{\"start\":1735790400,\"end\":1735876800}}",
                "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\",\"end\":null}}",
                /* end not after start */
                "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\",\"end\":\"2025-01-03T04:00:00Z\"}}",
                "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\",\"end\":\"2025-01-02T04:00:00Z\"}}",
                /* the same instant written with different offsets is still empty */
                "{\"suggestedWindow\":{\"start\":\"2025-01-03T06:00:00+02:00\",\"end\":\"2025-01-03T04:00:00Z\"}}",
                /* dates that do not exist, and other malformed times */
                "{\"suggestedWindow\":{\"start\":\"2025-13-01T00:00:00Z\",\"end\":\"2025-12-01T00:00:00Z\"}}",
                "{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\",\"end\":\"2025-02-30T00:00:00Z\"}}",
                "{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00\",\"end\":\"2025-01-02T00:00:00\"}}",
                "{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\",\"end\":\"2025-01-02T00:00:00+2:00\"}}",
                "{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\",\"end\":\"2025-01-02T00:00:00 Z\"}}",
                "{\"suggestedWindow\":{\"start\":\"\",\"end\":\"2025-01-02T00:00:00Z\"}}",
                /* trailing garbage, a truncated document */
                "{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\",\"end\":\"2025-01-02T00:00:00Z\"}} x",
                "{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\",\"end\":\"2025-01-02T00:00:00Z\"}",
        };
        AriWindow w = { .start = 7, .end = 8 };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = parse(bad[i], &w);

                if (r != -EBADMSG)
                        fprintf(stderr, "case %zu: %s → %d\n", i, bad[i], r);
                CHECK_INT(r, -EBADMSG);
        }
        /* untouched on failure */
        CHECK(w.start == 7 && w.end == 8 && !w.explanation_url);

        /* an embedded NUL: len covers it, so the text is not a JSON object */
        static const char nul[] = "{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\",\"end\":\"2025-01-02T00:00:00Z\"}}\0";
        CHECK_INT(ari_parse(nul, sizeof nul - 1, &w), -EBADMSG);
        /* len shorter than the string: only that much is read */
        CHECK_INT(ari_parse(nul, sizeof nul - 3, &w), -EBADMSG);
        CHECK_INT(ari_parse(nul, sizeof nul - 2, &w), 0);
        ari_window_done(&w);

        CHECK_INT(ari_parse(NULL, 0, &w), -EBADMSG);
        CHECK_INT(ari_parse(NULL, 1, &w), -EINVAL);
        CHECK_INT(ari_parse("{}", 2, NULL), -EINVAL);
}

TEST(rfc3339_good) {
        static const struct {
                const char *s;
                time_t t;
        } cases[] = {
                { "2025-01-02T03:04:05Z", 1735787045 },
                { "2025-01-02T03:04:05.123456Z", 1735787045 },
                { "2025-01-02T03:04:05.999999999999999999999Z", 1735787045 },
                { "2025-01-02T03:04:05.0Z", 1735787045 },
                { "2025-01-02t03:04:05z", 1735787045 },
                { "2025-01-02T03:04:05+00:00", 1735787045 },
                { "2025-01-02T03:04:05-00:00", 1735787045 },
                { "2025-01-02T03:04:05+02:00", 1735779845 },
                { "2025-01-02T03:04:05-00:30", 1735788845 },
                { "2025-01-02T05:04:05.5+02:00", 1735787045 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                time_t t = 0;

                CHECK_INT(rfc3339_parse(cases[i].s, &t), 0);
                CHECK_INT(t, cases[i].t);
        }

        time_t t = 0;
        /* leap years, the epoch and the second before it (timegm()'s -1) */
        CHECK_INT(rfc3339_parse("2024-02-29T12:00:00Z", &t), 0);
        CHECK_INT(t, 1709208000);
        CHECK_INT(rfc3339_parse("2000-02-29T00:00:00Z", &t), 0);
        CHECK_INT(rfc3339_parse("1970-01-01T00:00:00Z", &t), 0);
        CHECK_INT(t, 0);
        errno = EAGAIN;
        CHECK_INT(rfc3339_parse("1969-12-31T23:59:59Z", &t), 0);
        CHECK_INT(t, -1);
        CHECK_INT(errno, EAGAIN); /* the caller's errno survives */
        CHECK_INT(rfc3339_parse("1970-01-01T01:00:00+01:00", &t), 0);
        CHECK_INT(t, 0);
        /* a leap second reads as the second before it */
        CHECK_INT(rfc3339_parse("2016-12-31T23:59:60Z", &t), 0);
        CHECK_INT(t, 1483228799);
        /* the ends of the four-digit years, with the largest offsets */
        CHECK_INT(rfc3339_parse("0001-01-01T00:00:00Z", &t), 0);
        CHECK_INT(t, -62135596800);
        CHECK_INT(rfc3339_parse("9999-12-31T23:59:59Z", &t), 0);
        CHECK_INT(t, 253402300799);
        CHECK_INT(rfc3339_parse("9999-12-31T23:59:59-23:59", &t), 0);
        CHECK_INT(t, 253402300799 + 23 * 3600 + 59 * 60);
        CHECK_INT(rfc3339_parse("0000-01-01T00:00:00+23:59", &t), 0);
}

TEST(rfc3339_bad) {
        static const char *const bad[] = {
                "",
                "2025",
                "2025-01-02",
                "2025-01-02T03:04Z",
                "2025-01-02T03:04:05",          /* no offset */
                "2025-01-02 03:04:05Z",         /* space for T */
                "2025-01-02_03:04:05Z",
                "2025-1-02T03:04:05Z",
                "25-01-02T03:04:05Z",
                "+2025-01-02T03:04:05Z",
                "02025-01-02T03:04:05Z",
                "2025-00-01T00:00:00Z",
                "2025-13-01T00:00:00Z",
                "2025-01-00T00:00:00Z",
                "2025-01-32T00:00:00Z",
                "2025-02-29T00:00:00Z",         /* not a leap year */
                "2025-02-30T00:00:00Z",
                "1900-02-29T00:00:00Z",         /* not a leap year either */
                "2025-04-31T00:00:00Z",
                "2025-01-02T24:00:00Z",
                "2025-01-02T03:60:00Z",
                "2025-01-02T03:04:61Z",
                "2025-01-02T03:04:05.Z",        /* a fraction needs a digit */
                "2025-01-02T03:04:05,5Z",
                "2025-01-02T03:04:05ZZ",
                "2025-01-02T03:04:05Z ",
                " 2025-01-02T03:04:05Z",
                "2025-01-02T03:04:05+02",       /* garbage offsets */
                "2025-01-02T03:04:05+0200",
                "2025-01-02T03:04:05+2:00",
                "2025-01-02T03:04:05+02:0",
                "2025-01-02T03:04:05+24:00",
                "2025-01-02T03:04:05+02:60",
                "2025-01-02T03:04:05+02:00Z",
                "2025-01-02T03:04:05+02:00:00",
                "2025-01-02T03:04:05*02:00",
                "2025-01-02T03:04:05UTC",
                "2025-01-02T03:04:05GMT",
                "2025-01-02T03:04:05.123+",
                "２０２５-01-02T03:04:05Z",
                "2025-01-02T03:04:05\xef\xbc\xba",
        };
        time_t t = 42;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = rfc3339_parse(bad[i], &t);

                if (r != -EINVAL)
                        fprintf(stderr, "case \"%s\" → %d\n", bad[i], r);
                CHECK_INT(r, -EINVAL);
        }
        CHECK_INT(t, 42);
        CHECK_INT(rfc3339_parse(NULL, &t), -EINVAL);
        CHECK_INT(rfc3339_parse("2025-01-02T03:04:05Z", NULL), -EINVAL);
}

TEST(retry_after) {
        CHECK_INT(ARI_DEFAULT_POLL_SEC, 6 * 3600);
        CHECK_INT(ari_clamp_retry_after(0), 60);
        CHECK_INT(ari_clamp_retry_after(1), 60);
        CHECK_INT(ari_clamp_retry_after(59), 60);
        CHECK_INT(ari_clamp_retry_after(60), 60);
        CHECK_INT(ari_clamp_retry_after(61), 61);
        CHECK_INT(ari_clamp_retry_after(21600), 21600);
        CHECK_INT(ari_clamp_retry_after(86399), 86399);
        CHECK_INT(ari_clamp_retry_after(86400), 86400);
        CHECK_INT(ari_clamp_retry_after(86401), 86400);
        CHECK_INT(ari_clamp_retry_after(30 * 86400), 86400);
        CHECK(ari_clamp_retry_after(UINT64_MAX) == 86400);
        /* the default is itself inside the range */
        CHECK(ari_clamp_retry_after(ARI_DEFAULT_POLL_SEC) == ARI_DEFAULT_POLL_SEC);
}

TEST_MAIN(T(cert_id_rfc_example), T(cert_id_generated), T(cert_id_without_aki), T(url), T(parse_window),
          T(parse_bad), T(rfc3339_good), T(rfc3339_bad), T(retry_after))
