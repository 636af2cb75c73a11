/* SPDX-License-Identifier: MIT */
#pragma once

/* Private keys: generate, load and save (PEM, PKCS#8). */

#include <openssl/evp.h>
#include <errno.h>
#include <sys/types.h>

typedef enum KeyType {
        KEY_EC256,
        KEY_EC384,
        KEY_RSA2048,
        KEY_RSA3072,
        KEY_RSA4096,
        _KEY_TYPE_MAX,
        _KEY_TYPE_INVALID = -EINVAL,
} KeyType;

/* "ec-256" … "rsa-4096"; NULL for invalid. */
const char *key_type_to_string(KeyType t);
/* Returns the type or -EINVAL. */
KeyType key_type_from_string(const char *s);

int key_generate(KeyType t, EVP_PKEY **ret);
/* What type a key is; -EOPNOTSUPP for keys renewd does not use (other curves, sizes). */
int key_get_type(EVP_PKEY *key, KeyType *ret);

/* Parse a PEM private key of len bytes: "PRIVATE KEY" (unencrypted PKCS#8), or the
 * traditional "EC PRIVATE KEY" / "RSA PRIVATE KEY". Text before the block is skipped, only
 * whitespace may follow it. -EBADMSG if malformed, encrypted, not a private key, or its
 * private and public halves disagree; -EOPNOTSUPP for a key of a type renewd does not use
 * (see key_get_type()); -E2BIG above 64 KiB. */
int key_from_pem(const char *pem, size_t len, EVP_PKEY **ret);
/* Load from a file relative to dir_fd (AT_FDCWD allowed), which must be a regular file of
 * at most 64 KiB and not a symlink: -ENOENT, -ELOOP (symlink), -EISDIR, -EBADFD (not a
 * regular file), -EFBIG, and key_from_pem()'s errors. */
int key_load(int dir_fd, const char *path, EVP_PKEY **ret);
/* PKCS#8 PEM, NUL-terminated; *ret_len excludes the NUL. The text is the secret key: wipe
 * it (explicit_bzero) before freeing it. */
int key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_len);
