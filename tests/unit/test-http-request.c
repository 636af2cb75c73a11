/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "http-request.h"
#include "macro.h"
#include "test.h"

static int parse(const char *s, HttpRequestHead *h) {
        return http_request_head_parse(s, strlen(s), h);
}

static bool slice_is(const char *p, size_t n, const char *want) {
        return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

TEST(simple_get) {
        const char *req = "GET /.well-known/acme-challenge/abc HTTP/1.1\r\nHost: example.com\r\n\r\n";
        HttpRequestHead h = {};

        CHECK_INT(parse(req, &h), 0);
        CHECK_INT(h.method, HTTP_METHOD_GET);
        CHECK(http_request_head_method_is(&h, "GET"));
        CHECK(!http_request_head_method_is(&h, "GE"));
        CHECK(slice_is(h.path, h.path_len, "/.well-known/acme-challenge/abc"));
        CHECK(!h.query);
        CHECK(!h.absolute_form);
        CHECK_INT(h.version_minor, 1);
        CHECK_INT(h.n_fields, 1);
        CHECK_INT(h.head_len, strlen(req));
}

TEST(head_and_other_methods) {
        HttpRequestHead h = {};

        CHECK_INT(parse("HEAD / HTTP/1.0\r\n\r\n", &h), 0);
        CHECK_INT(h.method, HTTP_METHOD_HEAD);
        CHECK_INT(h.version_minor, 0);
        CHECK_INT(h.n_fields, 0);

        CHECK_INT(parse("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", &h), 0);
        CHECK_INT(h.method, HTTP_METHOD_OTHER);
        CHECK(http_request_head_method_is(&h, "POST"));
        CHECK_INT(h.head_len, strlen("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\n"));

        /* Methods are case-sensitive. */
        CHECK_INT(parse("get / HTTP/1.1\r\n\r\n", &h), 0);
        CHECK_INT(h.method, HTTP_METHOD_OTHER);
        CHECK_INT(parse("GETS / HTTP/1.1\r\n\r\n", &h), 0);
        CHECK_INT(h.method, HTTP_METHOD_OTHER);
        CHECK_INT(parse("OPTIONS * HTTP/1.1\r\n\r\n", &h), 0);
        CHECK(slice_is(h.path, h.path_len, "*"));
}

TEST(absolute_form) {
        HttpRequestHead h = {};

        CHECK_INT(parse("GET http://example.com/.well-known/acme-challenge/t?x=1 HTTP/1.1\r\n\r\n", &h), 0);
        CHECK(h.absolute_form);
        CHECK(slice_is(h.path, h.path_len, "/.well-known/acme-challenge/t"));
        CHECK(slice_is(h.query, h.query_len, "x=1"));

        CHECK_INT(parse("GET HTTPS://example.com:8080/a HTTP/1.1\r\n\r\n", &h), 0);
        CHECK(slice_is(h.path, h.path_len, "/a"));

        CHECK_INT(parse("GET http://example.com HTTP/1.1\r\n\r\n", &h), 0);
        CHECK(slice_is(h.path, h.path_len, "/"));
        CHECK(!h.query);

        CHECK_INT(parse("GET http://[::1]?q HTTP/1.1\r\n\r\n", &h), 0);
        CHECK(slice_is(h.path, h.path_len, "/"));
        CHECK(slice_is(h.query, h.query_len, "q"));

        CHECK_INT(parse("GET http:///path HTTP/1.1\r\n\r\n", &h), -EBADMSG);  /* no authority */
        CHECK_INT(parse("GET http:// HTTP/1.1\r\n\r\n", &h), -EBADMSG);
        CHECK_INT(parse("GET ftp://example.com/ HTTP/1.1\r\n\r\n", &h), -EBADMSG);
        CHECK_INT(parse("CONNECT example.com:443 HTTP/1.1\r\n\r\n", &h), -EBADMSG);
}

TEST(query_and_empty_query) {
        HttpRequestHead h = {};

        CHECK_INT(parse("GET /a? HTTP/1.1\r\n\r\n", &h), 0);
        CHECK(slice_is(h.path, h.path_len, "/a"));
        CHECK(h.query);
        CHECK_INT(h.query_len, 0);
        CHECK_INT(parse("GET /a?b?c HTTP/1.1\r\n\r\n", &h), 0);
        CHECK(slice_is(h.query, h.query_len, "b?c"));
}

TEST(bare_lf_and_leading_empty_lines) {
        HttpRequestHead h = {};

        CHECK_INT(parse("GET / HTTP/1.1\nHost: x\n\n", &h), 0);
        CHECK_INT(h.n_fields, 1);
        CHECK_INT(parse("\r\n\r\nGET /z HTTP/1.1\r\n\r\n", &h), 0);
        CHECK(slice_is(h.path, h.path_len, "/z"));
        CHECK_INT(h.head_len, strlen("\r\n\r\nGET /z HTTP/1.1\r\n\r\n"));
        CHECK_INT(parse("GET / HTTP/1.1\r\nA: b\n\r\n", &h), 0);
}

TEST(field_values) {
        HttpRequestHead h = {};

        CHECK_INT(parse("GET / HTTP/1.1\r\nX-Empty:\r\nX-Tab:\ta\tb \r\nX-Obs: \xc3\xa9\r\n\r\n", &h), 0);
        CHECK_INT(h.n_fields, 3);
}

TEST(incomplete) {
        static const char *const partial[] = {
                "",
                "G",
                "GET",
                "GET ",
                "GET /",
                "GET / ",
                "GET / H",
                "GET / HTTP/1.",
                "GET / HTTP/1.1",
                "GET / HTTP/1.1\r",
                "GET / HTTP/1.1\r\n",
                "GET / HTTP/1.1\r\nHost",
                "GET / HTTP/1.1\r\nHost:",
                "GET / HTTP/1.1\r\nHost: x\r\n",
                "GET / HTTP/1.1\r\nHost: x\r\n\r",
                "\r\n",
                "\r\n\r\n\r\n",
                "\n",
        };
        HttpRequestHead h = { .path_len = 4242 };

        for (size_t i = 0; i < ELEMENTSOF(partial); i++) {
                int r = parse(partial[i], &h);
                if (r != -EAGAIN)
                        fprintf(stderr, "partial[%zu] \"%s\": %d\n", i, partial[i], r);
                CHECK_INT(r, -EAGAIN);
        }
        CHECK_INT(h.path_len, 4242); /* untouched */
}

TEST(malformed) {
        static const char *const bad[] = {
                " GET / HTTP/1.1\r\n\r\n",
                "GET  / HTTP/1.1\r\n\r\n",
                "GET /  HTTP/1.1\r\n\r\n",
                "GET / HTTP/1.1 \r\n\r\n",
                "GET\t/ HTTP/1.1\r\n\r\n",
                "GET / HTTP/1.1\r\r\n\r\n",
                "GET /\r\n\r\n",                 /* HTTP/0.9 */
                "GET / HTTP/1\r\n\r\n",
                "GET / HTTP/1.10\r\n\r\n",
                "GET / HTTP/1.x\r\n\r\n",
                "GET / http/1.1\r\n\r\n",
                "GET / HTTPS/1.1\r\n\r\n",
                "GET\r\n\r\n",
                "GET / \r\n\r\n",
                "G(T / HTTP/1.1\r\n\r\n",
                "GET foo HTTP/1.1\r\n\r\n",
                "GET /#frag HTTP/1.1\r\n\r\n",
                "GET /a\x7f HTTP/1.1\r\n\r\n",
                "GET /\xc3\xa9 HTTP/1.1\r\n\r\n",
                "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
                "GET / HTTP/1.1\r\n: x\r\n\r\n",
                "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
                "GET / HTTP/1.1\r\n folded\r\n\r\n",
                "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n",
                "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",
                "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",
                "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
                "GET / HTTP/1.1\r\nA(: b\r\n\r\n",
                "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",   /* a TLS ClientHello */
                "hello world\r\n\r\n",
                "GET / HTTP/1.1\r\n\r \n",
        };
        HttpRequestHead h = { .path_len = 4242 };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = parse(bad[i], &h);
                if (r != -EBADMSG)
                        fprintf(stderr, "bad[%zu]: %d\n", i, r);
                CHECK_INT(r, -EBADMSG);
        }
        CHECK_INT(h.path_len, 4242);
}

TEST(malformed_early) {
        HttpRequestHead h;

        /* Refused before the line or the head is complete. */
        CHECK_INT(parse("GE(", &h), -EBADMSG);
        CHECK_INT(parse("GET  ", &h), -EBADMSG);
        CHECK_INT(parse("GET / HTTP/2", &h), -EAGAIN); /* may still become HTTP/2.0 */
        CHECK_INT(parse("GET / HTTP/2x", &h), -EBADMSG);
        CHECK_INT(parse("GET / HTTP/1.1x", &h), -EBADMSG);
        CHECK_INT(parse("GET foo ", &h), -EBADMSG);
        CHECK_INT(parse("GET / HTTP/1.1\r\n ", &h), -EBADMSG);
        CHECK_INT(parse("GET / HTTP/1.1\r\nA: \x01", &h), -EBADMSG);
}

TEST(embedded_nul) {
        static const char req[] = "GET /.well-known/acme-challenge/a\0b HTTP/1.1\r\n\r\n";
        static const char hdr[] = "GET / HTTP/1.1\r\nA: x\0y\r\n\r\n";
        HttpRequestHead h;

        CHECK_INT(http_request_head_parse(req, sizeof req - 1, &h), -EBADMSG);
        CHECK_INT(http_request_head_parse(hdr, sizeof hdr - 1, &h), -EBADMSG);
        CHECK_INT(http_request_head_parse("\0", 1, &h), -EBADMSG);
}

TEST(version) {
        HttpRequestHead h = {};

        CHECK_INT(parse("GET / HTTP/2.0\r\n\r\n", &h), -EPROTONOSUPPORT);
        CHECK_INT(parse("GET / HTTP/0.9\r\n\r\n", &h), -EPROTONOSUPPORT);
        CHECK_INT(parse("GET / HTTP/1.9\r\n\r\n", &h), 0);
        CHECK_INT(h.version_minor, 9);
}

/* A head of exactly the limit is fine; one byte more is not, with or without its end. */
TEST(size_limit) {
        const size_t max = HTTP_REQUEST_HEAD_MAX;
        const char *start = "GET / HTTP/1.1\r\nX: ";
        _cleanup_free_ char *buf = malloc(max + 64);
        HttpRequestHead h = {};
        size_t fill;

        REQUIRE(buf);
        fill = max - strlen(start) - 4;
        strcpy(buf, start);
        memset(buf + strlen(start), 'a', fill);
        memcpy(buf + strlen(start) + fill, "\r\n\r\n", 4);
        CHECK_INT(http_request_head_parse(buf, max, &h), 0);
        CHECK_INT(h.head_len, max);
        CHECK_INT(http_request_head_parse(buf, max - 1, &h), -EAGAIN);

        /* Longer than the limit but complete within it: bytes after the head are a body. */
        memset(buf + max, 'b', 64);
        CHECK_INT(http_request_head_parse(buf, max + 64, &h), 0);

        /* One more byte in the header: the end falls past the limit. */
        strcpy(buf, start);
        memset(buf + strlen(start), 'a', fill + 1);
        memcpy(buf + strlen(start) + fill + 1, "\r\n\r\n", 4);
        CHECK_INT(http_request_head_parse(buf, max + 3, &h), -E2BIG);
        CHECK_INT(http_request_head_parse(buf, max, &h), -E2BIG);
        CHECK_INT(http_request_head_parse(buf, max - 1, &h), -EAGAIN);

        /* A request-line alone over the limit. */
        memcpy(buf, "GET /", 5);
        memset(buf + 5, 'a', max + 59);
        CHECK_INT(http_request_head_parse(buf, max + 64, &h), -E2BIG);

        /* Only empty lines. */
        memset(buf, '\n', max);
        CHECK_INT(http_request_head_parse(buf, max, &h), -E2BIG);

        /* Garbage found within the limit is reported as such even past it. */
        memset(buf, 'a', max + 64);
        buf[10] = '\x01';
        CHECK_INT(http_request_head_parse(buf, max + 64, &h), -EBADMSG);
}

TEST(bad_arguments) {
        HttpRequestHead h;

        CHECK_INT(http_request_head_parse(NULL, 3, &h), -EINVAL);
        CHECK_INT(http_request_head_parse(NULL, 0, &h), -EAGAIN);
}

TEST_MAIN(T(simple_get), T(head_and_other_methods), T(absolute_form), T(query_and_empty_query),
          T(bare_lf_and_leading_empty_lines), T(field_values), T(incomplete), T(malformed),
          T(malformed_early), T(embedded_nul), T(version), T(size_limit), T(bad_arguments));
