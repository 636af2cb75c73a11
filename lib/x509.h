/* SPDX-License-Identifier: MIT */
#pragma once

/* X.509 certificates: PEM chains and the fields renewd needs. */

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <time.h>

/* Split a PEM text of len bytes into its CERTIFICATE blocks, each parsed and checked.
 * Anything else between blocks (text, other block types) is ignored; a truncated or
 * corrupt CERTIFICATE block is -EBADMSG; no certificate at all is -ENODATA; more than
 * 1 MiB of input is -E2BIG.
 * Returns the number of certificates and a NULL-terminated array (free with
 * x509_chain_free()). */
int x509_chain_from_pem(const char *pem, size_t len, X509 ***ret);
void x509_chain_free(X509 **chain);

/* PEM text (NUL-terminated) of one certificate, or of a chain (concatenated); an empty
 * chain is -ENODATA. */
int x509_to_pem(X509 *cert, char **ret);
int x509_chain_to_pem(X509 *const *chain, char **ret);

int x509_not_before(X509 *cert, time_t *ret);
int x509_not_after(X509 *cert, time_t *ret);

/* dNSName and iPAddress SANs as strings (IPv6 in RFC 5952 form), NULL-terminated, in
 * certificate order; other SAN types are skipped. Returns how many (0 and an empty list
 * without the extension); -EBADMSG for an undecodable extension, a dNSName that is not
 * printable ASCII or an iPAddress that is neither 4 nor 16 bytes. */
int x509_sans(X509 *cert, char ***ret);

/* Serial as lower-case hex without separators, and the DER content bytes of the serial
 * INTEGER (leading 0x00 kept where DER has it), as ARI's certID needs. */
int x509_serial_hex(X509 *cert, char **ret);
int x509_serial_der(X509 *cert, uint8_t **ret, size_t *ret_len);

/* Authority Key Identifier keyIdentifier bytes (malloc()): -ENODATA when absent. */
int x509_aki(X509 *cert, uint8_t **ret, size_t *ret_len);

/* Issuer / subject common name (first CN), -ENODATA when absent. */
int x509_issuer_cn(X509 *cert, char **ret);
int x509_subject_cn(X509 *cert, char **ret);

/* 1 if the certificate's public key matches key (public or private), 0 if not (also for
 * a different key type). */
int x509_matches_key(X509 *cert, EVP_PKEY *key);
