/* SPDX-License-Identifier: MIT */
#pragma once

/* A pure parser for the head of an HTTP/1.x request (RFC 9112 §2-§5), as a small server
 * such as the built-in http-01 responder receives it: no sockets, no allocation, so it can
 * be fed arbitrary bytes (and is, by tests/fuzz/fuzz-http-request.c).
 *
 * Strict where sloppiness could matter and lenient where RFC 9112 allows it: lines end in
 * CRLF or a bare LF, empty lines before the request-line are skipped; single spaces in
 * the request-line, no whitespace before a field name's colon, no obs-fold, no control
 * characters. Header values are checked but not kept: the responder needs none of them. */

#include <stdbool.h>
#include <stddef.h>

/* The most a request head may take, from its first byte to its final empty line. */
#define HTTP_REQUEST_HEAD_MAX (8 * 1024)

typedef enum HttpMethod {
        HTTP_METHOD_OTHER,
        HTTP_METHOD_GET,
        HTTP_METHOD_HEAD,
} HttpMethod;

/* Slices point into the buffer given to http_request_head_parse() (or, for the "/" of an
 * absolute-form target without a path, into static storage) and are not NUL-terminated. */
typedef struct HttpRequestHead {
        HttpMethod method;
        const char *method_name;   /* as sent, e.g. "GET", "POST", "PROPFIND" */
        size_t method_len;
        const char *path;          /* "/..." (absolute-form reduced to it), or "*" */
        size_t path_len;
        const char *query;         /* what followed '?', or NULL if there was no '?' */
        size_t query_len;
        bool absolute_form;        /* the target was "http://host/..." (a proxy's form) */
        unsigned version_minor;    /* HTTP/1.<version_minor> */
        size_t n_fields;           /* header field lines */
        size_t head_len;           /* bytes up to and including the final empty line */
} HttpRequestHead;

/* Parse the request head at the start of buf (anything after it, a body or a pipelined
 * request, is not looked at). Returns 0 and fills *ret once the head is complete;
 * -EAGAIN if everything so far is valid but the head is not complete yet; -EBADMSG as
 * soon as the bytes so far cannot start a valid head (also for targets other than
 * origin-form, absolute-form with http/https, and "*"); -EPROTONOSUPPORT for a
 * well-formed version other than HTTP/1.x; -E2BIG if len reached HTTP_REQUEST_HEAD_MAX
 * without a complete head. *ret is untouched on failure. */
int http_request_head_parse(const char *buf, size_t len, HttpRequestHead *ret);

/* True if the method is exactly name (methods are case-sensitive). */
bool http_request_head_method_is(const HttpRequestHead *h, const char *name);
