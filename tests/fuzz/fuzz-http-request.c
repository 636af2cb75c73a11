/* SPDX-License-Identifier: MIT */
/* Feeds arbitrary bytes to the HTTP request head parser and checks what the server relies
 * on: only the documented results; on success slices that lie inside the head (or are the
 * static "/"), a path that is "*" or starts with '/' and holds no '?' or '#', and a head
 * that ends in an empty line within HTTP_REQUEST_HEAD_MAX; and that results are
 * consistent across prefixes, as the server parses a growing buffer: a prefix of a valid
 * head is -EAGAIN, a prefix never fails where the whole succeeds, and once a prefix is
 * refused every longer input is refused the same way. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http-request.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool slice_inside(const char *p, size_t n, const char *buf, size_t len) {
        return p >= buf && n <= len && (size_t) (p - buf) <= len - n;
}

static bool same_head(const HttpRequestHead *a, const HttpRequestHead *b) {
        return a->method == b->method && a->method_name == b->method_name && a->method_len == b->method_len &&
               a->path == b->path && a->path_len == b->path_len && a->query == b->query &&
               a->query_len == b->query_len && a->absolute_form == b->absolute_form &&
               a->version_minor == b->version_minor && a->n_fields == b->n_fields && a->head_len == b->head_len;
}

static void check_head(const HttpRequestHead *h, const char *buf, size_t len) {
        if (h->head_len < 2 || h->head_len > len || h->head_len > HTTP_REQUEST_HEAD_MAX)
                abort();
        if (buf[h->head_len - 1] != '\n')
                abort();
        if (!(buf[h->head_len - 2] == '\n' || (h->head_len >= 3 && buf[h->head_len - 2] == '\r' && buf[h->head_len - 3] == '\n')))
                abort();
        if (h->method_len == 0 || !slice_inside(h->method_name, h->method_len, buf, h->head_len))
                abort();
        if ((h->method == HTTP_METHOD_GET) != http_request_head_method_is(h, "GET") ||
            (h->method == HTTP_METHOD_HEAD) != http_request_head_method_is(h, "HEAD"))
                abort();
        if (h->path_len == 0)
                abort();
        if (!slice_inside(h->path, h->path_len, buf, h->head_len) && !(h->path_len == 1 && h->path[0] == '/'))
                abort();
        if (!(h->path[0] == '/' || (h->path_len == 1 && h->path[0] == '*')))
                abort();
        for (size_t i = 0; i < h->path_len; i++)
                if (h->path[i] < 0x21 || h->path[i] > 0x7e || h->path[i] == '?' || h->path[i] == '#')
                        abort();
        if (h->query && !slice_inside(h->query, h->query_len, buf, h->head_len))
                abort();
        if (!h->query && h->query_len != 0)
                abort();
        if (h->version_minor > 9)
                abort();
}

/* The result for the first n bytes, checked against the result r for all of them. */
static void check_prefix(const char *buf, size_t n, int r, const HttpRequestHead *full) {
        HttpRequestHead h;
        int k = http_request_head_parse(buf, n, &h);

        if (r == 0) {
                if (n < full->head_len) {
                        if (k != -EAGAIN)
                                abort();
                } else if (k != 0 || !same_head(&h, full))
                        abort();
        } else if (r == -E2BIG) {
                /* Nothing but waiting until the limit. */
                if (n < HTTP_REQUEST_HEAD_MAX ? k != -EAGAIN : k != -E2BIG)
                        abort();
        } else if (k != -EAGAIN && k != r)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *buf = (const char *) data;
        HttpRequestHead h, poison;
        int r, k, last = -EAGAIN;

        if (size > 3 * HTTP_REQUEST_HEAD_MAX)
                return 0;

        memset(&poison, 0xAA, sizeof poison);
        h = poison;
        r = http_request_head_parse(buf, size, &h);
        if (r != 0 && r != -EAGAIN && r != -EBADMSG && r != -E2BIG && r != -EPROTONOSUPPORT)
                abort();
        if (r != 0 && memcmp(&h, &poison, sizeof h) != 0)
                abort();
        if (r == 0)
                check_head(&h, buf, size);
        if (r == -E2BIG && size < HTTP_REQUEST_HEAD_MAX)
                abort();
        if (r == -EAGAIN && size >= HTTP_REQUEST_HEAD_MAX)
                abort();

        /* Prefixes: all of them for short inputs, else a sample plus those around the end
         * of the head. Once a prefix is refused, longer ones must be refused the same way. */
        for (size_t n = 0; n <= size; n += size <= 600 ? 1 : size / 200 + 1) {
                check_prefix(buf, n, r, &h);
                k = http_request_head_parse(buf, n, &poison);
                if (last != -EAGAIN && last != -E2BIG && k != last)
                        abort();
                last = k == 0 ? -EAGAIN : k;
        }
        if (r == 0)
                for (size_t n = h.head_len >= 3 ? h.head_len - 3 : 0; n <= size && n <= h.head_len + 3; n++)
                        check_prefix(buf, n, r, &h);

        /* The same head with more after it: the same result. */
        if (r == 0 && size < 3 * HTTP_REQUEST_HEAD_MAX) {
                char *more = malloc(size + 16);
                HttpRequestHead h2;

                if (!more)
                        abort();
                memcpy(more, buf, size);
                memset(more + size, 'x', 16);
                k = http_request_head_parse(more, size + 16, &h2);
                if (k != 0 || h2.head_len != h.head_len || h2.method != h.method || h2.path_len != h.path_len ||
                    h2.n_fields != h.n_fields)
                        abort();
                free(more);
        }
        return 0;
}
