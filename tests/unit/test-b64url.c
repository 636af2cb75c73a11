/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "macro.h"
#include "test.h"

/* Decode s and compare with the expected bytes. */
static void check_decode(const char *s, const void *want, size_t want_len) {
        _cleanup_free_ uint8_t *out = NULL;
        size_t len = 0;

        CHECK_INT(b64url_decode(s, strlen(s), &out, &len), 0);
        if (!out)
                return;
        CHECK_INT(len, want_len);
        CHECK(len == want_len && memcmp(out, want, want_len) == 0);
        CHECK_INT(out[len], 0);
}

/* Decoding s must fail with -EINVAL and leave the outputs alone. */
static void check_decode_fails(const char *s, size_t slen) {
        uint8_t sentinel = 0, *out = &sentinel;
        size_t len = 4242;

        CHECK_INT(b64url_decode(s, slen, &out, &len), -EINVAL);
        CHECK(out == &sentinel);
        CHECK_INT(len, 4242);
}

/* RFC 4648 §10, with the padding dropped as base64url in JOSE does. */
TEST(rfc4648_vectors) {
        static const struct {
                const char *plain, *encoded;
        } v[] = {
                { "", "" },
                { "f", "Zg" },
                { "fo", "Zm8" },
                { "foo", "Zm9v" },
                { "foob", "Zm9vYg" },
                { "fooba", "Zm9vYmE" },
                { "foobar", "Zm9vYmFy" },
        };

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_free_ char *e = b64url_encode(v[i].plain, strlen(v[i].plain));
                CHECK_STR(e, v[i].encoded);
                check_decode(v[i].encoded, v[i].plain, strlen(v[i].plain));
        }
}

/* The two characters where base64url differs from base64: 62 is '-', 63 is '_'. */
TEST(url_alphabet) {
        static const uint8_t minus[] = { 0xfb, 0xef, 0xbe }, under[] = { 0xff, 0xff, 0xff },
                             mixed[] = { 0xfb, 0xff };
        _cleanup_free_ char *a = b64url_encode(minus, sizeof minus);
        _cleanup_free_ char *b = b64url_encode(under, sizeof under);
        _cleanup_free_ char *c = b64url_encode(mixed, sizeof mixed);

        CHECK_STR(a, "----");
        CHECK_STR(b, "____");
        CHECK_STR(c, "-_8");
        check_decode("----", minus, sizeof minus);
        check_decode("____", under, sizeof under);
        check_decode("-_8", mixed, sizeof mixed);
}

/* A plain table-driven encoder to compare the mask-based one against. */
static char *reference_encode(const uint8_t *p, size_t n) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char *out = malloc(n / 3 * 4 + 5), *o = out;
        uint32_t acc = 0;
        int bits = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                acc = acc << 8 | p[i];
                bits += 8;
                while (bits >= 6) {
                        bits -= 6;
                        *o++ = alphabet[(acc >> bits) & 63];
                }
        }
        if (bits > 0)
                *o++ = alphabet[(acc << (6 - bits)) & 63];
        *o = 0;
        return out;
}

/* Every byte value at every position and every length up to 300 round-trips, and the
 * encoding matches the reference. */
TEST(round_trip) {
        uint8_t data[300];
        uint32_t seed = 12345;

        for (size_t i = 0; i < sizeof data; i++) {
                seed = seed * 1103515245 + 12345;
                data[i] = (uint8_t) (i < 256 ? i : seed >> 16);
        }

        for (size_t len = 0; len <= sizeof data; len++) {
                _cleanup_free_ char *e = b64url_encode(data, len), *ref = reference_encode(data, len);
                _cleanup_free_ uint8_t *d = NULL;
                size_t dlen = 0;

                REQUIRE(e && ref);
                CHECK_STR(e, ref);
                CHECK_INT(strlen(e), (len * 4 + 2) / 3);
                CHECK(b64url_is_valid(e, SIZE_MAX) == (len > 0));
                CHECK_INT(b64url_decode(e, strlen(e), &d, &dlen), 0);
                CHECK_INT(dlen, len);
                CHECK(d && memcmp(d, data, len) == 0);
        }
}

TEST(bad_characters) {
        check_decode_fails("Zm+v", 4);          /* base64, not base64url */
        check_decode_fails("Zm/v", 4);
        check_decode_fails("Zm9 v", 5);
        check_decode_fails("Zm9v\n", 5);
        check_decode_fails("Zm.v", 4);
        check_decode_fails("Zm\xc3\xa9", 4);    /* non-ASCII */
        check_decode_fails("Zm\0v", 4);         /* embedded NUL */
        check_decode_fails("\x80\x81\xfe\xff", 4);
}

TEST(padding_refused) {
        check_decode_fails("Zg==", 4);
        check_decode_fails("Zm8=", 4);
        check_decode_fails("Zg=", 3);
        check_decode_fails("Zm9vYg==", 8);
        check_decode_fails("====", 4);
}

TEST(impossible_lengths) {
        check_decode_fails("Z", 1);
        check_decode_fails("Zm9vY", 5);
        check_decode_fails("Zm9vYmFyZ", 9);
}

/* The bits below the last full byte must be zero: "Zh" and "Zg" would otherwise both
 * decode to "f". */
TEST(trailing_bits) {
        check_decode_fails("Zh", 2);
        check_decode_fails("Zv", 2);
        check_decode_fails("Zm9", 3);
        check_decode_fails("Zm-", 3);
        check_decode("Zg", "f", 1);
        check_decode("Zm8", "fo", 2);
}

/* Exactly slen characters are read, no more. */
TEST(length_bound) {
        check_decode_fails(NULL, 4);
        check_decode("", "", 0);

        _cleanup_free_ uint8_t *out = NULL;
        size_t len = 99;
        CHECK_INT(b64url_decode("Zm9vYmFy", 4, &out, &len), 0);
        CHECK_INT(len, 3);
        CHECK(out && memcmp(out, "foo", 4) == 0);

        /* ret_len is optional; the NUL terminator still tells where it ends. */
        _cleanup_free_ uint8_t *out2 = NULL;
        CHECK_INT(b64url_decode("Zm9vYmE", 7, &out2, NULL), 0);
        CHECK_STR((const char *) out2, "fooba");
}

TEST(is_valid) {
        CHECK(!b64url_is_valid(NULL, 10));
        CHECK(!b64url_is_valid("", 10));
        CHECK(b64url_is_valid("abc-_XYZ019", 64));
        CHECK(!b64url_is_valid("abc=", 64));
        CHECK(!b64url_is_valid("ab+c", 64));
        CHECK(!b64url_is_valid("a/b", 64));
        CHECK(!b64url_is_valid("a b", 64));
        CHECK(!b64url_is_valid("../x", 64));
        CHECK(b64url_is_valid("abcd", 4));
        CHECK(!b64url_is_valid("abcde", 4));
        CHECK(!b64url_is_valid("a", 0));
}

TEST_MAIN(T(rfc4648_vectors), T(url_alphabet), T(round_trip), T(bad_characters), T(padding_refused),
          T(impossible_lengths), T(trailing_bits), T(length_bound), T(is_valid));
