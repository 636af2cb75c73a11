/* SPDX-License-Identifier: MIT */
#pragma once

/* Certificate signing requests for ACME finalize (RFC 8555 §7.4). */

#include <openssl/evp.h>

/* Build a CSR signed by key (SHA-256) whose subjectAltName holds every identifier:
 * dNSName for names, iPAddress for IPv4/IPv6 literals. The subject is empty unless the
 * first identifier is a DNS name of at most 64 bytes, which then also becomes the CN
 * (IP addresses never do). Returns base64url(DER) in *ret, as finalize wants it.
 * -EINVAL for an empty list or an identifier that is neither a name nor an IP literal.
 * A name is ASCII (IDNs in xn-- form), at most 253 characters, of dot-separated labels of
 * 1-63 letters, digits, '-' or '_' that neither start nor end with '-', optionally with
 * "*" as the whole first label; no trailing dot, and the last label is not all digits. So
 * "", "a b", "a/b", "a..b", "-x.y" and control characters are all -EINVAL. */
int csr_generate(EVP_PKEY *key, char *const *identifiers, char **ret_b64url);

/* Same, but returns the DER bytes (malloc(), release with free()). */
int csr_generate_der(EVP_PKEY *key, char *const *identifiers, unsigned char **ret, size_t *ret_len);
