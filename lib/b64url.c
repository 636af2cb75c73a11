/* SPDX-License-Identifier: MIT */
/* base64url without padding (RFC 4648 §5).
 *
 * The same code decodes public JWS parts and secret material (the EAB HMAC key), so the
 * character mapping works with masks rather than a table or branches on the data: the
 * time taken depends on the length only, not on which characters appear. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "macro.h"

/* All bits set if lo <= c <= hi, else 0. c, lo and hi are small (< 256), so c - lo and
 * hi - c both stay below 2^31 exactly when c is in range; otherwise one of them wraps
 * around and sets bit 31. */
static inline uint32_t mask_in_range(uint32_t c, uint32_t lo, uint32_t hi) {
        return (((c - lo) | (hi - c)) >> 31) - 1;
}

/* The character for a 6-bit value v. */
static inline char encode_sextet(uint32_t v) {
        uint32_t c = v + 'A';                                   /*  0..25 → 'A'..'Z' */

        c += mask_in_range(v, 26, 63) & (uint32_t) ('a' - 'A' - 26);   /* 26..51 → 'a'..'z' */
        c -= mask_in_range(v, 52, 63) & (uint32_t) ('a' + 26 - '0');   /* 52..61 → '0'..'9' */
        c += mask_in_range(v, 62, 62) & (uint32_t) ('-' - '0' - 10);
        c += mask_in_range(v, 63, 63) & (uint32_t) ('_' - '0' - 11);
        return (char) c;
}

/* The 6-bit value of character c in the low bits; *bad gets all bits set when c is not in
 * the base64url alphabet (and is left alone otherwise). */
static inline uint32_t decode_sextet(uint8_t c, uint32_t *bad) {
        uint32_t upper = mask_in_range(c, 'A', 'Z'),
                 lower = mask_in_range(c, 'a', 'z'),
                 digit = mask_in_range(c, '0', '9'),
                 minus = mask_in_range(c, '-', '-'),
                 under = mask_in_range(c, '_', '_');

        *bad |= ~(upper | lower | digit | minus | under);
        return (upper & (c - 'A')) |
               (lower & (c - 'a' + 26)) |
               (digit & (c - '0' + 52)) |
               (minus & 62) |
               (under & 63);
}

char *b64url_encode(const void *data, size_t len) {
        const uint8_t *in = data;
        char *out, *p;

        if (!in && len > 0)
                return NULL;
        /* 4 characters per 3 bytes, rounded up, no padding. */
        if (len > (SIZE_MAX - 4) / 4 * 3)
                return NULL;

        out = p = malloc(len / 3 * 4 + 4 + 1);
        if (!out)
                return NULL;

        size_t i = 0;
        for (; i + 3 <= len; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
                *p++ = encode_sextet(v >> 18);
                *p++ = encode_sextet((v >> 12) & 63);
                *p++ = encode_sextet((v >> 6) & 63);
                *p++ = encode_sextet(v & 63);
        }
        if (len - i == 1) {
                uint32_t v = (uint32_t) in[i] << 16;
                *p++ = encode_sextet(v >> 18);
                *p++ = encode_sextet((v >> 12) & 63);
        } else if (len - i == 2) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
                *p++ = encode_sextet(v >> 18);
                *p++ = encode_sextet((v >> 12) & 63);
                *p++ = encode_sextet((v >> 6) & 63);
        }
        *p = '\0';
        return out;
}

int b64url_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len) {
        const uint8_t *in = (const uint8_t *) s;
        uint32_t bad = 0, acc = 0;
        size_t n = 0, rem = slen % 4;
        uint8_t *out;

        if (!ret || (!s && slen > 0))
                return -EINVAL;
        /* One leftover character carries only 6 bits: never produced by an encoder. */
        if (rem == 1)
                return -EINVAL;

        out = malloc(slen / 4 * 3 + rem + 1);
        if (!out)
                return -ENOMEM;

        for (size_t i = 0; i < slen; i++) {
                acc = acc << 6 | decode_sextet(in[i], &bad);
                if (i % 4 == 3) {
                        out[n++] = (uint8_t) (acc >> 16);
                        out[n++] = (uint8_t) (acc >> 8);
                        out[n++] = (uint8_t) acc;
                        acc = 0;
                }
        }
        /* The unused low bits of the last character must be zero, or several encodings
         * would decode to the same bytes. */
        if (rem == 2) {
                bad |= acc & 0x0f;
                out[n++] = (uint8_t) (acc >> 4);
        } else if (rem == 3) {
                bad |= acc & 0x03;
                out[n++] = (uint8_t) (acc >> 10);
                out[n++] = (uint8_t) (acc >> 2);
        }

        if (bad) {
                explicit_bzero(out, n);
                free(out);
                return -EINVAL;
        }

        out[n] = 0;
        *ret = out;
        if (ret_len)
                *ret_len = n;
        return 0;
}

bool b64url_is_valid(const char *s, size_t max_len) {
        uint32_t bad = 0;
        size_t n = 0;

        if (isempty(s))
                return false;
        for (; s[n]; n++) {
                if (n >= max_len)
                        return false;
                (void) decode_sextet((uint8_t) s[n], &bad);
        }
        return bad == 0;
}
