/* SPDX-License-Identifier: MIT */
#include "utf8.h"

size_t utf8_sequence_length(const uint8_t *p, size_t n) {
        uint8_t lo = 0x80, hi = 0xBF;
        size_t len;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xC2 && p[0] <= 0xDF)
                len = 2;
        else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
                len = 3;
                if (p[0] == 0xE0)
                        lo = 0xA0;      /* overlong */
                else if (p[0] == 0xED)
                        hi = 0x9F;      /* UTF-16 surrogates */
        } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
                len = 4;
                if (p[0] == 0xF0)
                        lo = 0x90;      /* overlong */
                else if (p[0] == 0xF4)
                        hi = 0x8F;      /* above U+10FFFF */
        } else
                return 0;

        if (n < len)
                return 0;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (p[i] < 0x80 || p[i] > 0xBF)
                        return 0;
        return len;
}
