/* SPDX-License-Identifier: MIT */
/* JWS for ACME: flattened JSON serialisation (RFC 7515 §7.2.2) of requests signed with the
 * account key, JWKs and their RFC 7638 thumbprints, and the HS256 External Account
 * Binding. */

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "b64url.h"
#include "json.h"
#include "jws.h"
#include "key.h"
#include "ssl-util.h"

/* Longest challenge token accepted in a key authorization; real ones are 43 characters. */
#define JWS_TOKEN_MAX 1024U

/* The public members of a JWK, base64url-encoded. */
typedef struct Jwk {
        const char *kty;        /* "EC" or "RSA" */
        const char *crv;        /* EC only */
        char *x, *y;            /* EC: coordinates, padded to the field size */
        char *n, *e;            /* RSA: modulus and exponent, minimal length */
} Jwk;

static void jwk_done(Jwk *j) {
        free(j->x);
        free(j->y);
        free(j->n);
        free(j->e);
        *j = (Jwk) {};
}

/* Per key type: the JWS alg, the digest, and for EC the curve name and field size in bytes
 * (which is also the size of r and s in a signature). */
typedef struct JwsAlgorithm {
        const char *alg;
        const char *digest;
        const char *crv;
        size_t field_size;
} JwsAlgorithm;

/* Find how key signs. Returns 0, or -EOPNOTSUPP for key types renewd does not use. */
static int jws_algorithm(EVP_PKEY *key, JwsAlgorithm *ret) {
        KeyType t;
        int r;

        r = key_get_type(key, &t);
        if (r < 0)
                return r;

        switch (t) {
        case KEY_EC256:
                *ret = (JwsAlgorithm) { "ES256", "SHA256", "P-256", 32 };
                return 0;
        case KEY_EC384:
                *ret = (JwsAlgorithm) { "ES384", "SHA384", "P-384", 48 };
                return 0;
        case KEY_RSA2048:
        case KEY_RSA3072:
        case KEY_RSA4096:
                *ret = (JwsAlgorithm) { "RS256", "SHA256", NULL, 0 };
                return 0;
        default:
                return -EOPNOTSUPP;
        }
}

/* base64url of the big-number parameter `param` of key, as big-endian bytes left-padded
 * with zeros to pad bytes, or in minimal length if pad is 0. Returns 0, -EBADMSG if the
 * number does not fit in pad bytes, -EIO if the key lacks it, -ENOMEM. */
static int key_param_b64url(EVP_PKEY *key, const char *param, size_t pad, char **ret) {
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        _cleanup_free_ unsigned char *buf = NULL;
        size_t size;
        char *s;

        if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
                return ssl_error(-EIO);

        size = pad > 0 ? pad : (size_t) BN_num_bytes(bn);
        if (size == 0)
                size = 1;       /* zero is one 0x00 byte, never an empty string */
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        if (BN_bn2binpad(bn, buf, (int) size) < 0)
                return ssl_error(-EBADMSG);

        s = b64url_encode(buf, size);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* Collect the public members of key's JWK. Returns 0 or a negative errno. */
static int jwk_from_key(EVP_PKEY *key, Jwk *ret) {
        _cleanup_(jwk_done) Jwk j = {};
        JwsAlgorithm a;
        int r;

        if (!key || !ret)
                return -EINVAL;

        r = jws_algorithm(key, &a);
        if (r < 0)
                return r;

        if (a.crv) {
                j.kty = "EC";
                j.crv = a.crv;
                r = key_param_b64url(key, OSSL_PKEY_PARAM_EC_PUB_X, a.field_size, &j.x);
                if (r < 0)
                        return r;
                r = key_param_b64url(key, OSSL_PKEY_PARAM_EC_PUB_Y, a.field_size, &j.y);
                if (r < 0)
                        return r;
        } else {
                j.kty = "RSA";
                r = key_param_b64url(key, OSSL_PKEY_PARAM_RSA_N, 0, &j.n);
                if (r < 0)
                        return r;
                r = key_param_b64url(key, OSSL_PKEY_PARAM_RSA_E, 0, &j.e);
                if (r < 0)
                        return r;
        }

        *ret = j;
        j = (Jwk) {};
        return 0;
}

int jws_alg(EVP_PKEY *key, const char **ret) {
        JwsAlgorithm a;
        int r;

        if (!key || !ret)
                return -EINVAL;

        r = jws_algorithm(key, &a);
        if (r < 0)
                return r;
        *ret = a.alg;
        return 0;
}

int jws_jwk(EVP_PKEY *key, cJSON **ret) {
        _cleanup_(jwk_done) Jwk j = {};
        _cleanup_json_ cJSON *o = NULL;
        int r;

        if (!ret)
                return -EINVAL;

        r = jwk_from_key(key, &j);
        if (r < 0)
                return r;

        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        /* Members in lexical order, like the thumbprint input; not required, but tidy. */
        if (j.crv) {
                if (!cJSON_AddStringToObject(o, "crv", j.crv) ||
                    !cJSON_AddStringToObject(o, "kty", j.kty) ||
                    !cJSON_AddStringToObject(o, "x", j.x) ||
                    !cJSON_AddStringToObject(o, "y", j.y))
                        return -ENOMEM;
        } else {
                if (!cJSON_AddStringToObject(o, "e", j.e) ||
                    !cJSON_AddStringToObject(o, "kty", j.kty) ||
                    !cJSON_AddStringToObject(o, "n", j.n))
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(o);
        return 0;
}

int jws_thumbprint(EVP_PKEY *key, char **ret) {
        _cleanup_(jwk_done) Jwk j = {};
        _cleanup_free_ char *canonical = NULL;
        unsigned char digest[32];
        unsigned dlen = 0;
        char *s;
        int r, n;

        if (!ret)
                return -EINVAL;

        r = jwk_from_key(key, &j);
        if (r < 0)
                return r;

        /* RFC 7638 §3: required members only, in lexical order, no whitespace. All values
         * are base64url or fixed names, so nothing needs escaping. */
        if (j.crv)
                n = asprintf(&canonical, "{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
                             j.crv, j.kty, j.x, j.y);
        else
                n = asprintf(&canonical, "{\"e\":\"%s\",\"kty\":\"%s\",\"n\":\"%s\"}", j.e, j.kty, j.n);
        if (n < 0) {
                canonical = NULL;
                return -ENOMEM;
        }

        if (EVP_Digest(canonical, (size_t) n, digest, &dlen, EVP_sha256(), NULL) != 1 ||
            dlen != sizeof digest)
                return ssl_error(-EIO);

        s = b64url_encode(digest, sizeof digest);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int jws_key_authorization(EVP_PKEY *key, const char *token, char **ret) {
        _cleanup_free_ char *thumb = NULL;
        char *s;
        int r;

        if (!ret)
                return -EINVAL;
        /* The token comes from the server and ends up in file names and URLs. */
        if (!b64url_is_valid(token, JWS_TOKEN_MAX))
                return -EINVAL;

        r = jws_thumbprint(key, &thumb);
        if (r < 0)
                return r;

        if (asprintf(&s, "%s.%s", token, thumb) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* Convert a DER ECDSA-Sig-Value into the JWS form: r and s as big-endian integers, each
 * left-padded to size bytes, concatenated into out (2 * size bytes). Returns 0 or
 * -EBADMSG. */
static int ecdsa_der_to_raw(const unsigned char *der, size_t der_len, size_t size, unsigned char *out) {
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = NULL;
        const unsigned char *p = der;
        const BIGNUM *r = NULL, *s = NULL;

        if (der_len > LONG_MAX)
                return -EBADMSG;
        sig = d2i_ECDSA_SIG(NULL, &p, (long) der_len);
        if (!sig || p != der + der_len)
                return ssl_error(-EBADMSG);

        ECDSA_SIG_get0(sig, &r, &s);
        if (BN_bn2binpad(r, out, (int) size) < 0 ||
            BN_bn2binpad(s, out + size, (int) size) < 0)
                return ssl_error(-EBADMSG);
        return 0;
}

/* Sign the JWS signing input with key; returns 0 and the base64url signature in *ret:
 * r||s for ECDSA, the PKCS#1 v1.5 signature for RSA. */
static int jws_sign_input(EVP_PKEY *key, const char *input, size_t len, char **ret) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_free_ unsigned char *sig = NULL, *raw = NULL;
        EVP_PKEY_CTX *pctx = NULL;      /* owned by ctx */
        size_t siglen = 0;
        JwsAlgorithm a;
        char *s;
        int r;

        r = jws_algorithm(key, &a);
        if (r < 0)
                return r;

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return ssl_error(-ENOMEM);
        if (EVP_DigestSignInit_ex(ctx, &pctx, a.digest, NULL, NULL, key, NULL) != 1)
                return ssl_error(-EIO);
        if (!a.crv && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
                return ssl_error(-EIO);

        if (EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *) input, len) != 1)
                return ssl_error(-EIO);
        sig = malloc(siglen);
        if (!sig)
                return -ENOMEM;
        if (EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *) input, len) != 1)
                return ssl_error(-EIO);

        if (a.crv) {
                raw = malloc(2 * a.field_size);
                if (!raw)
                        return -ENOMEM;
                r = ecdsa_der_to_raw(sig, siglen, a.field_size, raw);
                if (r < 0)
                        return r;
                s = b64url_encode(raw, 2 * a.field_size);
        } else
                s = b64url_encode(sig, siglen);
        if (!s)
                return -ENOMEM;

        *ret = s;
        return 0;
}

/* base64url of the compact JSON text of a protected header. */
static int jws_encode_header(const cJSON *header, char **ret) {
        _cleanup_free_ char *text = NULL;
        char *s;

        text = json_print(header);
        if (!text)
                return -ENOMEM;
        s = b64url_encode(text, strlen(text));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The flattened JWS object from its three base64url parts. */
static int jws_flattened(const char *protected, const char *payload, const char *signature, cJSON **ret) {
        _cleanup_json_ cJSON *o = NULL;

        o = cJSON_CreateObject();
        if (!o)
                return -ENOMEM;
        if (!cJSON_AddStringToObject(o, "protected", protected) ||
            !cJSON_AddStringToObject(o, "payload", payload) ||
            !cJSON_AddStringToObject(o, "signature", signature))
                return -ENOMEM;

        *ret = TAKE_PTR(o);
        return 0;
}

int jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url, const char *payload,
             char **ret) {
        _cleanup_free_ char *protected = NULL, *payload64 = NULL, *input = NULL, *signature = NULL;
        _cleanup_json_ cJSON *header = NULL, *jwk = NULL, *jws = NULL;
        const char *alg;
        char *text;
        int r;

        if (!key || isempty(url) || !ret)
                return -EINVAL;
        if (kid && isempty(kid))
                return -EINVAL;

        r = jws_alg(key, &alg);
        if (r < 0)
                return r;

        /* Members in the order RFC 8555 §6.2 lists them: alg, jwk or kid, nonce, url. */
        header = cJSON_CreateObject();
        if (!header || !cJSON_AddStringToObject(header, "alg", alg))
                return -ENOMEM;
        if (kid) {
                if (!cJSON_AddStringToObject(header, "kid", kid))
                        return -ENOMEM;
        } else {
                r = jws_jwk(key, &jwk);
                if (r < 0)
                        return r;
                if (!cJSON_AddItemToObject(header, "jwk", jwk))
                        return -ENOMEM;
                TAKE_PTR(jwk);  /* now owned by header */
        }
        if (nonce && !cJSON_AddStringToObject(header, "nonce", nonce))
                return -ENOMEM;
        if (!cJSON_AddStringToObject(header, "url", url))
                return -ENOMEM;

        r = jws_encode_header(header, &protected);
        if (r < 0)
                return r;

        /* POST-as-GET (RFC 8555 §6.3) signs an empty payload. */
        if (!payload)
                payload = "";
        payload64 = b64url_encode(payload, strlen(payload));
        if (!payload64)
                return -ENOMEM;

        if (asprintf(&input, "%s.%s", protected, payload64) < 0) {
                input = NULL;
                return -ENOMEM;
        }
        r = jws_sign_input(key, input, strlen(input), &signature);
        if (r < 0)
                return r;

        r = jws_flattened(protected, payload64, signature, &jws);
        if (r < 0)
                return r;
        text = json_print(jws);
        if (!text)
                return -ENOMEM;

        *ret = text;
        return 0;
}

int jws_eab(EVP_PKEY *account_key, const char *eab_kid, const uint8_t *hmac_key, size_t hmac_key_len,
            const char *url, cJSON **ret) {
        _cleanup_free_ char *protected = NULL, *jwk_text = NULL, *payload64 = NULL, *input = NULL,
                            *signature = NULL;
        _cleanup_json_ cJSON *header = NULL, *jwk = NULL;
        unsigned char mac[32];
        size_t mac_len = 0;
        int r;

        if (!account_key || isempty(eab_kid) || !hmac_key || hmac_key_len == 0 || isempty(url) || !ret)
                return -EINVAL;

        header = cJSON_CreateObject();
        if (!header ||
            !cJSON_AddStringToObject(header, "alg", "HS256") ||
            !cJSON_AddStringToObject(header, "kid", eab_kid) ||
            !cJSON_AddStringToObject(header, "url", url))
                return -ENOMEM;
        r = jws_encode_header(header, &protected);
        if (r < 0)
                return r;

        /* The payload binds the account key: its public JWK. */
        r = jws_jwk(account_key, &jwk);
        if (r < 0)
                return r;
        jwk_text = json_print(jwk);
        if (!jwk_text)
                return -ENOMEM;
        payload64 = b64url_encode(jwk_text, strlen(jwk_text));
        if (!payload64)
                return -ENOMEM;

        if (asprintf(&input, "%s.%s", protected, payload64) < 0) {
                input = NULL;
                return -ENOMEM;
        }
        if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, hmac_key, hmac_key_len,
                       (const unsigned char *) input, strlen(input), mac, sizeof mac, &mac_len) ||
            mac_len != sizeof mac)
                return ssl_error(-EIO);

        signature = b64url_encode(mac, mac_len);
        if (!signature)
                return -ENOMEM;

        return jws_flattened(protected, payload64, signature, ret);
}
