/* SPDX-License-Identifier: MIT */
#pragma once

/* The tls-alpn-01 validation certificate (RFC 8737 §3, RFC 8738 §6 for IP addresses) and
 * the TLS server name a validator asks for. Pure functions: no I/O, no state. */

#include <openssl/evp.h>
#include <openssl/x509.h>

/* The one ALPN protocol a tls-alpn-01 responder speaks, and its wire form (length-prefixed,
 * as in the ALPN extension). */
#define TLSALPN_PROTOCOL "acme-tls/1"
#define TLSALPN_PROTOCOL_WIRE "\x0a" TLSALPN_PROTOCOL

/* The dotted OID of id-pe-acmeIdentifier, the critical extension holding the digest. */
#define TLSALPN_ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"

typedef enum TlsAlpnIdentifierType {
        TLSALPN_IDENTIFIER_DNS,
        TLSALPN_IDENTIFIER_IPV4,
        TLSALPN_IDENTIFIER_IPV6,
} TlsAlpnIdentifierType;

/* Classify an identifier: an IPv4 or IPv6 literal (inet_pton forms, no zone index), or a
 * DNS name the challenge can validate: ASCII labels (IDNs as xn--) of 1-63 letters,
 * digits, '-' or '_', not starting or ending with '-', at most 253 characters, no
 * trailing dot, and a last label that is not all digits (a mistyped address). Wildcards
 * are -EINVAL: RFC 8737 §3 does not allow tls-alpn-01 for them. */
int tlsalpn_identifier_type(const char *identifier, TlsAlpnIdentifierType *ret);

/* The server name (SNI) a validator sends for an identifier: the DNS name itself in lower
 * case, or for an IP address its reverse-mapping name (RFC 8738 §6): "4.3.2.1.in-addr.arpa"
 * for 1.2.3.4, 32 reversed nibbles followed by "ip6.arpa" for IPv6. -EINVAL for an
 * identifier tlsalpn_identifier_type() refuses. */
int tlsalpn_sni_name(const char *identifier, char **ret);

/* Make the self-signed validation certificate for identifier, signed by key (SHA-256, or
 * no digest for Ed25519/Ed448 keys): random positive serial, valid from an hour ago for
 * seven days, subject and issuer CN "renewd tls-alpn-01", exactly one subjectAltName
 * (dNSName, or iPAddress for an IP literal) and the critical id-pe-acmeIdentifier
 * extension whose value is the DER OCTET STRING of SHA-256(key_authorization).
 * -EINVAL for a missing key, an unusable identifier or an empty key authorization;
 * -ENOMEM, or -EIO when OpenSSL fails otherwise. */
int tlsalpn_cert_new(EVP_PKEY *key, const char *identifier, const char *key_authorization, X509 **ret);
