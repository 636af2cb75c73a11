/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "acme-revoke.h"
#include "b64url.h"
#include "macro.h"

static const char *const reasons[] = {
        [0] = "unspecified",
        [1] = "keyCompromise",
        [3] = "affiliationChanged",
        [4] = "superseded",
        [5] = "cessationOfOperation",
        [9] = "privilegeWithdrawn",
};

int acme_revocation_reason_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                if (reasons[i] && streq(reasons[i], s))
                        return (int) i;
        return -EINVAL;
}

int acme_revoke_payload(X509 *cert, int reason, char **ret) {
        unsigned char *der = NULL;
        _cleanup_free_ char *b64 = NULL;
        int len;

        if (!cert || reason < 0 || reason >= (int) ELEMENTSOF(reasons) || !reasons[reason])
                return -EINVAL;
        len = i2d_X509(cert, &der);
        if (len <= 0)
                return -EIO;
        b64 = b64url_encode(der, (size_t) len);
        OPENSSL_free(der);
        if (!b64)
                return -ENOMEM;
        if (asprintf(ret, "{\"certificate\":\"%s\",\"reason\":%d}", b64, reason) < 0)
                return -ENOMEM;
        return 0;
}
