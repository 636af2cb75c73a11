/* SPDX-License-Identifier: MIT */
/* tls-alpn-01 validation certificates (RFC 8737 §3) and the SNI names validators use for
 * them (RFC 8738 §6). The certificate carries exactly what a validator checks: one SAN
 * equal to the identifier and the critical acmeIdentifier extension with the digest of
 * the key authorization; nothing else a client could trip over. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ssl-util.h"
#include "tlsalpn-cert.h"

#define TLSALPN_CERT_CN "renewd tls-alpn-01"
#define TLSALPN_CERT_BACKDATE_SEC (60L * 60L)
#define TLSALPN_CERT_LIFETIME_SEC (7L * 24L * 60L * 60L)
#define TLSALPN_SERIAL_BYTES 16

#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_OBJECT *, ASN1_OBJECT_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(GENERAL_NAME *, GENERAL_NAME_free);

/* Whether one label of length n is made of letters, digits, '-' and '_' and neither starts
 * nor ends with '-'. */
static bool dns_label_ok(const char *label, size_t n) {
        if (n == 0 || n > DNS_LABEL_MAX || label[0] == '-' || label[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = label[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                        return false;
        }
        return true;
}

/* Whether s is a host name tls-alpn-01 can validate (see tlsalpn_identifier_type()). */
static bool dns_name_ok(const char *s) {
        size_t len = strlen(s);
        const char *label = s, *last = s;

        if (len == 0 || len > DNS_NAME_MAX)
                return false;

        for (;;) {
                const char *dot = strchr(label, '.');
                size_t n = dot ? (size_t) (dot - label) : strlen(label);

                if (!dns_label_ok(label, n))
                        return false; /* also catches "a..b", ".a" and "a." */
                last = label;
                if (!dot)
                        break;
                label = dot + 1;
        }

        /* "1.2.3" is a mistyped address, not a name. */
        return strspn(last, "0123456789") != strlen(last);
}

int tlsalpn_identifier_type(const char *identifier, TlsAlpnIdentifierType *ret) {
        unsigned char buf[sizeof(struct in6_addr)];
        TlsAlpnIdentifierType t;

        if (!identifier || !ret)
                return -EINVAL;

        if (inet_pton(AF_INET, identifier, buf) == 1)
                t = TLSALPN_IDENTIFIER_IPV4;
        else if (inet_pton(AF_INET6, identifier, buf) == 1)
                t = TLSALPN_IDENTIFIER_IPV6;
        else if (dns_name_ok(identifier))
                t = TLSALPN_IDENTIFIER_DNS;
        else
                return -EINVAL;

        *ret = t;
        return 0;
}

int tlsalpn_sni_name(const char *identifier, char **ret) {
        static const char hex[] = "0123456789abcdef";
        TlsAlpnIdentifierType type;
        char *name = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = tlsalpn_identifier_type(identifier, &type);
        if (r < 0)
                return r;

        switch (type) {
        case TLSALPN_IDENTIFIER_DNS:
                name = strdup(identifier);
                if (!name)
                        return -ENOMEM;
                for (char *p = name; *p; p++)
                        if (*p >= 'A' && *p <= 'Z')
                                *p = (char) (*p - 'A' + 'a');
                break;

        case TLSALPN_IDENTIFIER_IPV4: {
                struct in_addr a;

                if (inet_pton(AF_INET, identifier, &a) != 1)
                        return -EINVAL;
                const uint8_t *b = (const uint8_t *) &a;
                if (asprintf(&name, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]) < 0)
                        return -ENOMEM;
                break;
        }

        case TLSALPN_IDENTIFIER_IPV6: {
                struct in6_addr a;
                char *p;

                if (inet_pton(AF_INET6, identifier, &a) != 1)
                        return -EINVAL;
                /* 32 nibbles, each followed by a dot, least significant first. */
                name = malloc(32 * 2 + strlen("ip6.arpa") + 1);
                if (!name)
                        return -ENOMEM;
                p = name;
                for (int i = 15; i >= 0; i--) {
                        *p++ = hex[a.s6_addr[i] & 0x0f];
                        *p++ = '.';
                        *p++ = hex[a.s6_addr[i] >> 4];
                        *p++ = '.';
                }
                strcpy(p, "ip6.arpa");
                break;
        }
        }

        *ret = name;
        return 0;
}

/* The one subjectAltName: iPAddress with the address bytes, or dNSName with the name as
 * given. */
static int tlsalpn_general_name(const char *identifier, TlsAlpnIdentifierType type, GENERAL_NAME **ret) {
        _cleanup_(GENERAL_NAME_freep) GENERAL_NAME *gn = GENERAL_NAME_new();
        unsigned char addr[sizeof(struct in6_addr)];

        if (!gn)
                return ssl_error(-ENOMEM);

        if (type == TLSALPN_IDENTIFIER_DNS) {
                ASN1_IA5STRING *dns = ASN1_IA5STRING_new();

                if (!dns || !ASN1_STRING_set(dns, identifier, (int) strlen(identifier))) {
                        ASN1_IA5STRING_free(dns);
                        return ssl_error(-ENOMEM);
                }
                GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
        } else {
                int family = type == TLSALPN_IDENTIFIER_IPV4 ? AF_INET : AF_INET6;
                int n = type == TLSALPN_IDENTIFIER_IPV4 ? 4 : 16;
                ASN1_OCTET_STRING *ip;

                if (inet_pton(family, identifier, addr) != 1)
                        return -EINVAL;
                ip = ASN1_OCTET_STRING_new();
                if (!ip || !ASN1_OCTET_STRING_set(ip, addr, n)) {
                        ASN1_OCTET_STRING_free(ip);
                        return ssl_error(-ENOMEM);
                }
                GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        }

        *ret = TAKE_PTR(gn);
        return 0;
}

/* The critical id-pe-acmeIdentifier extension. Its extnValue is the DER of the
 * Authorization ::= OCTET STRING (SIZE (32)), so the extension's own OCTET STRING wraps a
 * second, encoded one: 04 20 <digest>. */
static int tlsalpn_acme_identifier_ext(const char *key_authorization, X509_EXTENSION **ret) {
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *oid = NULL;
        _cleanup_(ASN1_OCTET_STRING_freep) ASN1_OCTET_STRING *inner = NULL, *value = NULL;
        unsigned char digest[SHA256_DIGEST_LENGTH];
        unsigned char *der = NULL;
        X509_EXTENSION *ext;
        int n;

        if (!EVP_Digest(key_authorization, strlen(key_authorization), digest, NULL, EVP_sha256(), NULL))
                return ssl_error(-EIO);

        inner = ASN1_OCTET_STRING_new();
        if (!inner || !ASN1_OCTET_STRING_set(inner, digest, sizeof digest))
                return ssl_error(-ENOMEM);
        n = i2d_ASN1_OCTET_STRING(inner, &der);
        if (n <= 0)
                return ssl_error(-ENOMEM);

        value = ASN1_OCTET_STRING_new();
        if (!value || !ASN1_OCTET_STRING_set(value, der, n)) {
                OPENSSL_free(der);
                return ssl_error(-ENOMEM);
        }
        OPENSSL_free(der);

        oid = OBJ_txt2obj(TLSALPN_ACME_IDENTIFIER_OID, 1);
        if (!oid)
                return ssl_error(-ENOMEM);
        ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value);
        if (!ext)
                return ssl_error(-ENOMEM);

        *ret = ext;
        return 0;
}

/* A random positive, non-zero serial of at most 16 bytes (RFC 5280 §4.1.2.2). */
static int tlsalpn_set_serial(X509 *x) {
        unsigned char bytes[TLSALPN_SERIAL_BYTES];
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        ASN1_INTEGER *serial;

        if (RAND_bytes(bytes, sizeof bytes) != 1)
                return ssl_error(-EIO);
        bytes[0] &= 0x7f; /* positive in DER without a leading zero byte */
        bytes[0] |= 0x01; /* never zero */

        bn = BN_bin2bn(bytes, sizeof bytes, NULL);
        if (!bn)
                return ssl_error(-ENOMEM);
        serial = X509_get_serialNumber(x);
        if (!BN_to_ASN1_INTEGER(bn, serial))
                return ssl_error(-ENOMEM);
        return 0;
}

int tlsalpn_cert_new(EVP_PKEY *key, const char *identifier, const char *key_authorization, X509 **ret) {
        _cleanup_(X509_freep) X509 *x = NULL;
        _cleanup_(X509_NAME_freep) X509_NAME *name = NULL;
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *sans = NULL;
        _cleanup_(GENERAL_NAME_freep) GENERAL_NAME *gn = NULL;
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *san_ext = NULL, *id_ext = NULL;
        TlsAlpnIdentifierType type;
        const EVP_MD *md;
        int r;

        if (!key || !ret || isempty(key_authorization))
                return -EINVAL;
        r = tlsalpn_identifier_type(identifier, &type);
        if (r < 0)
                return r;

        x = X509_new();
        if (!x)
                return ssl_error(-ENOMEM);
        if (!X509_set_version(x, X509_VERSION_3))
                return ssl_error(-EIO);
        r = tlsalpn_set_serial(x);
        if (r < 0)
                return r;
        if (!X509_gmtime_adj(X509_getm_notBefore(x), -TLSALPN_CERT_BACKDATE_SEC) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), TLSALPN_CERT_LIFETIME_SEC))
                return ssl_error(-EIO);

        name = X509_NAME_new();
        if (!name ||
            !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
                                        (const unsigned char *) TLSALPN_CERT_CN, -1, -1, 0) ||
            !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name))
                return ssl_error(-ENOMEM);

        if (!X509_set_pubkey(x, key))
                return ssl_error(-EINVAL);

        r = tlsalpn_general_name(identifier, type, &gn);
        if (r < 0)
                return r;
        sans = GENERAL_NAMES_new();
        if (!sans || !sk_GENERAL_NAME_push(sans, gn))
                return ssl_error(-ENOMEM);
        TAKE_PTR(gn);
        san_ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans);
        if (!san_ext || !X509_add_ext(x, san_ext, -1))
                return ssl_error(-ENOMEM);

        r = tlsalpn_acme_identifier_ext(key_authorization, &id_ext);
        if (r < 0)
                return r;
        if (!X509_add_ext(x, id_ext, -1))
                return ssl_error(-ENOMEM);

        /* EdDSA signs the message itself and takes no separate digest. */
        md = EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448") ? NULL : EVP_sha256();
        if (X509_sign(x, key, md) <= 0)
                return ssl_error(-EIO);

        *ret = TAKE_PTR(x);
        return 0;
}
