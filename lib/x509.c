/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ssl-util.h"
#include "x509.h"

#define PEM_BEGIN_CERT "-----BEGIN CERTIFICATE-----"
#define PEM_END_CERT "-----END CERTIFICATE-----"
#define PEM_CHAIN_MAX ((size_t) 1024 * 1024)

static inline void openssl_freep(void *p) {
        OPENSSL_free(*(void **) p);
}
#define _cleanup_openssl_free_ _cleanup_(openssl_freep)

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 **, x509_chain_free);

void x509_chain_free(X509 **chain) {
        if (!chain)
                return;
        for (X509 **i = chain; *i; i++)
                X509_free(*i);
        free(chain);
}

/* Parse exactly one CERTIFICATE block (BEGIN line through END line, nothing else) with
 * OpenSSL's PEM reader over a memory BIO bounded to that block. PEM headers are refused
 * (an encrypted-PEM header would otherwise make OpenSSL ask for a password on the
 * terminal), and the DER must be one complete certificate with no trailing bytes.
 * Returns 0 or -EBADMSG/-ENOMEM. */
static int x509_from_pem_block(const char *block, size_t len, X509 **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_openssl_free_ char *name = NULL, *header = NULL;
        _cleanup_openssl_free_ unsigned char *data = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        const unsigned char *p;
        long data_len = 0;

        /* OpenSSL's line reader would silently cut a line at a NUL byte. */
        if (memchr(block, 0, len))
                return -EBADMSG;

        /* Copy with a final newline: the END line may be the last bytes of the input. */
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, block, len);
        buf[len] = '\n';

        bio = BIO_new_mem_buf(buf, (int) (len + 1));
        if (!bio)
                return ssl_error(-ENOMEM);

        if (!PEM_read_bio_ex(bio, &name, &header, &data, &data_len, PEM_FLAG_EAY_COMPATIBLE))
                return ssl_error(-EBADMSG);
        if (!streq(name, "CERTIFICATE") || !isempty(header) || data_len <= 0)
                return ssl_error(-EBADMSG);

        p = data;
        cert = d2i_X509(NULL, &p, data_len);
        if (!cert || p != data + data_len)
                return ssl_error(-EBADMSG);

        *ret = TAKE_PTR(cert);
        return 0;
}

int x509_chain_from_pem(const char *pem, size_t len, X509 ***ret) {
        _cleanup_(x509_chain_freep) X509 **chain = NULL;
        const size_t begin_len = strlen(PEM_BEGIN_CERT), end_len = strlen(PEM_END_CERT);
        size_t n = 0, allocated = 0, pos = 0;
        int r;

        if (!ret || (!pem && len > 0))
                return -EINVAL;
        if (len > PEM_CHAIN_MAX)
                return -E2BIG;
        if (len == 0)
                return -ENODATA; /* also keeps a NULL pem away from memmem() */

        for (;;) {
                const char *begin, *body, *end, *next;
                X509 *cert = NULL;

                begin = memmem(pem + pos, len - pos, PEM_BEGIN_CERT, begin_len);
                if (!begin)
                        break;
                body = begin + begin_len;

                end = memmem(body, (size_t) (pem + len - body), PEM_END_CERT, end_len);
                if (!end)
                        return -EBADMSG; /* truncated */
                /* A second BEGIN before the END means the first block was cut short. */
                next = memmem(body, (size_t) (end - body), PEM_BEGIN_CERT, begin_len);
                if (next)
                        return -EBADMSG;

                r = x509_from_pem_block(begin, (size_t) (end + end_len - begin), &cert);
                if (r < 0)
                        return r;

                if (n + 1 >= allocated) {
                        size_t k = allocated ? allocated * 2 : 4;
                        X509 **m = realloc(chain, k * sizeof(X509 *));

                        if (!m) {
                                X509_free(cert);
                                return -ENOMEM;
                        }
                        chain = m;
                        allocated = k;
                }
                chain[n++] = cert;
                chain[n] = NULL;

                pos = (size_t) (end + end_len - pem);
        }

        if (n == 0)
                return -ENODATA;

        *ret = TAKE_PTR(chain);
        return (int) n;
}

/* Copy the contents of a memory BIO into a NUL-terminated malloc() string. */
static int bio_to_string(BIO *bio, char **ret) {
        char *data = NULL, *s;
        long n;

        n = BIO_get_mem_data(bio, &data);
        if (n < 0 || (n > 0 && !data))
                return -EIO;
        s = malloc((size_t) n + 1);
        if (!s)
                return -ENOMEM;
        if (n > 0)
                memcpy(s, data, (size_t) n);
        s[n] = '\0';

        *ret = s;
        return 0;
}

int x509_to_pem(X509 *cert, char **ret) {
        _cleanup_(BIO_freep) BIO *bio = NULL;

        if (!cert || !ret)
                return -EINVAL;

        bio = BIO_new(BIO_s_mem());
        if (!bio)
                return ssl_error(-ENOMEM);
        if (!PEM_write_bio_X509(bio, cert))
                return ssl_error(-EIO);

        return bio_to_string(bio, ret);
}

int x509_chain_to_pem(X509 *const *chain, char **ret) {
        _cleanup_(BIO_freep) BIO *bio = NULL;

        if (!chain || !ret)
                return -EINVAL;
        if (!chain[0])
                return -ENODATA;

        bio = BIO_new(BIO_s_mem());
        if (!bio)
                return ssl_error(-ENOMEM);
        for (X509 *const *i = chain; *i; i++)
                if (!PEM_write_bio_X509(bio, *i))
                        return ssl_error(-EIO);

        return bio_to_string(bio, ret);
}

/* Convert an ASN1_TIME (UTCTime or GeneralizedTime, always UTC in certificates) to
 * time_t. ASN1_TIME_to_tm() would use the current time for NULL, so refuse that first. */
static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *ret) {
        struct tm tm = {};
        time_t x;

        if (!t)
                return -ENODATA;
        if (ASN1_TIME_to_tm(t, &tm) != 1)
                return ssl_error(-EBADMSG);

        errno = 0;
        x = timegm(&tm);
        if (x == (time_t) -1 && errno != 0)
                return -ERANGE;

        *ret = x;
        return 0;
}

int x509_not_before(X509 *cert, time_t *ret) {
        if (!cert || !ret)
                return -EINVAL;
        return asn1_time_to_time_t(X509_get0_notBefore(cert), ret);
}

int x509_not_after(X509 *cert, time_t *ret) {
        if (!cert || !ret)
                return -EINVAL;
        return asn1_time_to_time_t(X509_get0_notAfter(cert), ret);
}

/* A dNSName as a C string. Names with bytes outside printable ASCII (NUL, spaces,
 * control characters, UTF-8) are malformed and would be unsafe to compare or log. */
static int dns_name_to_string(const ASN1_STRING *s, char **ret) {
        const unsigned char *d = ASN1_STRING_get0_data(s);
        int n = ASN1_STRING_length(s);
        char *c;

        if (!d || n <= 0)
                return -EBADMSG;
        for (int i = 0; i < n; i++)
                if (d[i] <= ' ' || d[i] >= 0x7f)
                        return -EBADMSG;

        c = strndup((const char *) d, (size_t) n);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

/* An iPAddress (4 or 16 bytes) in the text form inet_ntop() gives (RFC 5952 for IPv6). */
static int ip_address_to_string(const ASN1_OCTET_STRING *s, char **ret) {
        const unsigned char *d = ASN1_STRING_get0_data(s);
        int n = ASN1_STRING_length(s);
        char buf[INET6_ADDRSTRLEN];
        int family;
        char *c;

        if (n == sizeof(struct in_addr))
                family = AF_INET;
        else if (n == sizeof(struct in6_addr))
                family = AF_INET6;
        else
                return -EBADMSG;

        if (!d || !inet_ntop(family, d, buf, sizeof buf))
                return -EBADMSG;

        c = strdup(buf);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int x509_sans(X509 *cert, char ***ret) {
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *gens = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        int crit = 0;

        if (!cert || !ret)
                return -EINVAL;

        gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
        if (!gens && crit != -1)
                return ssl_error(-EBADMSG); /* undecodable, or more than one extension */
        ERR_clear_error();

        int count = gens ? sk_GENERAL_NAME_num(gens) : 0;
        l = calloc((size_t) count + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (int i = 0; i < count; i++) {
                const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
                int type, r;
                void *v;

                v = GENERAL_NAME_get0_value(gn, &type);
                if (type == GEN_DNS)
                        r = dns_name_to_string(v, &l[n]);
                else if (type == GEN_IPADD)
                        r = ip_address_to_string(v, &l[n]);
                else
                        continue; /* email, URI, … are not ours to report */
                if (r < 0)
                        return r;
                n++;
        }

        *ret = TAKE_PTR(l);
        return (int) n;
}

int x509_serial_hex(X509 *cert, char **ret) {
        const ASN1_INTEGER *serial;
        const unsigned char *d;
        char *s, *p;
        int n;

        if (!cert || !ret)
                return -EINVAL;

        serial = X509_get0_serialNumber(cert);
        if (!serial)
                return -ENODATA;
        d = ASN1_STRING_get0_data(serial);
        n = ASN1_STRING_length(serial);
        if (n < 0 || (n > 0 && !d))
                return -EBADMSG;

        /* OpenSSL keeps the magnitude without DER's sign padding; drop any other
         * leading zero bytes too, but print zero as "00". */
        while (n > 1 && d[0] == 0) {
                d++;
                n--;
        }

        p = s = malloc(1 + (n > 0 ? 2 * (size_t) n : 2) + 1);
        if (!s)
                return -ENOMEM;
        if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER)
                *p++ = '-';
        if (n == 0) {
                *p++ = '0';
                *p++ = '0';
        }
        for (int i = 0; i < n; i++) {
                static const char hex[] = "0123456789abcdef";
                *p++ = hex[d[i] >> 4];
                *p++ = hex[d[i] & 0xf];
        }
        *p = '\0';

        *ret = s;
        return 0;
}

int x509_serial_der(X509 *cert, uint8_t **ret, size_t *ret_len) {
        _cleanup_free_ uint8_t *der = NULL;
        const ASN1_INTEGER *serial;
        size_t hdr, content_len;
        uint8_t *p, *content;
        int n;

        if (!cert || !ret || !ret_len)
                return -EINVAL;

        serial = X509_get0_serialNumber(cert);
        if (!serial)
                return -ENODATA;

        n = i2d_ASN1_INTEGER(serial, NULL);
        if (n <= 0)
                return ssl_error(-EBADMSG);
        der = malloc((size_t) n);
        if (!der)
                return -ENOMEM;
        p = der;
        if (i2d_ASN1_INTEGER(serial, &p) != n)
                return ssl_error(-EIO);

        /* Strip the INTEGER tag and the (short or long form) length. */
        if (n < 2 || der[0] != V_ASN1_INTEGER)
                return -EBADMSG;
        if (der[1] < 0x80) {
                hdr = 2;
                content_len = der[1];
        } else {
                size_t k = der[1] & 0x7f;

                if (k == 0 || k > sizeof(size_t) || (size_t) n < 2 + k)
                        return -EBADMSG;
                content_len = 0;
                for (size_t i = 0; i < k; i++)
                        content_len = (content_len << 8) | der[2 + i];
                hdr = 2 + k;
        }
        if (content_len == 0 || hdr + content_len != (size_t) n)
                return -EBADMSG;

        content = malloc(content_len);
        if (!content)
                return -ENOMEM;
        memcpy(content, der + hdr, content_len);

        *ret = content;
        *ret_len = content_len;
        return 0;
}

int x509_aki(X509 *cert, uint8_t **ret, size_t *ret_len) {
        _cleanup_(AUTHORITY_KEYID_freep) AUTHORITY_KEYID *aki = NULL;
        const unsigned char *d;
        uint8_t *c;
        int crit = 0, n;

        if (!cert || !ret || !ret_len)
                return -EINVAL;

        aki = X509_get_ext_d2i(cert, NID_authority_key_identifier, &crit, NULL);
        if (!aki) {
                if (crit == -1)
                        return ssl_error(-ENODATA);
                return ssl_error(-EBADMSG);
        }
        if (!aki->keyid)
                return -ENODATA;

        d = ASN1_STRING_get0_data(aki->keyid);
        n = ASN1_STRING_length(aki->keyid);
        if (!d || n <= 0)
                return -EBADMSG;

        c = malloc((size_t) n);
        if (!c)
                return -ENOMEM;
        memcpy(c, d, (size_t) n);

        *ret = c;
        *ret_len = (size_t) n;
        return 0;
}

/* The first commonName of name as UTF-8; -ENODATA if there is none, -EBADMSG if it cannot
 * be converted or holds a NUL byte. */
static int name_get_cn(const X509_NAME *name, char **ret) {
        _cleanup_openssl_free_ unsigned char *utf8 = NULL;
        const X509_NAME_ENTRY *e;
        int i, n;
        char *c;

        if (!name)
                return -ENODATA;

        i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
        if (i < 0)
                return ssl_error(-ENODATA);
        e = X509_NAME_get_entry(name, i);
        if (!e)
                return ssl_error(-EBADMSG);

        n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (n < 0)
                return ssl_error(-EBADMSG);
        if (memchr(utf8, 0, (size_t) n))
                return -EBADMSG;

        c = strndup((const char *) utf8, (size_t) n);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int x509_issuer_cn(X509 *cert, char **ret) {
        if (!cert || !ret)
                return -EINVAL;
        return name_get_cn(X509_get_issuer_name(cert), ret);
}

int x509_subject_cn(X509 *cert, char **ret) {
        if (!cert || !ret)
                return -EINVAL;
        return name_get_cn(X509_get_subject_name(cert), ret);
}

int x509_matches_key(X509 *cert, EVP_PKEY *key) {
        EVP_PKEY *pub;
        int r;

        if (!cert || !key)
                return -EINVAL;

        pub = X509_get0_pubkey(cert);
        if (!pub)
                return ssl_error(-EBADMSG);

        /* 1 equal, 0 different, -1 different key types, -2 cannot compare. */
        r = EVP_PKEY_eq(pub, key);
        ERR_clear_error();
        if (r == -2)
                return -EOPNOTSUPP;
        return r == 1;
}
