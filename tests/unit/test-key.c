/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "key.h"
#include "ssl-util.h"
#include "test.h"

static const KeyType all_types[] = { KEY_EC256, KEY_EC384, KEY_RSA2048, KEY_RSA3072, KEY_RSA4096 };

/* Free a PEM string after wiping it, as callers of key_to_pem() should. */
static void pem_freep(char **p) {
        if (*p) {
                explicit_bzero(*p, strlen(*p));
                free(*p);
        }
}

/* Encode key as PEM in the given structure ("type-specific" for the traditional
 * "EC PRIVATE KEY"/"RSA PRIVATE KEY", "PrivateKeyInfo" for PKCS#8). NULL on failure. */
static char *encode_pem(EVP_PKEY *key, int selection, const char *structure) {
        OSSL_ENCODER_CTX *ctx = OSSL_ENCODER_CTX_new_for_pkey(key, selection, "PEM", structure, NULL);
        unsigned char *data = NULL;
        size_t len = 0;
        char *s = NULL;

        if (ctx && OSSL_ENCODER_CTX_get_num_encoders(ctx) > 0 && OSSL_ENCODER_to_data(ctx, &data, &len) == 1) {
                s = strndup((const char *) data, len);
                OPENSSL_clear_free(data, len);
        }
        OSSL_ENCODER_CTX_free(ctx);
        return s;
}

static int from_string(const char *pem, EVP_PKEY **ret) {
        return key_from_pem(pem, strlen(pem), ret);
}

TEST(type_names) {
        for (KeyType t = 0; t < _KEY_TYPE_MAX; t++) {
                const char *s = key_type_to_string(t);
                REQUIRE(s);
                CHECK_INT(key_type_from_string(s), t);
        }
        CHECK_STR(key_type_to_string(KEY_EC256), "ec-256");
        CHECK_STR(key_type_to_string(KEY_RSA4096), "rsa-4096");
        CHECK(!key_type_to_string(_KEY_TYPE_MAX));
        CHECK(!key_type_to_string(_KEY_TYPE_INVALID));
        CHECK_INT(key_type_from_string("ec-521"), -EINVAL);
        CHECK_INT(key_type_from_string("EC-256"), -EINVAL);
        CHECK_INT(key_type_from_string(""), -EINVAL);
        CHECK_INT(key_type_from_string(NULL), -EINVAL);
}

/* Every type: generate, identify, and round-trip through PKCS#8 and the traditional
 * "EC PRIVATE KEY" / "RSA PRIVATE KEY" that older tools write. */
TEST(generate_and_round_trip) {
        for (size_t i = 0; i < ELEMENTSOF(all_types); i++) {
                KeyType t = all_types[i], got = _KEY_TYPE_INVALID;
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL, *back = NULL, *back2 = NULL;
                _cleanup_(pem_freep) char *pem = NULL, *trad = NULL;
                size_t len = 0;

                CHECK_INT(key_generate(t, &k), 0);
                REQUIRE(k);
                CHECK_INT(key_get_type(k, &got), 0);
                CHECK_INT(got, t);

                CHECK_INT(key_to_pem(k, &pem, &len), 0);
                REQUIRE(pem);
                CHECK_INT(len, strlen(pem));
                CHECK(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
                CHECK(strstr(pem, "-----END PRIVATE KEY-----\n"));

                CHECK_INT(key_from_pem(pem, len, &back), 0);
                REQUIRE(back);
                CHECK_INT(EVP_PKEY_eq(k, back), 1);
                got = _KEY_TYPE_INVALID;
                CHECK_INT(key_get_type(back, &got), 0);
                CHECK_INT(got, t);

                trad = encode_pem(k, EVP_PKEY_KEYPAIR, "type-specific");
                REQUIRE(trad);
                CHECK(strncmp(trad, t <= KEY_EC384 ? "-----BEGIN EC PRIVATE KEY-----"
                                                   : "-----BEGIN RSA PRIVATE KEY-----", 30) == 0);
                CHECK_INT(from_string(trad, &back2), 0);
                REQUIRE(back2);
                CHECK_INT(EVP_PKEY_eq(k, back2), 1);
                got = _KEY_TYPE_INVALID;
                CHECK_INT(key_get_type(back2, &got), 0);
                CHECK_INT(got, t);
        }

        EVP_PKEY *sentinel = (EVP_PKEY *) &sentinel, *k = sentinel;
        CHECK_INT(key_generate(_KEY_TYPE_MAX, &k), -EINVAL);
        CHECK_INT(key_generate(_KEY_TYPE_INVALID, &k), -EINVAL);
        CHECK(k == sentinel);
}

/* Each of these must fail with err and leave *ret alone. */
static void check_pem_fails(const char *pem, size_t len, int err) {
        EVP_PKEY *sentinel = (EVP_PKEY *) &sentinel, *k = sentinel;
        int r = key_from_pem(pem, len, &k);
        if (r != err)
                fprintf(stderr, "PEM that gave %d:\n%.*s\n", r, (int) len, pem ? pem : "");
        CHECK_INT(r, err);
        CHECK(k == sentinel);
}

TEST(bad_pem) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_(pem_freep) char *pem = NULL;
        size_t len = 0;

        REQUIRE(key_generate(KEY_EC256, &k) == 0);
        REQUIRE(key_to_pem(k, &pem, &len) == 0);

        check_pem_fails("", 0, -EBADMSG);
        check_pem_fails(NULL, 5, -EINVAL);
        check_pem_fails("garbage", 7, -EBADMSG);
        check_pem_fails("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", 54, -EBADMSG);

        /* Truncated anywhere: before the END line, inside the base64, after BEGIN. */
        for (size_t cut = 1; cut < len - 5; cut += 7)
                check_pem_fails(pem, cut, -EBADMSG);

        /* A corrupted base64 character, and one that changes the DER. */
        _cleanup_free_ char *bad = strdup(pem);
        REQUIRE(bad);
        bad[40] = '*';
        check_pem_fails(bad, len, -EBADMSG);
        memcpy(bad, pem, len);
        bad[30] = bad[30] == 'A' ? 'B' : 'A';   /* first DER bytes: the SEQUENCE header */
        check_pem_fails(bad, len, -EBADMSG);

        /* Right content, wrong label. */
        _cleanup_free_ char *relabelled = NULL;
        const char *body = pem + strlen("-----BEGIN PRIVATE KEY-----\n");
        size_t body_len = strstr(pem, "-----END") - body;
        REQUIRE(asprintf(&relabelled, "-----BEGIN CERTIFICATE-----\n%.*s-----END CERTIFICATE-----\n",
                         (int) body_len, body) > 0);
        check_pem_fails(relabelled, strlen(relabelled), -EBADMSG);

        /* Trailing garbage, a second key, an embedded NUL. */
        _cleanup_free_ char *trailing = NULL, *twice = NULL, *leading = NULL;
        REQUIRE(asprintf(&trailing, "%sjunk\n", pem) > 0);
        check_pem_fails(trailing, strlen(trailing), -EBADMSG);
        REQUIRE(asprintf(&twice, "%s%s", pem, pem) > 0);
        check_pem_fails(twice, strlen(twice), -EBADMSG);
        check_pem_fails(pem, len + 1, -EBADMSG);        /* includes the NUL */

        /* Comment lines before the block and blank lines after are fine. */
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *back = NULL;
        REQUIRE(asprintf(&leading, "Bag Attributes\n    localKeyID: 01\n%s\n\n  \n", pem) > 0);
        CHECK_INT(from_string(leading, &back), 0);

        /* Oversized input. */
        size_t big_len = 64 * 1024 + 1;
        _cleanup_free_ char *big = malloc(big_len);
        REQUIRE(big);
        memset(big, '\n', big_len);
        memcpy(big, pem, len);
        check_pem_fails(big, big_len, -E2BIG);
}

/* Only private keys, never a passphrase prompt. */
TEST(not_a_usable_private_key) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        REQUIRE(key_generate(KEY_EC256, &k) == 0);

        _cleanup_(pem_freep) char *pub = encode_pem(k, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
        REQUIRE(pub);
        CHECK(strncmp(pub, "-----BEGIN PUBLIC KEY-----", 26) == 0);
        check_pem_fails(pub, strlen(pub), -EBADMSG);

        /* Encrypted PKCS#8: refused without calling any password callback. */
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
        char *data = NULL;
        REQUIRE(bio);
        REQUIRE(PEM_write_bio_PKCS8PrivateKey(bio, k, EVP_aes_256_cbc(), NULL, 0, NULL, (void *) "secret") == 1);
        long n = BIO_get_mem_data(bio, &data);
        REQUIRE(n > 0);
        CHECK(strncmp(data, "-----BEGIN ENCRYPTED PRIVATE KEY-----", 37) == 0);
        check_pem_fails(data, (size_t) n, -EBADMSG);

        /* Traditional encrypted PEM: the Proc-Type header. */
        _cleanup_(pem_freep) char *trad = encode_pem(k, EVP_PKEY_KEYPAIR, "type-specific");
        REQUIRE(trad);
        const char *nl = strchr(trad, '\n');
        REQUIRE(nl);
        _cleanup_free_ char *enc = NULL;
        REQUIRE(asprintf(&enc, "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                               "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n%s", nl + 1) > 0);
        check_pem_fails(enc, strlen(enc), -EBADMSG);
}

/* Keys of types renewd does not use load as -EOPNOTSUPP. */
TEST(unsupported_types) {
        static const struct {
                const char *alg;
                const char *arg;
                size_t bits;
        } other[] = {
                { "EC", "P-521", 0 },
                { "EC", "secp256k1", 0 },
                { "ED25519", NULL, 0 },
                { "RSA", NULL, 1024 },
        };

        for (size_t i = 0; i < ELEMENTSOF(other); i++) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
                _cleanup_(pem_freep) char *pem = NULL;
                KeyType t = 1234;

                if (other[i].bits)
                        k = EVP_PKEY_Q_keygen(NULL, NULL, other[i].alg, other[i].bits);
                else if (other[i].arg)
                        k = EVP_PKEY_Q_keygen(NULL, NULL, other[i].alg, other[i].arg);
                else
                        k = EVP_PKEY_Q_keygen(NULL, NULL, other[i].alg);
                REQUIRE(k);
                CHECK_INT(key_get_type(k, &t), -EOPNOTSUPP);
                CHECK_INT(t, 1234);

                pem = encode_pem(k, EVP_PKEY_KEYPAIR, "PrivateKeyInfo");
                REQUIRE(pem);
                check_pem_fails(pem, strlen(pem), -EOPNOTSUPP);
        }
}

/* A P-256 key whose stored public point belongs to another private key: signatures made
 * with it would not verify under the JWK renewd publishes. */
TEST(mismatched_pair) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *a = NULL, *b = NULL, *mixed = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_(BN_freep) BIGNUM *priv = NULL;
        unsigned char pub[65];
        size_t pub_len = 0;

        REQUIRE(key_generate(KEY_EC256, &a) == 0);
        REQUIRE(key_generate(KEY_EC256, &b) == 0);
        REQUIRE(EVP_PKEY_get_bn_param(a, OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1);
        REQUIRE(EVP_PKEY_get_octet_string_param(b, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &pub_len) == 1);

        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        REQUIRE(bld);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len);
        OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
        OSSL_PARAM_BLD_free(bld);
        REQUIRE(params);

        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        int ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
                 EVP_PKEY_fromdata(ctx, &mixed, EVP_PKEY_KEYPAIR, params) == 1;
        OSSL_PARAM_free(params);
        REQUIRE(ok);

        _cleanup_(pem_freep) char *pem = encode_pem(mixed, EVP_PKEY_KEYPAIR, "PrivateKeyInfo");
        REQUIRE(pem);
        check_pem_fails(pem, strlen(pem), -EBADMSG);
}

/* Write len bytes of data to name in dir_fd. */
static int write_file(int dir_fd, const char *name, const char *data, size_t len) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        return write(fd, data, len) == (ssize_t) len ? 0 : -EIO;
}

TEST(load) {
        char dir[] = "/tmp/test-key-XXXXXX";
        _cleanup_(pem_freep) char *pem = NULL;
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        EVP_PKEY *sentinel = (EVP_PKEY *) &sentinel, *out = sentinel;
        size_t len = 0;

        REQUIRE(key_generate(KEY_EC384, &k) == 0);
        REQUIRE(key_to_pem(k, &pem, &len) == 0);
        REQUIRE(mkdtemp(dir));
        dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        REQUIRE(dfd >= 0);

        REQUIRE(write_file(dfd, "key.pem", pem, len) == 0);
        REQUIRE(symlinkat("key.pem", dfd, "link.pem") == 0);
        REQUIRE(mkdirat(dfd, "subdir", 0700) == 0);
        REQUIRE(mkfifoat(dfd, "fifo", 0600) == 0);
        REQUIRE(write_file(dfd, "garbage.pem", "not a key\n", 10) == 0);
        REQUIRE(write_file(dfd, "empty.pem", "", 0) == 0);

        size_t big_len = 64 * 1024 + 1;
        _cleanup_free_ char *big = malloc(big_len);
        REQUIRE(big);
        memset(big, '\n', big_len);
        memcpy(big, pem, len);
        REQUIRE(write_file(dfd, "big.pem", big, big_len) == 0);
        REQUIRE(write_file(dfd, "fits.pem", big, big_len - 1) == 0);

        {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *a = NULL, *b = NULL, *c = NULL;
                _cleanup_free_ char *abs = NULL;

                CHECK_INT(key_load(dfd, "key.pem", &a), 0);
                CHECK(a && EVP_PKEY_eq(a, k) == 1);

                REQUIRE(asprintf(&abs, "%s/key.pem", dir) > 0);
                CHECK_INT(key_load(AT_FDCWD, abs, &b), 0);
                CHECK(b && EVP_PKEY_eq(b, k) == 1);

                /* 64 KiB exactly: the key followed by blank lines. */
                CHECK_INT(key_load(dfd, "fits.pem", &c), 0);
        }

        /* A symlink is refused even though its target is a good key. */
        CHECK_INT(key_load(dfd, "link.pem", &out), -ELOOP);
        CHECK_INT(key_load(dfd, "missing.pem", &out), -ENOENT);
        CHECK_INT(key_load(dfd, "subdir", &out), -EISDIR);
        CHECK_INT(key_load(dfd, "fifo", &out), -EBADFD);        /* and does not block */
        CHECK_INT(key_load(dfd, "big.pem", &out), -EFBIG);
        CHECK_INT(key_load(dfd, "garbage.pem", &out), -EBADMSG);
        CHECK_INT(key_load(dfd, "empty.pem", &out), -EBADMSG);
        CHECK_INT(key_load(dfd, NULL, &out), -EINVAL);
        CHECK(out == sentinel);

        static const char *const names[] = { "key.pem", "link.pem", "fifo", "garbage.pem", "empty.pem",
                                             "big.pem", "fits.pem" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                CHECK(unlinkat(dfd, names[i], 0) == 0);
        CHECK(unlinkat(dfd, "subdir", AT_REMOVEDIR) == 0);
        CHECK(rmdir(dir) == 0);
}

TEST_MAIN(T(type_names), T(generate_and_round_trip), T(bad_pem), T(not_a_usable_private_key),
          T(unsupported_types), T(mismatched_pair), T(load));
