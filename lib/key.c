/* SPDX-License-Identifier: MIT */
/* Private keys: the five types renewd uses, generated and (de)serialised through the
 * OpenSSL 3 EVP, encoder and decoder APIs only. Buffers that held a private key in PEM or
 * DER form are wiped before they are freed. */

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "fileio.h"
#include "key.h"
#include "ssl-util.h"

/* Key files are a few KiB at most (RSA-4096 PKCS#8 PEM is about 3.3 KiB). */
#define KEY_FILE_MAX (64U * 1024U)

static const struct {
        const char *name;
        int nid;        /* EC: the curve */
        int bits;       /* RSA: the modulus size */
} key_types[_KEY_TYPE_MAX] = {
        [KEY_EC256]   = { "ec-256",   NID_X9_62_prime256v1, 0    },
        [KEY_EC384]   = { "ec-384",   NID_secp384r1,        0    },
        [KEY_RSA2048] = { "rsa-2048", NID_undef,            2048 },
        [KEY_RSA3072] = { "rsa-3072", NID_undef,            3072 },
        [KEY_RSA4096] = { "rsa-4096", NID_undef,            4096 },
};

const char *key_type_to_string(KeyType t) {
        if (t < 0 || t >= _KEY_TYPE_MAX)
                return NULL;
        return key_types[t].name;
}

KeyType key_type_from_string(const char *s) {
        if (!s)
                return _KEY_TYPE_INVALID;
        for (KeyType t = 0; t < _KEY_TYPE_MAX; t++)
                if (streq(key_types[t].name, s))
                        return t;
        return _KEY_TYPE_INVALID;
}

int key_generate(KeyType t, EVP_PKEY **ret) {
        EVP_PKEY *k;

        if (!ret || t < 0 || t >= _KEY_TYPE_MAX)
                return -EINVAL;

        if (key_types[t].bits > 0)
                k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) key_types[t].bits);
        else
                k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", OBJ_nid2sn(key_types[t].nid));
        if (!k)
                return ssl_error(-EIO);

        *ret = k;
        return 0;
}

int key_get_type(EVP_PKEY *key, KeyType *ret) {
        if (!key || !ret)
                return -EINVAL;

        if (EVP_PKEY_is_a(key, "EC")) {
                char group[80];
                int nid;

                /* Keys with explicit curve parameters have no name: not ours. */
                if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
                                                    group, sizeof group, NULL))
                        return ssl_error(-EOPNOTSUPP);
                nid = OBJ_sn2nid(group);
                if (nid == NID_undef)
                        nid = EC_curve_nist2nid(group);

                for (KeyType t = 0; t < _KEY_TYPE_MAX; t++)
                        if (key_types[t].bits == 0 && key_types[t].nid == nid) {
                                *ret = t;
                                return 0;
                        }
                return -EOPNOTSUPP;
        }

        /* Plain RSA only: RSA-PSS keys cannot produce RS256 signatures. */
        if (EVP_PKEY_is_a(key, "RSA")) {
                int bits = EVP_PKEY_get_bits(key);

                for (KeyType t = 0; t < _KEY_TYPE_MAX; t++)
                        if (key_types[t].bits > 0 && key_types[t].bits == bits) {
                                *ret = t;
                                return 0;
                        }
                return -EOPNOTSUPP;
        }

        return -EOPNOTSUPP;
}

/* A PEM block as PEM_read_bio_ex() returns it with PEM_FLAG_SECURE. */
typedef struct PemBlock {
        char *name;
        char *header;
        unsigned char *data;
        long len;
} PemBlock;

static void pem_block_done(PemBlock *b) {
        OPENSSL_secure_free(b->name);
        OPENSSL_secure_free(b->header);
        if (b->data)
                OPENSSL_secure_clear_free(b->data, b->len > 0 ? (size_t) b->len : 0);
        *b = (PemBlock) {};
}

/* Sign a fixed message with key and verify it with the same key's public half, so that a
 * damaged file whose private and public parts disagree (RSA: d not matching n and e; EC: a
 * stored public point not matching the scalar) is refused here, not by the ACME server.
 * Returns 0 or -EBADMSG. */
static int key_check_pair(EVP_PKEY *key) {
        static const unsigned char msg[] = "renewd key pair check";
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *sctx = NULL, *vctx = NULL;
        _cleanup_free_ unsigned char *sig = NULL;
        size_t siglen = 0;

        sctx = EVP_MD_CTX_new();
        vctx = EVP_MD_CTX_new();
        if (!sctx || !vctx)
                return -ENOMEM;

        if (EVP_DigestSignInit(sctx, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestSign(sctx, NULL, &siglen, msg, sizeof msg) != 1)
                return ssl_error(-EBADMSG);
        sig = malloc(siglen);
        if (!sig)
                return -ENOMEM;
        if (EVP_DigestSign(sctx, sig, &siglen, msg, sizeof msg) != 1)
                return ssl_error(-EBADMSG);

        if (EVP_DigestVerifyInit(vctx, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestVerify(vctx, sig, siglen, msg, sizeof msg) != 1)
                return ssl_error(-EBADMSG);
        return 0;
}

/* Decode the DER of one private key in the given structure ("PrivateKeyInfo" for PKCS#8,
 * "type-specific" for the traditional formats, with keytype naming the algorithm). All
 * of the DER must be used. Returns 0 or -EBADMSG. */
static int key_from_der(const unsigned char *der, size_t len, const char *structure, const char *keytype,
                        EVP_PKEY **ret) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        OSSL_DECODER_CTX *dctx;
        int ok;

        dctx = OSSL_DECODER_CTX_new_for_pkey(&k, "DER", structure, keytype, EVP_PKEY_KEYPAIR, NULL, NULL);
        if (!dctx)
                return ssl_error(-ENOMEM);
        ok = OSSL_DECODER_CTX_get_num_decoders(dctx) > 0 &&
             OSSL_DECODER_from_data(dctx, &der, &len) == 1;
        OSSL_DECODER_CTX_free(dctx);
        if (!ok || !k || len != 0)
                return ssl_error(-EBADMSG);

        *ret = TAKE_PTR(k);
        return 0;
}

int key_from_pem(const char *pem, size_t len, EVP_PKEY **ret) {
        static const struct {
                const char *pem_name;
                const char *structure;
                const char *keytype;
        } formats[] = {
                { "PRIVATE KEY",     "PrivateKeyInfo", NULL  },
                { "EC PRIVATE KEY",  "type-specific",  "EC"  },
                { "RSA PRIVATE KEY", "type-specific",  "RSA" },
        };
        _cleanup_(pem_block_done) PemBlock b = {};
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        KeyType type;
        char *rest = NULL;
        long nrest;
        size_t i;
        int r;

        if (!ret || (!pem && len > 0))
                return -EINVAL;
        if (len > KEY_FILE_MAX)
                return -E2BIG;
        if (len == 0 || memchr(pem, 0, len))
                return -EBADMSG;

        bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return ssl_error(-ENOMEM);

        /* Read the block ourselves rather than through PEM_read_bio_PrivateKey(): that
         * would skip to any later block, accept encrypted keys and could ask for a
         * passphrase on the terminal. */
        if (PEM_read_bio_ex(bio, &b.name, &b.header, &b.data, &b.len, PEM_FLAG_SECURE) != 1)
                return ssl_error(-EBADMSG);
        if (!isempty(b.header) || b.len <= 0)
                return -EBADMSG;        /* "Proc-Type: 4,ENCRYPTED" and the like */

        /* One key per file: only whitespace may follow the END line. */
        nrest = BIO_get_mem_data(bio, &rest);
        for (long j = 0; j < nrest; j++)
                if (!strchr(" \t\r\n", rest[j]))
                        return -EBADMSG;

        for (i = 0; i < ELEMENTSOF(formats); i++)
                if (streq(b.name, formats[i].pem_name))
                        break;
        if (i >= ELEMENTSOF(formats))
                return -EBADMSG;

        r = key_from_der(b.data, (size_t) b.len, formats[i].structure, formats[i].keytype, &k);
        if (r < 0)
                return r;

        r = key_get_type(k, &type);
        if (r < 0)
                return r;
        r = key_check_pair(k);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(k);
        return 0;
}

/* A heap buffer that is wiped before it is freed. */
typedef struct SecretBuffer {
        char *data;
        size_t size;
} SecretBuffer;

static void secret_buffer_done(SecretBuffer *b) {
        if (b->data) {
                OPENSSL_cleanse(b->data, b->size);
                free(b->data);
        }
        *b = (SecretBuffer) {};
}

int key_load(int dir_fd, const char *path, EVP_PKEY **ret) {
        _cleanup_(secret_buffer_done) SecretBuffer buf = {};
        int r;

        if (!path || !ret)
                return -EINVAL;

        /* O_NOFOLLOW: a key reached through a symlink is refused. read_file_at_full() opens
         * with O_NONBLOCK, so a FIFO planted at the path does not hang the daemon either. */
        r = read_file_at_full(dir_fd, path, O_NOFOLLOW, KEY_FILE_MAX, &buf.data, &buf.size);
        if (r < 0)
                return r;

        return key_from_pem(buf.data, buf.size, ret);
}

int key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_len) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        char *data = NULL, *out;
        long n;

        if (!key || !ret)
                return -EINVAL;

        /* A secure-memory BIO: its buffer is cleared when it grows and when it is freed. */
        bio = BIO_new(BIO_s_secmem());
        if (!bio)
                return ssl_error(-ENOMEM);
        if (PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
                return ssl_error(-EIO);

        n = BIO_get_mem_data(bio, &data);
        if (n <= 0 || !data)
                return -EIO;

        out = malloc((size_t) n + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, data, (size_t) n);
        out[n] = '\0';

        *ret = out;
        if (ret_len)
                *ret_len = (size_t) n;
        return 0;
}
