/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence starting at p (at most n bytes available, n ≥ 1):
 * 1–4, or 0 if it is malformed (overlong, surrogate, above U+10FFFF, truncated). */
size_t utf8_sequence_length(const uint8_t *p, size_t n);
