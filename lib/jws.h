/* SPDX-License-Identifier: MIT */
#pragma once

/* JSON Web Signature for ACME (RFC 7515, RFC 8555 §6.2): flattened JSON serialisation,
 * ES256 / ES384 / RS256, "jwk" or "kid" protected headers; JWK thumbprints (RFC 7638);
 * External Account Binding (RFC 8555 §7.3.4, HS256). */

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* "ES256", "ES384" or "RS256" for the key; -EOPNOTSUPP otherwise. */
int jws_alg(EVP_PKEY *key, const char **ret);

/* The public JWK of key: {"crv","kty","x","y"} for EC (coordinates left-padded to the
 * field size), {"e","kty","n"} for RSA. */
int jws_jwk(EVP_PKEY *key, cJSON **ret);

/* RFC 7638 thumbprint: base64url(SHA-256(JWK with required members in lexical order,
 * no whitespace)). */
int jws_thumbprint(EVP_PKEY *key, char **ret);

/* Key authorization for a challenge token: token "." thumbprint (RFC 8555 §8.1). The token
 * comes from the server and ends up in paths and DNS records: anything but a non-empty
 * base64url string of at most 1024 characters is -EINVAL. */
int jws_key_authorization(EVP_PKEY *key, const char *token, char **ret);

/* Sign an ACME request body. kid NULL → "jwk" header with the public key; otherwise "kid".
 * nonce may be NULL (only for EAB-like inner objects). payload NULL → POST-as-GET (empty
 * payload ""); otherwise a JSON text. Returns the flattened JWS JSON text in *ret; -EINVAL
 * for a missing url or an empty kid, -EOPNOTSUPP for a key type renewd does not use. */
int jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url, const char *payload,
             char **ret);

/* External Account Binding object for newAccount: a JWS with protected header
 * {"alg":"HS256","kid":eab_kid,"url":url}, payload the account key's JWK, signed with
 * HMAC-SHA256 under hmac_key (the decoded key, not its base64url text; an empty key is
 * -EINVAL). */
int jws_eab(EVP_PKEY *account_key, const char *eab_kid, const uint8_t *hmac_key, size_t hmac_key_len,
            const char *url, cJSON **ret);
