/* SPDX-License-Identifier: MIT */
#include "b64url.h"
#include "nonce.h"

int nonce_pool_push(NoncePool *p, const char *nonce) {
        char *copy;

        if (!nonce || !b64url_is_valid(nonce, NONCE_MAX_LEN))
                return -EBADMSG;
        copy = strdup(nonce);
        if (!copy)
                return -ENOMEM;
        if (p->n == NONCE_POOL_MAX) {
                /* Drop the oldest: the server is the likeliest to have forgotten it. */
                free(p->nonces[0]);
                memmove(p->nonces, p->nonces + 1, sizeof(p->nonces[0]) * (NONCE_POOL_MAX - 1));
                p->n--;
        }
        p->nonces[p->n++] = copy;
        return 0;
}

int nonce_pool_pop(NoncePool *p, char **ret) {
        if (p->n == 0)
                return -ENODATA;
        *ret = p->nonces[--p->n];
        p->nonces[p->n] = NULL;
        return 0;
}

void nonce_pool_clear(NoncePool *p) {
        while (p->n > 0)
                free(p->nonces[--p->n]);
}
