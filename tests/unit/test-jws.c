/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "b64url.h"
#include "json.h"
#include "jws.h"
#include "key.h"
#include "ssl-util.h"
#include "test.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(OSSL_PARAM *, OSSL_PARAM_free);

/* RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint. */
#define RFC7638_N                                                                                   \
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP" \
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY" \
        "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM" \
        "4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_E "AQAB"
#define RFC7638_THUMBPRINT "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* Decode a base64url string member of obj. */
static int member_bytes(const cJSON *obj, const char *key, uint8_t **ret, size_t *ret_len) {
        const char *s = NULL;
        int r = json_get_string(obj, key, &s);
        if (r < 0)
                return r;
        return b64url_decode(s, strlen(s), ret, ret_len);
}

/* Decode a base64url member whose content is a JSON object. */
static int member_json(const cJSON *obj, const char *key, cJSON **ret) {
        _cleanup_free_ uint8_t *text = NULL;
        size_t len = 0;
        int r = member_bytes(obj, key, &text, &len);
        if (r < 0)
                return r;
        return json_parse_object((const char *) text, len, ret);
}

/* Build a public EVP_PKEY from a JWK the way a server would, so that checking a signature
 * against it checks the JWK as well. */
static int pkey_from_jwk(const cJSON *jwk, EVP_PKEY **ret) {
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_free_ uint8_t *a = NULL, *b = NULL;
        _cleanup_(BN_freep) BIGNUM *n = NULL, *e = NULL;
        size_t alen = 0, blen = 0;
        const char *kty = NULL, *crv = NULL;
        unsigned char point[1 + 2 * 48];

        if (!bld || json_get_string(jwk, "kty", &kty) < 0)
                return -EINVAL;

        if (streq(kty, "EC")) {
                if (json_get_string(jwk, "crv", &crv) < 0 || member_bytes(jwk, "x", &a, &alen) < 0 ||
                    member_bytes(jwk, "y", &b, &blen) < 0 || alen != blen || alen > 48)
                        return -EINVAL;
                point[0] = 0x04;
                memcpy(point + 1, a, alen);
                memcpy(point + 1 + alen, b, blen);
                if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                                     streq(crv, "P-256") ? "prime256v1" : "secp384r1", 0) ||
                    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * alen))
                        return -EINVAL;
        } else if (streq(kty, "RSA")) {
                if (member_bytes(jwk, "n", &a, &alen) < 0 || member_bytes(jwk, "e", &b, &blen) < 0)
                        return -EINVAL;
                n = BN_bin2bn(a, (int) alen, NULL);
                e = BN_bin2bn(b, (int) blen, NULL);
                if (!n || !e || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
                    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
                        return -EINVAL;
        } else
                return -EINVAL;

        params = OSSL_PARAM_BLD_to_param(bld);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, kty, NULL);
        if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, ret, EVP_PKEY_PUBLIC_KEY, params) != 1)
                return -EINVAL;
        return 0;
}

/* Check a JWS signature as an ACME server would: rebuild the DER ECDSA signature from
 * r||s, or take the RSA PKCS#1 v1.5 one as is. Returns 1 if it verifies. */
static int verify(EVP_PKEY *pub, const char *alg, const uint8_t *sig, size_t sig_len, const char *input) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *es = NULL;
        _cleanup_free_ unsigned char *der = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        const EVP_MD *md = streq(alg, "ES384") ? EVP_sha384() : EVP_sha256();
        int der_len;

        if (!ctx || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub) != 1)
                return -1;

        if (alg[0] == 'E') {
                size_t half = streq(alg, "ES256") ? 32 : 48;
                if (sig_len != 2 * half)
                        return 0;
                BIGNUM *r = BN_bin2bn(sig, (int) half, NULL), *s = BN_bin2bn(sig + half, (int) half, NULL);
                es = ECDSA_SIG_new();
                if (!r || !s || !es || ECDSA_SIG_set0(es, r, s) != 1) {
                        BN_free(r);
                        BN_free(s);
                        return -1;
                }
                der_len = i2d_ECDSA_SIG(es, &der);
                if (der_len <= 0)
                        return -1;
                return EVP_DigestVerify(ctx, der, (size_t) der_len, (const unsigned char *) input, strlen(input));
        }

        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
                return -1;
        return EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *) input, strlen(input));
}

/* The member names of obj in their order, joined with ','. */
static char *member_names(const cJSON *obj) {
        char *s = strdup("");
        const cJSON *m;

        cJSON_ArrayForEach(m, obj) {
                char *t = NULL;
                if (!s || asprintf(&t, "%s%s%s", s, *s ? "," : "", m->string) < 0)
                        t = NULL;
                free(s);
                s = t;
        }
        return s;
}

static const KeyType all_types[] = { KEY_EC256, KEY_EC384, KEY_RSA2048, KEY_RSA3072, KEY_RSA4096 };

/* Check a flattened JWS from jws_sign(): its shape, its protected header, its payload, and
 * that its signature verifies under key (and under the JWK it carries, if any). */
static void check_jws(EVP_PKEY *key, const char *text, const char *kid, const char *nonce, const char *url,
                      const char *payload) {
        _cleanup_json_ cJSON *jws = NULL, *header = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *from_jwk = NULL;
        _cleanup_free_ char *names = NULL, *hnames = NULL, *input = NULL;
        _cleanup_free_ uint8_t *body = NULL, *sig = NULL;
        size_t body_len = 0, sig_len = 0;
        const char *alg = NULL, *want_alg = NULL, *s = NULL, *prot = NULL, *pay = NULL;
        const cJSON *jwk = NULL;

        REQUIRE(json_parse_object(text, strlen(text), &jws) == 0);
        names = member_names(jws);
        CHECK_STR(names, "protected,payload,signature");

        REQUIRE(member_json(jws, "protected", &header) == 0);
        hnames = member_names(header);
        if (kid && nonce)
                CHECK_STR(hnames, "alg,kid,nonce,url");
        else if (kid)
                CHECK_STR(hnames, "alg,kid,url");
        else if (nonce)
                CHECK_STR(hnames, "alg,jwk,nonce,url");
        else
                CHECK_STR(hnames, "alg,jwk,url");

        REQUIRE(jws_alg(key, &want_alg) == 0);
        REQUIRE(json_get_string(header, "alg", &alg) == 0);
        CHECK_STR(alg, want_alg);
        if (kid) {
                CHECK_INT(json_get_string(header, "kid", &s), 0);
                CHECK_STR(s, kid);
        } else {
                _cleanup_free_ char *tp = NULL, *jwk_text = NULL;
                _cleanup_json_ cJSON *own = NULL;

                REQUIRE(json_get_object(header, "jwk", &jwk) == 0);
                REQUIRE(jws_jwk(key, &own) == 0);
                jwk_text = json_print(jwk);
                tp = json_print(own);
                CHECK_STR(jwk_text, tp);
                CHECK_INT(pkey_from_jwk(jwk, &from_jwk), 0);
                CHECK(from_jwk && EVP_PKEY_eq(from_jwk, key) == 1);
        }
        if (nonce) {
                CHECK_INT(json_get_string(header, "nonce", &s), 0);
                CHECK_STR(s, nonce);
        }
        CHECK_INT(json_get_string(header, "url", &s), 0);
        CHECK_STR(s, url);

        CHECK_INT(member_bytes(jws, "payload", &body, &body_len), 0);
        CHECK_INT(body_len, payload ? strlen(payload) : 0);
        CHECK(body && memcmp(body, payload ? payload : "", body_len) == 0);

        REQUIRE(json_get_string(jws, "protected", &prot) == 0);
        REQUIRE(json_get_string(jws, "payload", &pay) == 0);
        REQUIRE(asprintf(&input, "%s.%s", prot, pay) > 0);
        REQUIRE(member_bytes(jws, "signature", &sig, &sig_len) == 0);
        CHECK_INT(verify(key, alg, sig, sig_len, input), 1);
        if (from_jwk)
                CHECK_INT(verify(from_jwk, alg, sig, sig_len, input), 1);
        if (alg[0] == 'R')
                CHECK_INT(sig_len, (size_t) EVP_PKEY_get_size(key));

        /* A changed signing input must not verify. */
        input[0] ^= 1;
        CHECK_INT(verify(key, alg, sig, sig_len, input), 0);
}

TEST(sign_each_type) {
        static const char url[] = "https://acme.example/acme/new-order";
        static const char payload[] = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}]}";

        for (size_t i = 0; i < ELEMENTSOF(all_types); i++) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
                _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
                const char *alg = NULL;

                REQUIRE(key_generate(all_types[i], &k) == 0);
                CHECK_INT(jws_alg(k, &alg), 0);
                CHECK_STR(alg, all_types[i] == KEY_EC256 ? "ES256" : all_types[i] == KEY_EC384 ? "ES384" : "RS256");

                /* newAccount style: jwk. */
                CHECK_INT(jws_sign(k, NULL, "nonce-AAAA_bbbb", url, payload, &a), 0);
                if (a)
                        check_jws(k, a, NULL, "nonce-AAAA_bbbb", url, payload);

                /* Account requests: kid; POST-as-GET with an empty payload. */
                CHECK_INT(jws_sign(k, "https://acme.example/acct/17", "n0nce", url, NULL, &b), 0);
                if (b)
                        check_jws(k, b, "https://acme.example/acct/17", "n0nce", url, NULL);

                /* No nonce: no member. */
                CHECK_INT(jws_sign(k, "https://acme.example/acct/17", NULL, url, "{}", &c), 0);
                if (c)
                        check_jws(k, c, "https://acme.example/acct/17", NULL, url, "{}");
                CHECK_INT(jws_sign(k, NULL, NULL, url, "", &d), 0);
                if (d)
                        check_jws(k, d, NULL, NULL, url, "");
        }
}

/* Strings that need escaping in the protected header come out intact. */
TEST(header_escaping) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_free_ char *s = NULL;

        REQUIRE(key_generate(KEY_EC256, &k) == 0);
        CHECK_INT(jws_sign(k, "kid\"with\\quotes", "n", "https://x.example/a?b=\"c\"\n", "{\"a\":1}", &s), 0);
        if (s)
                check_jws(k, s, "kid\"with\\quotes", "n", "https://x.example/a?b=\"c\"\n", "{\"a\":1}");
}

TEST(bad_arguments) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL, *p521 = NULL;
        char *sentinel = (char *) &sentinel, *s = sentinel;
        cJSON *js = (cJSON *) &sentinel, *j = js;
        const char *alg = "unchanged";

        REQUIRE(key_generate(KEY_EC256, &k) == 0);
        CHECK_INT(jws_sign(NULL, NULL, "n", "https://x", NULL, &s), -EINVAL);
        CHECK_INT(jws_sign(k, NULL, "n", NULL, NULL, &s), -EINVAL);
        CHECK_INT(jws_sign(k, NULL, "n", "", NULL, &s), -EINVAL);
        CHECK_INT(jws_sign(k, "", "n", "https://x", NULL, &s), -EINVAL);
        CHECK(s == sentinel);

        p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
        REQUIRE(p521);
        CHECK_INT(jws_alg(p521, &alg), -EOPNOTSUPP);
        CHECK_STR(alg, "unchanged");
        CHECK_INT(jws_jwk(p521, &j), -EOPNOTSUPP);
        CHECK(j == js);
        CHECK_INT(jws_thumbprint(p521, &s), -EOPNOTSUPP);
        CHECK_INT(jws_sign(p521, NULL, "n", "https://x", NULL, &s), -EOPNOTSUPP);
        CHECK(s == sentinel);
}

/* The RFC 7638 §3.1 example: thumbprint and JWK of a public RSA key. */
TEST(rfc7638_thumbprint) {
        _cleanup_json_ cJSON *in = NULL, *jwk = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_free_ char *tp = NULL, *ka = NULL;
        const char *s = NULL;
        KeyType t;

        REQUIRE(json_parse_object("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"" RFC7638_E "\"}",
                                  strlen("{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"" RFC7638_E "\"}"),
                                  &in) == 0);
        REQUIRE(pkey_from_jwk(in, &k) == 0);
        CHECK_INT(key_get_type(k, &t), 0);
        CHECK_INT(t, KEY_RSA2048);

        CHECK_INT(jws_thumbprint(k, &tp), 0);
        CHECK_STR(tp, RFC7638_THUMBPRINT);

        CHECK_INT(jws_jwk(k, &jwk), 0);
        CHECK_INT(json_get_string(jwk, "n", &s), 0);
        CHECK_STR(s, RFC7638_N);
        CHECK_INT(json_get_string(jwk, "e", &s), 0);
        CHECK_STR(s, RFC7638_E);
        CHECK_INT(json_get_string(jwk, "kty", &s), 0);
        CHECK_STR(s, "RSA");

        CHECK_INT(jws_key_authorization(k, "DGyRejmCefe7v4NfDGDKfA", &ka), 0);
        CHECK_STR(ka, "DGyRejmCefe7v4NfDGDKfA." RFC7638_THUMBPRINT);

        char *sentinel = (char *) &sentinel, *bad = sentinel;
        CHECK_INT(jws_key_authorization(k, "../../etc/passwd", &bad), -EINVAL);
        CHECK_INT(jws_key_authorization(k, "", &bad), -EINVAL);
        CHECK_INT(jws_key_authorization(k, NULL, &bad), -EINVAL);
        CHECK_INT(jws_key_authorization(k, "abc=", &bad), -EINVAL);
        CHECK(bad == sentinel);
}

/* SHA-256 of text, base64url-encoded. */
static char *sha256_b64url(const char *text) {
        unsigned char d[32];
        unsigned len = 0;
        if (EVP_Digest(text, strlen(text), d, &len, EVP_sha256(), NULL) != 1)
                return NULL;
        return b64url_encode(d, len);
}

/* Thumbprints of generated keys equal the hash of the canonical JWK as written here. */
TEST(thumbprint_canonical_form) {
        for (size_t i = 0; i < ELEMENTSOF(all_types); i += 2) {       /* EC256, RSA2048, RSA4096 */
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
                _cleanup_json_ cJSON *jwk = NULL;
                _cleanup_free_ char *canon = NULL, *want = NULL, *tp = NULL, *printed = NULL;
                const char *crv = NULL, *kty = NULL, *x = NULL, *y = NULL, *n = NULL, *e = NULL;

                REQUIRE(key_generate(all_types[i], &k) == 0);
                REQUIRE(jws_jwk(k, &jwk) == 0);
                REQUIRE(json_get_string(jwk, "kty", &kty) == 0);
                if (streq(kty, "EC")) {
                        REQUIRE(json_get_string(jwk, "crv", &crv) == 0);
                        REQUIRE(json_get_string(jwk, "x", &x) == 0);
                        REQUIRE(json_get_string(jwk, "y", &y) == 0);
                        REQUIRE(asprintf(&canon, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, x, y) > 0);
                } else {
                        REQUIRE(json_get_string(jwk, "n", &n) == 0);
                        REQUIRE(json_get_string(jwk, "e", &e) == 0);
                        CHECK_STR(e, "AQAB");
                        REQUIRE(asprintf(&canon, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e, n) > 0);
                }
                /* jws_jwk() members are already in lexical order. */
                printed = json_print(jwk);
                CHECK_STR(printed, canon);

                want = sha256_b64url(canon);
                CHECK_INT(jws_thumbprint(k, &tp), 0);
                CHECK_STR(tp, want);
                CHECK_INT(strlen(tp), 43);
        }
}

/* EC coordinates and signature halves keep their leading zero bytes. Roughly one key in
 * 128 has a coordinate below 2^(8(n-1)), and one signature in 128 such an r or s, so this
 * draws until both cases have been seen. */
static void check_ec_padding(KeyType type, size_t size, const char *crv) {
        bool seen_coordinate = false, seen_signature = false;

        for (unsigned attempt = 0; attempt < 20000 && !(seen_coordinate && seen_signature); attempt++) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
                _cleanup_json_ cJSON *jwk = NULL;
                _cleanup_free_ uint8_t *x = NULL, *y = NULL;
                _cleanup_(BN_freep) BIGNUM *bx = NULL;
                size_t xl = 0, yl = 0;
                const char *s = NULL;

                REQUIRE(key_generate(type, &k) == 0);
                REQUIRE(jws_jwk(k, &jwk) == 0);
                CHECK_INT(json_get_string(jwk, "crv", &s), 0);
                CHECK_STR(s, crv);
                REQUIRE(member_bytes(jwk, "x", &x, &xl) == 0);
                REQUIRE(member_bytes(jwk, "y", &y, &yl) == 0);
                CHECK_INT(xl, size);
                CHECK_INT(yl, size);
                /* x is the affine coordinate, zero-padded on the left. */
                unsigned char padded[48];
                REQUIRE(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1);
                REQUIRE(BN_bn2binpad(bx, padded, (int) size) == (int) size);
                CHECK(memcmp(x, padded, size) == 0);

                if (x[0] == 0 || y[0] == 0) {
                        _cleanup_(EVP_PKEY_freep) EVP_PKEY *back = NULL;
                        _cleanup_free_ char *tp = NULL, *canon = NULL, *want = NULL, *jws = NULL;
                        const char *xs = NULL, *ys = NULL;

                        seen_coordinate = true;
                        /* The padded JWK is the key, and the thumbprint hashes the padded form. */
                        CHECK_INT(pkey_from_jwk(jwk, &back), 0);
                        CHECK(back && EVP_PKEY_eq(back, k) == 1);
                        REQUIRE(json_get_string(jwk, "x", &xs) == 0 && json_get_string(jwk, "y", &ys) == 0);
                        REQUIRE(asprintf(&canon, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, xs, ys) > 0);
                        want = sha256_b64url(canon);
                        CHECK_INT(jws_thumbprint(k, &tp), 0);
                        CHECK_STR(tp, want);
                        CHECK_INT(jws_sign(k, NULL, "n", "https://x.example/", "{}", &jws), 0);
                        if (jws)
                                check_jws(k, jws, NULL, "n", "https://x.example/", "{}");
                }

                /* A few signatures per key. */
                for (unsigned j = 0; j < 4 && !seen_signature; j++) {
                        _cleanup_free_ char *jws = NULL;
                        _cleanup_json_ cJSON *o = NULL;
                        _cleanup_free_ uint8_t *sig = NULL;
                        size_t sl = 0;

                        REQUIRE(jws_sign(k, "kid", "n", "https://x.example/", NULL, &jws) == 0);
                        REQUIRE(json_parse_object(jws, strlen(jws), &o) == 0);
                        REQUIRE(member_bytes(o, "signature", &sig, &sl) == 0);
                        CHECK_INT(sl, 2 * size);
                        /* Every one must verify: a short r or s shows up as a bad signature,
                         * not necessarily as a zero byte. */
                        check_jws(k, jws, "kid", "n", "https://x.example/", NULL);
                        if (sig[0] == 0 || sig[size] == 0)
                                seen_signature = true;
                }
        }
        CHECK(seen_coordinate);
        CHECK(seen_signature);
}

TEST(ec_padding_p256) {
        check_ec_padding(KEY_EC256, 32, "P-256");
}

TEST(ec_padding_p384) {
        check_ec_padding(KEY_EC384, 48, "P-384");
}

/* External Account Binding: an HS256 JWS over the account JWK (RFC 8555 §7.3.4). */
TEST(eab) {
        static const uint8_t hmac_key[] = "a 32-byte secret for the tests!!";
        static const char url[] = "https://acme.example/acme/new-account";
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_json_ cJSON *eab = NULL, *header = NULL, *payload = NULL, *jwk = NULL;
        _cleanup_free_ char *names = NULL, *hnames = NULL, *input = NULL, *a = NULL, *b = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        const char *s = NULL, *prot = NULL, *pay = NULL;
        unsigned char mac[EVP_MAX_MD_SIZE];
        size_t sig_len = 0, mac_len = 0;

        REQUIRE(key_generate(KEY_EC256, &k) == 0);
        CHECK_INT(jws_eab(k, "kid-1", hmac_key, 32, url, &eab), 0);
        REQUIRE(eab);

        names = member_names(eab);
        CHECK_STR(names, "protected,payload,signature");

        REQUIRE(member_json(eab, "protected", &header) == 0);
        hnames = member_names(header);
        CHECK_STR(hnames, "alg,kid,url");
        CHECK_INT(json_get_string(header, "alg", &s), 0);
        CHECK_STR(s, "HS256");
        CHECK_INT(json_get_string(header, "kid", &s), 0);
        CHECK_STR(s, "kid-1");
        CHECK_INT(json_get_string(header, "url", &s), 0);
        CHECK_STR(s, url);

        /* The payload is the account key's JWK. */
        REQUIRE(member_json(eab, "payload", &payload) == 0);
        REQUIRE(jws_jwk(k, &jwk) == 0);
        a = json_print(payload);
        b = json_print(jwk);
        CHECK_STR(a, b);

        /* The signature is HMAC-SHA256 over protected "." payload, computed here through the
         * EVP_MAC interface. */
        REQUIRE(json_get_string(eab, "protected", &prot) == 0);
        REQUIRE(json_get_string(eab, "payload", &pay) == 0);
        REQUIRE(asprintf(&input, "%s.%s", prot, pay) > 0);
        REQUIRE(member_bytes(eab, "signature", &sig, &sig_len) == 0);
        CHECK_INT(sig_len, 32);

        EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *mctx = m ? EVP_MAC_CTX_new(m) : NULL;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        int ok = mctx && EVP_MAC_init(mctx, hmac_key, 32, params) == 1 &&
                 EVP_MAC_update(mctx, (const unsigned char *) input, strlen(input)) == 1 &&
                 EVP_MAC_final(mctx, mac, &mac_len, sizeof mac) == 1;
        EVP_MAC_CTX_free(mctx);
        EVP_MAC_free(m);
        REQUIRE(ok);
        CHECK_INT(mac_len, 32);
        CHECK(sig && memcmp(sig, mac, 32) == 0);

        /* A different key gives a different MAC. */
        _cleanup_json_ cJSON *eab2 = NULL;
        const char *s1 = NULL, *s2 = NULL;
        CHECK_INT(jws_eab(k, "kid-1", hmac_key, 31, url, &eab2), 0);
        REQUIRE(eab2);
        CHECK_INT(json_get_string(eab, "signature", &s1), 0);
        CHECK_INT(json_get_string(eab2, "signature", &s2), 0);
        CHECK(s1 && s2 && !streq(s1, s2));

        cJSON *sentinel = (cJSON *) &sentinel, *j = sentinel;
        CHECK_INT(jws_eab(k, "kid-1", hmac_key, 0, url, &j), -EINVAL);
        CHECK_INT(jws_eab(k, NULL, hmac_key, 32, url, &j), -EINVAL);
        CHECK_INT(jws_eab(k, "kid-1", NULL, 32, url, &j), -EINVAL);
        CHECK_INT(jws_eab(k, "kid-1", hmac_key, 32, NULL, &j), -EINVAL);
        CHECK_INT(jws_eab(NULL, "kid-1", hmac_key, 32, url, &j), -EINVAL);
        CHECK(j == sentinel);
}

TEST_MAIN(T(sign_each_type), T(header_escaping), T(bad_arguments), T(rfc7638_thumbprint),
          T(thumbprint_canonical_form), T(ec_padding_p256), T(ec_padding_p384), T(eab));
