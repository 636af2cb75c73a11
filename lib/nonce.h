/* SPDX-License-Identifier: MIT */
#pragma once

/* A small pool of unused anti-replay nonces (RFC 8555 §6.5). Every ACME response carries
 * a fresh Replay-Nonce; keeping them means a new request rarely needs a newNonce round
 * trip. Oldest nonces are dropped when the pool is full (servers expire them). */

#include <stddef.h>

#include "macro.h"

#define NONCE_POOL_MAX 16
#define NONCE_MAX_LEN 256

typedef struct NoncePool {
        char *nonces[NONCE_POOL_MAX];
        size_t n;
} NoncePool;

/* Add a nonce from a Replay-Nonce header. Values that are not base64url (RFC 8555
 * §6.5.1) or too long are refused with -EBADMSG. */
int nonce_pool_push(NoncePool *p, const char *nonce);

/* Take the newest nonce (ownership passes to the caller): -ENODATA when empty. */
int nonce_pool_pop(NoncePool *p, char **ret);

void nonce_pool_clear(NoncePool *p);
