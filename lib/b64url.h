/* SPDX-License-Identifier: MIT */
#pragma once

/* base64url without padding (RFC 4648 §5, as JOSE and ACME use it). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Encode len bytes. Returns a NUL-terminated string (free()), or NULL on ENOMEM. */
char *b64url_encode(const void *data, size_t len);

/* Decode exactly slen characters of s. Padding '=' is refused, as are characters outside
 * the base64url alphabet and impossible lengths (slen % 4 == 1) and non-zero trailing
 * bits. Returns 0, -EINVAL on bad input, -ENOMEM. *ret is NUL-terminated for convenience. */
int b64url_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len);

/* True if s is non-empty, at most max_len long, and only base64url characters. */
bool b64url_is_valid(const char *s, size_t max_len);
