/* SPDX-License-Identifier: MIT */
#pragma once

/* HTTP(S) requests on libcurl's multi socket interface, driven by an sd-event loop.
 * Nothing here blocks: a request is started, and its completion callback runs from the
 * loop. One HttpClient (one curl multi handle) per process keeps connections to each
 * server alive across requests. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct HttpClient HttpClient;
typedef struct HttpRequest HttpRequest;

/* Called once when a request ends. error is 0 when a response was received (whatever
 * its status), or a negative errno for transport failures (-ECONNREFUSED, -ETIMEDOUT,
 * -EHOSTUNREACH, -EPROTO for TLS problems, -EFBIG for an oversized body, …); the
 * request's error text then says more. The request may be freed inside the callback. */
typedef void (*HttpRequestDone)(HttpRequest *req, int error, void *userdata);

typedef struct HttpRequestSpec {
        const char *method;        /* "GET", "POST" or "HEAD" */
        const char *url;
        const char *content_type;  /* for POST */
        const char *body;          /* for POST; copied */
        size_t body_len;
        const char *accept;        /* Accept header or NULL */
        const char *ca_file;       /* trust anchors for https, NULL = system store */
        bool allow_http;           /* permit plain http:// (tests only) */
        size_t max_body;           /* 0 = 1 MiB */
        uint64_t timeout_usec;     /* whole request; 0 = 30 s */
} HttpRequestSpec;

int http_client_new(sd_event *event, const char *user_agent, HttpClient **ret);
HttpClient *http_client_free(HttpClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpClient *, http_client_free);

/* Start a request. On success the request runs until done or freed (freeing cancels it
 * without calling the callback). */
int http_request_start(HttpClient *c, const HttpRequestSpec *spec, HttpRequestDone done, void *userdata,
                       HttpRequest **ret);
HttpRequest *http_request_free(HttpRequest *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpRequest *, http_request_free);

/* Results, valid after completion until the request is freed. Header values are NULL when
 * absent. Body is NUL-terminated; body_len excludes the NUL. */
long http_request_status(const HttpRequest *r);
const char *http_request_body(const HttpRequest *r, size_t *ret_len);
const char *http_request_header(const HttpRequest *r, const char *name); /* Content-Type, Location, Replay-Nonce, Retry-After */
/* Link targets with the given rel (e.g. "alternate", "up"), resolved against the request
 * URL; NULL-terminated, borrowed. */
char *const *http_request_links(const HttpRequest *r, const char *rel);
const char *http_request_url(const HttpRequest *r);
/* Human-readable reason for a transport failure ("Failed to connect to …"). */
const char *http_request_error_text(const HttpRequest *r);

/* How many connections curl opened in total (to show reuse in tests and benchmarks). */
long http_client_connects(const HttpClient *c);

/* Parse one Link header value into (target, rel) pairs appended to the given lists.
 * Exposed for tests. Returns 0, -ENOMEM, or -EBADMSG for an unparsable value. */
int http_parse_link_header(const char *value, char ***targets, char ***rels);
