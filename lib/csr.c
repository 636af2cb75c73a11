/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64url.h"
#include "csr.h"
#include "ssl-util.h"

/* RFC 1035 limits: 253 characters in the text form of a name, 63 per label. */
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63
/* The upper bound X.520 puts on commonName (ub-common-name). */
#define CN_MAX 64

DEFINE_TRIVIAL_CLEANUP_FUNC(GENERAL_NAME *, GENERAL_NAME_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_STRING *, ASN1_STRING_free);

static inline void sk_X509_EXTENSION_pop_freep(STACK_OF(X509_EXTENSION) **s) {
        if (*s)
                sk_X509_EXTENSION_pop_free(*s, X509_EXTENSION_free);
}

static bool label_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
}

/* Whether s is a DNS name we are willing to put in a CSR: ASCII labels (IDNs must be in
 * their xn-- form) of letters, digits, '-' and '_', 1 to 63 characters each, not starting
 * or ending with '-', at most 253 characters in all, no trailing dot. A wildcard "*" is
 * allowed as the whole first label. A name whose last label is all digits is refused: it is
 * a mistyped IP address, never a host name. Whitespace, control characters and '/' all
 * fall outside the allowed set. */
static bool dns_name_is_valid(const char *s) {
        size_t n = strlen(s);
        const char *label = s;

        if (n == 0 || n > DNS_NAME_MAX)
                return false;

        if (s[0] == '*') {
                if (s[1] != '.' || s[2] == '\0')
                        return false;
                label = s + 2;
        }

        for (;;) {
                size_t k = 0;
                bool all_digits = true;

                while (label[k] && label[k] != '.') {
                        if (!label_char_ok(label[k]))
                                return false;
                        if (label[k] < '0' || label[k] > '9')
                                all_digits = false;
                        k++;
                }
                if (k == 0 || k > DNS_LABEL_MAX)
                        return false;
                if (label[0] == '-' || label[k - 1] == '-')
                        return false;
                if (label[k] == '\0')
                        return !all_digits;
                label += k + 1;
        }
}

/* Turn one identifier into a GENERAL_NAME: iPAddress if it parses as an IPv4 or IPv6
 * literal, dNSName if it is a valid name, -EINVAL otherwise. *ret_is_dns says which. */
static int identifier_to_general_name(const char *id, GENERAL_NAME **ret, bool *ret_is_dns) {
        _cleanup_(GENERAL_NAME_freep) GENERAL_NAME *gn = NULL;
        unsigned char addr[sizeof(struct in6_addr)];
        int addr_len = 0;

        if (!id)
                return -EINVAL;

        if (inet_pton(AF_INET, id, addr) == 1)
                addr_len = sizeof(struct in_addr);
        else if (inet_pton(AF_INET6, id, addr) == 1)
                addr_len = sizeof(struct in6_addr);
        else if (!dns_name_is_valid(id))
                return -EINVAL;

        gn = GENERAL_NAME_new();
        if (!gn)
                return ssl_error(-ENOMEM);

        if (addr_len > 0) {
                _cleanup_(ASN1_STRING_freep) ASN1_OCTET_STRING *ip = ASN1_OCTET_STRING_new();

                if (!ip || !ASN1_OCTET_STRING_set(ip, addr, addr_len))
                        return ssl_error(-ENOMEM);
                GENERAL_NAME_set0_value(gn, GEN_IPADD, TAKE_PTR(ip));
        } else {
                _cleanup_(ASN1_STRING_freep) ASN1_IA5STRING *dns = ASN1_IA5STRING_new();

                if (!dns || !ASN1_STRING_set(dns, id, (int) strlen(id)))
                        return ssl_error(-ENOMEM);
                GENERAL_NAME_set0_value(gn, GEN_DNS, TAKE_PTR(dns));
        }

        *ret = TAKE_PTR(gn);
        *ret_is_dns = addr_len == 0;
        return 0;
}

/* Build and sign the X509_REQ for identifiers (see csr.h for the rules). */
static int csr_build(EVP_PKEY *key, char *const *identifiers, X509_REQ **ret) {
        _cleanup_(X509_REQ_freep) X509_REQ *req = NULL;
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *sans = NULL;
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext = NULL;
        _cleanup_(sk_X509_EXTENSION_pop_freep) STACK_OF(X509_EXTENSION) *exts = NULL;
        bool first_is_dns = false;
        int r;

        if (!key || !identifiers || !identifiers[0])
                return -EINVAL;

        sans = GENERAL_NAMES_new();
        if (!sans)
                return ssl_error(-ENOMEM);

        for (size_t i = 0; identifiers[i]; i++) {
                _cleanup_(GENERAL_NAME_freep) GENERAL_NAME *gn = NULL;
                bool is_dns;

                r = identifier_to_general_name(identifiers[i], &gn, &is_dns);
                if (r < 0)
                        return r;
                if (i == 0)
                        first_is_dns = is_dns;
                if (!sk_GENERAL_NAME_push(sans, gn))
                        return ssl_error(-ENOMEM);
                TAKE_PTR(gn);
        }

        req = X509_REQ_new();
        if (!req)
                return ssl_error(-ENOMEM);
        if (!X509_REQ_set_version(req, X509_REQ_VERSION_1))
                return ssl_error(-EIO);

        bool has_cn = first_is_dns && strlen(identifiers[0]) <= CN_MAX;
        if (has_cn) {
                X509_NAME *subject = X509_REQ_get_subject_name(req);

                if (!subject ||
                    !X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_ASC,
                                                (const unsigned char *) identifiers[0], -1, -1, 0))
                        return ssl_error(-ENOMEM);
        }

        /* RFC 5280 §4.2.1.6: with an empty subject the SAN extension must be critical. */
        ext = X509V3_EXT_i2d(NID_subject_alt_name, has_cn ? 0 : 1, sans);
        if (!ext)
                return ssl_error(-ENOMEM);
        exts = sk_X509_EXTENSION_new_null();
        if (!exts || !sk_X509_EXTENSION_push(exts, ext))
                return ssl_error(-ENOMEM);
        TAKE_PTR(ext);
        if (!X509_REQ_add_extensions(req, exts))
                return ssl_error(-ENOMEM);

        if (!X509_REQ_set_pubkey(req, key))
                return ssl_error(-EINVAL);
        if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
                return ssl_error(-EIO);

        *ret = TAKE_PTR(req);
        return 0;
}

/* The DER is returned in a malloc() buffer, to be released with free(). */
int csr_generate_der(EVP_PKEY *key, char *const *identifiers, unsigned char **ret, size_t *ret_len) {
        _cleanup_(X509_REQ_freep) X509_REQ *req = NULL;
        _cleanup_free_ unsigned char *der = NULL;
        unsigned char *p;
        int r, n;

        if (!ret || !ret_len)
                return -EINVAL;

        r = csr_build(key, identifiers, &req);
        if (r < 0)
                return r;

        n = i2d_X509_REQ(req, NULL);
        if (n <= 0)
                return ssl_error(-EIO);
        der = malloc(n);
        if (!der)
                return -ENOMEM;
        p = der;
        if (i2d_X509_REQ(req, &p) != n)
                return ssl_error(-EIO);

        *ret = TAKE_PTR(der);
        *ret_len = (size_t) n;
        return 0;
}

int csr_generate(EVP_PKEY *key, char *const *identifiers, char **ret_b64url) {
        _cleanup_free_ unsigned char *der = NULL;
        size_t len;
        char *s;
        int r;

        if (!ret_b64url)
                return -EINVAL;

        r = csr_generate_der(key, identifiers, &der, &len);
        if (r < 0)
                return r;

        s = b64url_encode(der, len);
        if (!s)
                return -ENOMEM;

        *ret_b64url = s;
        return 0;
}
