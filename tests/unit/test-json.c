/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "strv.h"
#include "test.h"

/* Parse a C string literal (without its NUL). */
static int parse(const char *s, cJSON **ret) {
        return json_parse_object(s, strlen(s), ret);
}

/* Parsing len bytes of s must fail with err and leave *ret alone. */
static void check_parse_fails_len(const char *s, size_t len, int err) {
        cJSON *sentinel = (cJSON *) &sentinel, *j = sentinel;

        CHECK_INT(json_parse_object(s, len, &j), err);
        CHECK(j == sentinel);
}

static void check_parse_fails(const char *s, int err) {
        check_parse_fails_len(s, strlen(s), err);
}

/* An ACME order (RFC 8555 §7.1.3) through every getter. */
TEST(order) {
        static const char order[] =
                "{\n"
                "  \"status\": \"pending\",\n"
                "  \"expires\": \"2016-01-05T14:09:07.99Z\",\n"
                "  \"identifiers\": [\n"
                "    { \"type\": \"dns\", \"value\": \"www.example.org\" },\n"
                "    { \"type\": \"dns\", \"value\": \"example.org\" }\n"
                "  ],\n"
                "  \"authorizations\": [\n"
                "    \"https://example.com/acme/authz/PAniVnsZcis\",\n"
                "    \"https://example.com/acme/authz/r4HqLzrSrpI\"\n"
                "  ],\n"
                "  \"finalize\": \"https://example.com/acme/order/TOlocE8rfgo/finalize\",\n"
                "  \"wildcard\": false,\n"
                "  \"retries\": 3,\n"
                "  \"nothing\": null\n"
                "}";
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_strv_free_ char **authz = NULL;
        const cJSON *ids = NULL;
        const char *s = NULL;
        int64_t n = 0;
        bool b = true;

        REQUIRE(parse(order, &j) == 0);
        CHECK_INT(json_get_string(j, "status", &s), 0);
        CHECK_STR(s, "pending");
        CHECK_INT(json_get_string(j, "finalize", &s), 0);
        CHECK_STR(s, "https://example.com/acme/order/TOlocE8rfgo/finalize");
        CHECK_INT(json_get_bool(j, "wildcard", &b), 0);
        CHECK(!b);
        CHECK_INT(json_get_int64(j, "retries", &n), 0);
        CHECK_INT(n, 3);

        CHECK_INT(json_get_strv(j, "authorizations", &authz), 0);
        CHECK_INT(strv_length(authz), 2);
        if (strv_length(authz) == 2) {
                CHECK_STR(authz[0], "https://example.com/acme/authz/PAniVnsZcis");
                CHECK_STR(authz[1], "https://example.com/acme/authz/r4HqLzrSrpI");
        }

        CHECK_INT(json_get_array(j, "identifiers", &ids), 0);
        CHECK_INT(cJSON_GetArraySize(ids), 2);
        const cJSON *first = cJSON_GetArrayItem(ids, 0);
        CHECK_INT(json_get_string(first, "value", &s), 0);
        CHECK_STR(s, "www.example.org");

        /* Absent and null members are both -ENOENT; outputs stay untouched. */
        s = "unchanged";
        CHECK_INT(json_get_string(j, "certificate", &s), -ENOENT);
        CHECK_INT(json_get_string(j, "nothing", &s), -ENOENT);
        CHECK_INT(json_get_int64(j, "nothing", &n), -ENOENT);
        CHECK_STR(s, "unchanged");

        /* Member names are case-sensitive. */
        CHECK_INT(json_get_string(j, "Status", &s), -ENOENT);
}

TEST(wrong_types) {
        _cleanup_json_ cJSON *j = NULL;
        const cJSON *o = NULL;
        char **l = (char **) &l;
        const char *s = "unchanged";
        int64_t n = 77;
        bool b = true;

        REQUIRE(parse("{\"s\":\"x\",\"n\":1,\"b\":true,\"o\":{},\"a\":[],\"sa\":[\"x\",1],\"f\":false}", &j) == 0);

        CHECK_INT(json_get_string(j, "n", &s), -EBADMSG);
        CHECK_INT(json_get_string(j, "o", &s), -EBADMSG);
        CHECK_INT(json_get_string(j, "b", &s), -EBADMSG);
        CHECK_STR(s, "unchanged");

        CHECK_INT(json_get_bool(j, "s", &b), -EBADMSG);
        CHECK_INT(json_get_bool(j, "n", &b), -EBADMSG);
        CHECK(b);
        CHECK_INT(json_get_bool(j, "f", &b), 0);
        CHECK(!b);

        CHECK_INT(json_get_int64(j, "s", &n), -EBADMSG);
        CHECK_INT(json_get_int64(j, "b", &n), -EBADMSG);
        CHECK_INT(n, 77);

        CHECK_INT(json_get_object(j, "a", &o), -EBADMSG);
        CHECK_INT(json_get_object(j, "s", &o), -EBADMSG);
        CHECK(!o);
        CHECK_INT(json_get_array(j, "o", &o), -EBADMSG);
        CHECK(!o);

        CHECK_INT(json_get_strv(j, "s", &l), -EBADMSG);
        CHECK_INT(json_get_strv(j, "sa", &l), -EBADMSG);    /* a non-string element */
        CHECK(l == (char **) &l);

        /* An empty array is an empty strv, not NULL. */
        CHECK_INT(json_get_strv(j, "a", &l), 0);
        CHECK(l && !l[0]);
        strv_free(l);

        /* A getter on something that is not an object. */
        const cJSON *arr = NULL;
        REQUIRE(json_get_array(j, "a", &arr) == 0);
        CHECK_INT(json_get_string(arr, "x", &s), -EBADMSG);
        CHECK_INT(json_get_string(NULL, "x", &s), -EINVAL);
        CHECK_INT(json_get_string(j, NULL, &s), -EINVAL);
}

TEST(int64_range) {
        static const struct {
                const char *text;
                int err;
                int64_t value;
        } v[] = {
                { "0", 0, 0 },
                { "-0", 0, 0 },
                { "42", 0, 42 },
                { "-42", 0, -42 },
                { "1e3", 0, 1000 },
                { "4.0", 0, 4 },
                { "9007199254740992", 0, INT64_C(9007199254740992) },   /* 2^53 */
                { "-9007199254740992", 0, -INT64_C(9007199254740992) },
                { "9007199254740994", -EBADMSG, 0 },    /* 2^53 + 2: no longer exact */
                { "9223372036854775807", -EBADMSG, 0 }, /* INT64_MAX rounds up in a double */
                { "9223372036854775808", -EBADMSG, 0 },
                { "-9223372036854775809", -EBADMSG, 0 },
                { "1e19", -EBADMSG, 0 },
                { "1e400", -EBADMSG, 0 },               /* infinity */
                { "-1e400", -EBADMSG, 0 },
                { "1.5", -EBADMSG, 0 },
                { "-0.5", -EBADMSG, 0 },
                { "1e-3", -EBADMSG, 0 },
                { "\"5\"", -EBADMSG, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_json_ cJSON *j = NULL;
                int64_t n = 1234;

                REQUIRE(asprintf(&text, "{\"n\":%s}", v[i].text) > 0);
                REQUIRE(parse(text, &j) == 0);
                int r = json_get_int64(j, "n", &n);
                if (r != v[i].err)
                        fprintf(stderr, "value %s\n", v[i].text);
                CHECK_INT(r, v[i].err);
                CHECK_INT(n, v[i].err == 0 ? v[i].value : 1234);
        }
}

TEST(malformed) {
        check_parse_fails("", -EBADMSG);
        check_parse_fails("{", -EBADMSG);
        check_parse_fails("{\"a\":}", -EBADMSG);
        check_parse_fails("{\"a\" 1}", -EBADMSG);
        check_parse_fails("{'a':1}", -EBADMSG);
        check_parse_fails("{\"a\":1,}", -EBADMSG);
        check_parse_fails("{\"a\":tru}", -EBADMSG);
        check_parse_fails("{\"a\":\"unterminated}", -EBADMSG);
        check_parse_fails("{\"a\":\"\\x41\"}", -EBADMSG);    /* not a JSON escape */
        check_parse_fails("{\"a\":\"\\ud800\"}", -EBADMSG);  /* lone surrogate */
        check_parse_fails("{\"a\":\"\\udc00\"}", -EBADMSG);
        check_parse_fails("{\"a\":\"\\u12\"}", -EBADMSG);
        check_parse_fails("{\"a\":\"\\", -EBADMSG);
}

TEST(trailing_garbage) {
        check_parse_fails("{}x", -EBADMSG);
        check_parse_fails("{} {}", -EBADMSG);
        check_parse_fails("{}}", -EBADMSG);
        check_parse_fails("{\"a\":1}\"", -EBADMSG);

        /* Trailing whitespace is fine, and len is obeyed even if more text follows. */
        _cleanup_json_ cJSON *a = NULL, *b = NULL;
        CHECK_INT(parse(" {\"a\":1} \r\n\t", &a), 0);
        CHECK_INT(json_parse_object("{\"a\":1}garbage", 7, &b), 0);
}

TEST(embedded_nul) {
        static const char a[] = "{\"a\":1}\0";          /* NUL after the object */
        static const char b[] = "{\"a\":\"x\0y\"}";     /* NUL inside a string */
        static const char c[] = "{\0}";

        check_parse_fails_len(a, sizeof a - 1, -EBADMSG);
        check_parse_fails_len(b, sizeof b - 1, -EBADMSG);
        check_parse_fails_len(c, sizeof c - 1, -EBADMSG);

        /* The escape would make cJSON truncate "evil.com\u0000.example.org" silently. */
        check_parse_fails("{\"v\":\"evil.com\\u0000.example.org\"}", -EBADMSG);
        check_parse_fails("{\"v\\u0000\":1}", -EBADMSG);

        /* An escaped backslash followed by "u0000" is just text. */
        _cleanup_json_ cJSON *j = NULL;
        const char *s = NULL;
        REQUIRE(parse("{\"v\":\"a\\\\u0000\",\"w\":\"\\u0001\"}", &j) == 0);
        CHECK_INT(json_get_string(j, "v", &s), 0);
        CHECK_STR(s, "a\\u0000");
        CHECK_INT(json_get_string(j, "w", &s), 0);
        CHECK_STR(s, "\x01");
}

TEST(utf8) {
        _cleanup_json_ cJSON *j = NULL;
        const char *s = NULL;

        REQUIRE(parse("{\"v\":\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x92 \\u00e9\\ud83d\\udd12\"}", &j) == 0);
        CHECK_INT(json_get_string(j, "v", &s), 0);
        CHECK_STR(s, "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x92 \xc3\xa9\xf0\x9f\x94\x92");

        check_parse_fails("{\"v\":\"\xff\"}", -EBADMSG);                 /* never valid */
        check_parse_fails("{\"v\":\"\xc3\"}", -EBADMSG);                 /* truncated */
        check_parse_fails("{\"v\":\"\xc0\xaf\"}", -EBADMSG);             /* overlong '/' */
        check_parse_fails("{\"v\":\"\xe0\x80\xaf\"}", -EBADMSG);         /* overlong */
        check_parse_fails("{\"v\":\"\xed\xa0\x80\"}", -EBADMSG);         /* surrogate */
        check_parse_fails("{\"v\":\"\xf4\x90\x80\x80\"}", -EBADMSG);     /* > U+10FFFF */
        check_parse_fails("{\"v\":\"\x80\"}", -EBADMSG);                 /* lone continuation */
        check_parse_fails("{\"v\":\"\xe2\x82\"}", -EBADMSG);
        check_parse_fails("{\"v\":1}\xc3", -EBADMSG);

        /* Raw control characters must be escaped inside strings. */
        check_parse_fails("{\"v\":\"a\nb\"}", -EBADMSG);
        check_parse_fails("{\"v\":\"a\tb\"}", -EBADMSG);
}

TEST(not_an_object) {
        check_parse_fails("[]", -EBADMSG);
        check_parse_fails("[{\"a\":1}]", -EBADMSG);
        check_parse_fails("\"string\"", -EBADMSG);
        check_parse_fails("42", -EBADMSG);
        check_parse_fails("null", -EBADMSG);
        check_parse_fails("true", -EBADMSG);
}

TEST(nesting) {
        /* Far deeper than cJSON's nesting limit: refused, without blowing the stack. */
        size_t depth = 100000;
        _cleanup_free_ char *deep = malloc(2 * depth + 8);
        REQUIRE(deep);
        char *p = deep;
        memcpy(p, "{\"a\":", 5);
        p += 5;
        for (size_t i = 0; i < depth; i++)
                *p++ = '[';
        for (size_t i = 0; i < depth; i++)
                *p++ = ']';
        *p++ = '}';
        check_parse_fails_len(deep, (size_t) (p - deep), -EBADMSG);

        /* Moderate nesting is fine. */
        _cleanup_json_ cJSON *j = NULL;
        CHECK_INT(parse("{\"a\":{\"b\":{\"c\":[[[{\"d\":true}]]]}}}", &j), 0);
}

TEST(size_limit) {
        size_t len = 16 * 1024 * 1024 + 1;
        _cleanup_free_ char *big = malloc(len);
        REQUIRE(big);
        memset(big, ' ', len);
        big[0] = '{';
        big[len - 1] = '}';
        check_parse_fails_len(big, len, -E2BIG);

        /* Exactly 16 MiB is accepted. */
        _cleanup_json_ cJSON *j = NULL;
        big[len - 2] = '}';
        CHECK_INT(json_parse_object(big, len - 1, &j), 0);

        check_parse_fails_len(NULL, 1, -EINVAL);
}

TEST(print) {
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *s = NULL;

        REQUIRE(parse("{ \"b\" : [ 1 , 2 ] ,\n \"a\" : { \"x\" : \"y\\\"z\" } }", &j) == 0);
        s = json_print(j);
        CHECK_STR(s, "{\"b\":[1,2],\"a\":{\"x\":\"y\\\"z\"}}");
        CHECK(!json_print(NULL));
}

TEST_MAIN(T(order), T(wrong_types), T(int64_range), T(malformed), T(trailing_garbage), T(embedded_nul),
          T(utf8), T(not_an_object), T(nesting), T(size_limit), T(print));
