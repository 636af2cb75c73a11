/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the BIND key file reader. Nothing may crash or leak; a
 * refusal must come with a one-line reason; an accepted key has a valid, normalised name
 * and a secret. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns-packet.h"
#include "tsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        TsigKey *k = NULL, *copy = NULL;
        char *error = NULL, *norm = NULL;
        int r;

        if (size > TSIG_KEY_FILE_MAX)
                return 0;
        r = tsig_key_parse((const char *) data, size, &k, &error);
        if (r < 0) {
                if (r != -ENOMEM && (r != -EINVAL || !error || !*error || strchr(error, '\n')))
                        abort();
                if (k)
                        abort();
                free(error);
                return 0;
        }
        if (!k || error || !k->secret || k->secret_size == 0)
                abort();
        if (dns_name_normalize(k->name, &norm) < 0 || strcmp(norm, k->name) != 0)
                abort();
        if (tsig_key_copy(k, &copy) < 0 || strcmp(copy->name, k->name) != 0 || copy->secret_size != k->secret_size ||
            memcmp(copy->secret, k->secret, k->secret_size) != 0)
                abort();
        free(norm);
        tsig_key_free(copy);
        tsig_key_free(k);
        return 0;
}
