/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the PEM chain parser and, for whatever it accepts, calls every
 * getter on every certificate: none may crash, leak or disagree with itself. */

#include <stdint.h>
#include <stdlib.h>

#include "ssl-util.h"
#include "x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Exercise every accessor on one parsed certificate. */
static void poke(X509 *cert) {
        char *s = NULL, **l = NULL;
        uint8_t *b = NULL;
        size_t n = 0;
        time_t t;

        (void) x509_not_before(cert, &t);
        (void) x509_not_after(cert, &t);

        if (x509_sans(cert, &l) >= 0)
                strv_free(l);

        if (x509_serial_hex(cert, &s) >= 0)
                free(s);
        if (x509_serial_der(cert, &b, &n) >= 0) {
                if (n == 0)
                        abort();
                free(b);
        }

        if (x509_aki(cert, &b, &n) >= 0)
                free(b);

        if (x509_issuer_cn(cert, &s) >= 0)
                free(s);
        if (x509_subject_cn(cert, &s) >= 0)
                free(s);

        /* A certificate whose key can be decoded always matches that key. */
        EVP_PKEY *pub = X509_get0_pubkey(cert);
        int r = pub ? x509_matches_key(cert, pub) : -1;
        if (pub && r != 1 && r != -EOPNOTSUPP)
                abort();
        ERR_clear_error();

        if (x509_to_pem(cert, &s) >= 0)
                free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        X509 **chain = NULL;
        char *pem = NULL;
        int n;

        n = x509_chain_from_pem((const char *) data, size, &chain);
        if (n < 0)
                return 0;
        if (n == 0 || !chain)
                abort();

        for (int i = 0; i < n; i++) {
                if (!chain[i])
                        abort();
                poke(chain[i]);
        }
        if (chain[n])
                abort();

        /* What we write back must parse again to the same number of certificates. */
        if (x509_chain_to_pem(chain, &pem) >= 0) {
                X509 **again = NULL;

                int m = x509_chain_from_pem(pem, strlen(pem), &again);

                /* 64-column lines may make the output outgrow the size cap. */
                if (m != n && m != -E2BIG)
                        abort();
                if (m > 0)
                        x509_chain_free(again);
                free(pem);
        }

        x509_chain_free(chain);
        ERR_clear_error();
        return 0;
}
