/* SPDX-License-Identifier: MIT */
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "acme-revoke.h"
#include "b64url.h"
#include "json.h"
#include "test.h"

TEST(reasons) {
        CHECK_INT(acme_revocation_reason_from_string("unspecified"), 0);
        CHECK_INT(acme_revocation_reason_from_string("keyCompromise"), 1);
        CHECK_INT(acme_revocation_reason_from_string("superseded"), 4);
        CHECK_INT(acme_revocation_reason_from_string("cessationOfOperation"), 5);
        CHECK_INT(acme_revocation_reason_from_string("keycompromise"), -EINVAL);
        CHECK_INT(acme_revocation_reason_from_string("removeFromCRL"), -EINVAL);
        CHECK_INT(acme_revocation_reason_from_string(""), -EINVAL);
        CHECK_INT(acme_revocation_reason_from_string(NULL), -EINVAL);
}

TEST(payload) {
        EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        X509 *cert = X509_new();
        char *text = NULL;
        cJSON *j = NULL;
        const char *b64;
        int64_t reason;

        REQUIRE(key && cert);
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 42);
        X509_gmtime_adj(X509_getm_notBefore(cert), 0);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);

        CHECK_INT(acme_revoke_payload(cert, 4, &text), 0);
        REQUIRE(text);
        CHECK_INT(json_parse_object(text, strlen(text), &j), 0);
        CHECK_INT(json_get_int64(j, "reason", &reason), 0);
        CHECK_INT(reason, 4);
        CHECK_INT(json_get_string(j, "certificate", &b64), 0);
        /* The certificate member decodes to the certificate's DER. */
        uint8_t *der = NULL;
        size_t len = 0;
        CHECK_INT(b64url_decode(b64, strlen(b64), &der, &len), 0);
        const unsigned char *p = der;
        X509 *back = d2i_X509(NULL, &p, (long) len);
        CHECK(back && X509_cmp(back, cert) == 0);

        CHECK_INT(acme_revoke_payload(cert, 2, &text), -EINVAL);  /* 2 is not a reason */
        CHECK_INT(acme_revoke_payload(cert, -1, &text), -EINVAL);
        CHECK_INT(acme_revoke_payload(NULL, 0, &text), -EINVAL);

        X509_free(back);
        free(der);
        cJSON_Delete(j);
        free(text);
        X509_free(cert);
        EVP_PKEY_free(key);
}

TEST_MAIN(T(reasons), T(payload))
