/* SPDX-License-Identifier: MIT */
/* The HTTP client against a small HTTP/1.1 server living on the same sd-event loop: the
 * listening socket and every accepted connection are io sources next to curl's, so one
 * thread drives both ends and nothing sleeps. */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "http.h"
#include "strv.h"
#include "test.h"

#define USER_AGENT "renewd-test/0.1 (unit; +https://renewd.test)"

/* ---------------------------------------------------------------- the server */

typedef struct Conn Conn;
typedef struct Server Server;

struct Conn {
        Server *server;
        int fd;
        sd_event_source *src;
        char *in;
        size_t in_len, in_cap;
        char *out;
        size_t out_len, out_pos;
        bool close_after;
        Conn *next;
};

struct Server {
        sd_event *event;
        int fd;
        uint16_t port;
        sd_event_source *src;
        Conn *conns;

        /* How to answer every request. */
        int status;              /* 0: 200 */
        const char *headers;     /* extra header lines, each ending in \r\n */
        const char *body;        /* NULL: empty */
        size_t body_len;         /* 0: strlen(body) */
        const char *preamble;    /* sent first, e.g. an interim "100 Continue" response */
        bool silent;             /* read requests, never answer */
        bool keep_alive;         /* else "Connection: close" and close after the response */
        bool echo_path;          /* the body is the request target */

        /* What it saw. */
        unsigned n_accepted, n_requests, n_closed;
        char *last_head;         /* request line and headers */
        char *last_body;
        size_t last_body_len;
};

static void conn_free(Conn *c) {
        Server *s = c->server;

        for (Conn **p = &s->conns; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        (void) sd_event_source_disable_unref(c->src);
        safe_close(c->fd);
        free(c->in);
        free(c->out);
        free(c);
        s->n_closed++;
}

static bool buf_append(char **buf, size_t *len, const char *data, size_t n) {
        char *b = realloc(*buf, *len + n + 1);
        if (!b)
                return false;
        memcpy(b + *len, data, n);
        *len += n;
        b[*len] = 0;
        *buf = b;
        return true;
}

/* Content-Length of a request head (0 without one). */
static size_t head_content_length(const char *head) {
        for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
                if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
                        return (size_t) strtoull(p + 17, NULL, 10);
        return 0;
}

/* Handle one complete request at the start of c->in, if there is one. Returns true if
 * another may follow on this connection. */
static bool conn_try_request(Conn *c) {
        Server *s = c->server;
        const char *end;
        size_t head_len, body_len;
        char method[16] = "", path[1024] = "";

        if (c->close_after || c->in_len == 0)
                return false;
        end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!end)
                return false;
        head_len = (size_t) (end - c->in) + 4;
        free(s->last_head);
        s->last_head = strndup(c->in, head_len);
        if (!s->last_head)
                abort();
        body_len = head_content_length(s->last_head);
        if (c->in_len < head_len + body_len)
                return false;

        free(s->last_body);
        s->last_body = NULL;
        s->last_body_len = 0;
        if (!buf_append(&s->last_body, &s->last_body_len, c->in + head_len, body_len))
                abort();
        s->n_requests++;
        (void) sscanf(s->last_head, "%15s %1023s", method, path);

        memmove(c->in, c->in + head_len + body_len, c->in_len - head_len - body_len);
        c->in_len -= head_len + body_len;

        if (s->silent)
                return true;

        const char *body = s->echo_path ? path : s->body ? s->body : "";
        size_t blen = s->echo_path || s->body_len == 0 ? strlen(body) : s->body_len;
        _cleanup_free_ char *head = NULL;
        if (asprintf(&head, "%sHTTP/1.1 %d Test\r\nContent-Length: %zu\r\n%s%s\r\n", s->preamble ? s->preamble : "",
                     s->status ? s->status : 200, blen, s->keep_alive ? "" : "Connection: close\r\n",
                     s->headers ? s->headers : "") < 0)
                abort();
        if (!buf_append(&c->out, &c->out_len, head, strlen(head)))
                abort();
        if (!streq(method, "HEAD") && !buf_append(&c->out, &c->out_len, body, blen))
                abort();
        if (!s->keep_alive) {
                c->close_after = true;
                return false;
        }
        return true;
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                for (;;) {
                        if (c->in_cap - c->in_len < 4096) {
                                size_t cap = c->in_cap * 2 + 8192;
                                char *b = realloc(c->in, cap);
                                if (!b)
                                        abort();
                                c->in = b;
                                c->in_cap = cap;
                        }
                        ssize_t n = read(fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0 && errno == EAGAIN)
                                break;
                        if (n <= 0) {
                                /* The client went away (or reset the connection). */
                                conn_free(c);
                                return 0;
                        }
                        c->in_len += (size_t) n;
                        c->in[c->in_len] = 0;
                }
                while (conn_try_request(c))
                        ;
        }

        while (c->out_pos < c->out_len) {
                ssize_t n = write(fd, c->out + c->out_pos, c->out_len - c->out_pos);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0) {
                        conn_free(c);
                        return 0;
                }
                c->out_pos += (size_t) n;
        }

        if (c->out_pos < c->out_len)
                return sd_event_source_set_io_events(c->src, EPOLLIN | EPOLLOUT);
        c->out = mfree(c->out);
        c->out_len = c->out_pos = 0;
        if (c->close_after) {
                conn_free(c);
                return 0;
        }
        return sd_event_source_set_io_events(c->src, EPOLLIN);
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Server *s = userdata;

        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EINTR)
                                continue;
                        return 0; /* EAGAIN: all taken */
                }
                Conn *c = calloc(1, sizeof *c);
                if (!c)
                        abort();
                c->server = s;
                c->fd = cfd;
                if (sd_event_add_io(s->event, &c->src, cfd, EPOLLIN, on_conn_io, c) < 0)
                        abort();
                (void) sd_event_source_set_description(c->src, "test-server-conn");
                c->next = s->conns;
                s->conns = c;
                s->n_accepted++;
        }
}

/* A listening socket on 127.0.0.1, port chosen by the kernel. */
static int listen_socket(bool do_listen, uint16_t *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t salen = sizeof sa;
        int fd;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || (do_listen && listen(fd, 64) < 0) ||
            getsockname(fd, (struct sockaddr *) &sa, &salen) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

static bool server_start(Server *s, sd_event *e) {
        s->event = e;
        s->fd = listen_socket(true, &s->port);
        if (s->fd < 0)
                return false;
        if (sd_event_add_io(e, &s->src, s->fd, EPOLLIN, on_accept, s) < 0)
                return false;
        (void) sd_event_source_set_description(s->src, "test-server");
        return true;
}

static void server_stop(Server *s) {
        while (s->conns) {
                conn_free(s->conns);
        }
        s->src = sd_event_source_disable_unref(s->src);
        s->fd = safe_close(s->fd);
        s->last_head = mfree(s->last_head);
        s->last_body = mfree(s->last_body);
}

/* The value of a request header (case-insensitive name) in head, or NULL. */
static char *head_header(const char *head, const char *name) {
        size_t n = strlen(name);

        for (const char *p = head ? strstr(head, "\r\n") : NULL; p; p = strstr(p + 2, "\r\n")) {
                const char *l = p + 2;
                if (strncasecmp(l, name, n) != 0 || l[n] != ':')
                        continue;
                l += n + 1;
                while (*l == ' ')
                        l++;
                const char *e = strstr(l, "\r\n");
                return strndup(l, e ? (size_t) (e - l) : strlen(l));
        }
        return NULL;
}

/* ---------------------------------------------------------------- the client side */

typedef struct Env {
        sd_event *event;
        HttpClient *client;
        Server server;
} Env;

static bool env_init(Env *env) {
        *env = (Env) { .server.fd = -EBADF };
        if (sd_event_new(&env->event) < 0)
                return false;
        if (http_client_new(env->event, USER_AGENT, &env->client) < 0)
                return false;
        return server_start(&env->server, env->event);
}

static void env_done(Env *env) {
        env->client = http_client_free(env->client);
        server_stop(&env->server);
        env->event = sd_event_unref(env->event);
}

static char *env_url(const Env *env, const char *path) {
        char *u = NULL;
        return asprintf(&u, "http://127.0.0.1:%u%s", (unsigned) env->server.port, path) < 0 ? NULL : u;
}

typedef struct Done {
        unsigned calls;
        int error;
        HttpRequest *req;        /* freed in the callback if free_in_callback */
        bool free_in_callback;
        unsigned *total;         /* shared completion counter, optional */
        sd_event *exit_event;    /* sd_event_exit() once *total reaches exit_at */
        unsigned exit_at;
} Done;

static void on_done(HttpRequest *req, int error, void *userdata) {
        Done *d = userdata;

        d->calls++;
        d->error = error;
        if (d->free_in_callback && d->req == req)
                d->req = http_request_free(req);
        if (d->total) {
                (*d->total)++;
                if (d->exit_event && *d->total == d->exit_at)
                        (void) sd_event_exit(d->exit_event, 0);
        }
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        bool *expired = userdata;
        *expired = true;
        return 0;
}

/* Run the loop until *counter reaches target; false if that took more than 20 s (a
 * safety net so that a broken client fails the test instead of hanging it). */
static bool run_until(sd_event *e, const unsigned *counter, unsigned target) {
        sd_event_source *w = NULL;
        bool expired = false;

        if (sd_event_add_time_relative(e, &w, CLOCK_MONOTONIC, 20 * USEC_PER_SEC, 0, on_watchdog, &expired) < 0)
                return false;
        while (*counter < target && !expired)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        break;
        (void) sd_event_source_disable_unref(w);
        if (*counter < target)
                fprintf(stderr, "loop stopped at %u of %u\n", *counter, target);
        return *counter >= target;
}

/* Dispatch whatever is ready right now, without waiting. */
static void run_pending(sd_event *e) {
        for (int i = 0; i < 100; i++)
                if (sd_event_run(e, 0) <= 0)
                        break;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

/* Start a GET of path on the test server. */
static int start_get(Env *env, const char *path, Done *d, HttpRequest **ret) {
        _cleanup_free_ char *url = env_url(env, path);
        HttpRequestSpec spec = { .method = "GET", .url = url, .allow_http = true };

        if (!url)
                return -ENOMEM;
        return http_request_start(env->client, &spec, on_done, d, ret);
}

/* ---------------------------------------------------------------- requests */

TEST(get) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *url = NULL, *ua = NULL, *accept = NULL, *host = NULL;
        size_t len = 0;

        REQUIRE(env_init(&env));
        env.server.body = "hello, world\n";
        env.server.headers = "Content-Type: text/plain; charset=utf-8\r\n";

        url = env_url(&env, "/directory?x=1");
        REQUIRE(url);
        HttpRequestSpec spec = { .method = "GET", .url = url, .allow_http = true, .accept = "application/json" };
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));

        CHECK_INT(d.calls, 1);
        CHECK_INT(d.error, 0);
        CHECK_INT(http_request_status(req), 200);
        CHECK_STR(http_request_body(req, &len), "hello, world\n");
        CHECK_INT(len, 13);
        CHECK_STR(http_request_header(req, "Content-Type"), "text/plain; charset=utf-8");
        CHECK(http_request_header(req, "Location") == NULL);
        CHECK(http_request_header(req, "Replay-Nonce") == NULL);
        CHECK_STR(http_request_url(req), url);
        CHECK_STR(http_request_error_text(req), "no error");

        /* What the server saw. */
        CHECK_INT(env.server.n_requests, 1);
        CHECK(env.server.last_head && strncmp(env.server.last_head, "GET /directory?x=1 HTTP/1.1\r\n", 29) == 0);
        ua = head_header(env.server.last_head, "User-Agent");
        CHECK_STR(ua, USER_AGENT);
        accept = head_header(env.server.last_head, "Accept");
        CHECK_STR(accept, "application/json");
        host = head_header(env.server.last_head, "Host");
        CHECK(host && strncmp(host, "127.0.0.1:", 10) == 0);
        CHECK_INT(env.server.last_body_len, 0);

        req = http_request_free(req);
        env_done(&env);
}

TEST(empty_body_and_error_status) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        size_t len = 1;

        REQUIRE(env_init(&env));
        env.server.status = 404;
        REQUIRE(start_get(&env, "/missing", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        /* A response is a response, whatever its status. */
        CHECK_INT(d.error, 0);
        CHECK_INT(http_request_status(req), 404);
        CHECK_STR(http_request_body(req, &len), "");
        CHECK_INT(len, 0);
        req = http_request_free(req);
        env_done(&env);
}

TEST(post) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *url = NULL, *ct = NULL, *ua = NULL, *expect = NULL;
        static const char payload[] = "{\"protected\":\"eyJhbGciOiJFUzI1NiJ9\",\"payload\":\"\",\"signature\":\"c2ln\"}";

        REQUIRE(env_init(&env));
        env.server.status = 201;
        env.server.headers = "Location: https://ca.test/acme/order/7\r\nReplay-Nonce: bm9uY2Ux\r\n"
                             "Content-Type: application/json\r\n";
        env.server.body = "{\"status\":\"pending\"}";
        url = env_url(&env, "/acme/new-order");
        REQUIRE(url);

        HttpRequestSpec spec = {
                .method = "POST", .url = url, .allow_http = true, .content_type = "application/jose+json",
                .body = payload, .body_len = strlen(payload),
        };
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, 0);
        CHECK_INT(http_request_status(req), 201);
        CHECK_STR(http_request_body(req, NULL), "{\"status\":\"pending\"}");
        CHECK_STR(http_request_header(req, "Location"), "https://ca.test/acme/order/7");
        CHECK_STR(http_request_header(req, "Replay-Nonce"), "bm9uY2Ux");

        REQUIRE(env.server.last_head);
        CHECK(strncmp(env.server.last_head, "POST /acme/new-order HTTP/1.1\r\n", 31) == 0);
        ct = head_header(env.server.last_head, "Content-Type");
        CHECK_STR(ct, "application/jose+json");
        ua = head_header(env.server.last_head, "User-Agent");
        CHECK_STR(ua, USER_AGENT);
        CHECK_INT(env.server.last_body_len, strlen(payload));
        CHECK_STR(env.server.last_body, payload);
        /* No 100-continue round trip. */
        expect = head_header(env.server.last_head, "Expect");
        CHECK(expect == NULL);

        req = http_request_free(req);
        env_done(&env);
}

TEST(post_binary_and_large) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *url = NULL, *big = NULL, *expect = NULL;
        static const char bin[] = "a\0b\r\n\r\nc\xff";

        REQUIRE(env_init(&env));
        url = env_url(&env, "/bin");
        REQUIRE(url);

        /* Embedded NUL and CRLFs arrive exactly; body_len counts, not strlen. */
        HttpRequestSpec spec = { .method = "POST", .url = url, .allow_http = true,
                                 .content_type = "application/octet-stream", .body = bin, .body_len = sizeof bin - 1 };
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, 0);
        CHECK_INT(env.server.last_body_len, sizeof bin - 1);
        CHECK(env.server.last_body && memcmp(env.server.last_body, bin, sizeof bin - 1) == 0);
        req = http_request_free(req);

        /* A body of 300 kB: still no Expect, everything delivered. */
        big = malloc(300000);
        REQUIRE(big);
        for (size_t i = 0; i < 300000; i++)
                big[i] = (char) ('a' + i % 26);
        spec.body = big;
        spec.body_len = 300000;
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 2));
        CHECK_INT(d.error, 0);
        CHECK_INT(env.server.last_body_len, 300000);
        CHECK(env.server.last_body && memcmp(env.server.last_body, big, 300000) == 0);
        expect = head_header(env.server.last_head, "Expect");
        CHECK(expect == NULL);
        req = http_request_free(req);

        /* POST without a body sends Content-Length: 0. */
        spec.body = NULL;
        spec.body_len = 0;
        spec.content_type = "application/jose+json";
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 3));
        CHECK_INT(d.error, 0);
        CHECK(env.server.last_head && strncmp(env.server.last_head, "POST /bin ", 10) == 0);
        CHECK_INT(env.server.last_body_len, 0);
        req = http_request_free(req);

        env_done(&env);
}

TEST(head) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *url = NULL;
        size_t len = 1;

        REQUIRE(env_init(&env));
        env.server.headers = "Replay-Nonce: aGVhZA\r\n";
        env.server.body = "not sent for HEAD";
        url = env_url(&env, "/acme/new-nonce");
        REQUIRE(url);
        HttpRequestSpec spec = { .method = "HEAD", .url = url, .allow_http = true };
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, 0);
        CHECK_INT(http_request_status(req), 200);
        CHECK_STR(http_request_header(req, "Replay-Nonce"), "aGVhZA");
        CHECK_STR(http_request_body(req, &len), "");
        CHECK_INT(len, 0);
        CHECK(env.server.last_head && strncmp(env.server.last_head, "HEAD /acme/new-nonce HTTP/1.1\r\n", 31) == 0);
        req = http_request_free(req);
        env_done(&env);
}

TEST(bad_arguments) {
        Env env;
        Done d = {};
        HttpRequest *req = (HttpRequest *) 0x1;
        _cleanup_free_ char *url = NULL;

        REQUIRE(env_init(&env));
        url = env_url(&env, "/");
        REQUIRE(url);
        HttpRequestSpec spec = { .method = "PUT", .url = url, .allow_http = true };
        CHECK_INT(http_request_start(env.client, &spec, on_done, &d, &req), -EINVAL);
        spec.method = NULL;
        CHECK_INT(http_request_start(env.client, &spec, on_done, &d, &req), -EINVAL);
        spec.method = "GET";
        spec.url = NULL;
        CHECK_INT(http_request_start(env.client, &spec, on_done, &d, &req), -EINVAL);
        spec.url = url;
        CHECK_INT(http_request_start(env.client, &spec, NULL, &d, &req), -EINVAL);
        CHECK(req == (HttpRequest *) 0x1);
        run_pending(env.event);
        CHECK_INT(d.calls, 0);
        CHECK_INT(env.server.n_accepted, 0);
        env_done(&env);
}

TEST(response_headers) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;

        REQUIRE(env_init(&env));
        /* Odd spellings, odd spacing: names match case-insensitively, values are trimmed. */
        env.server.headers = "replay-nonce: YWJj\r\n"
                             "LOCATION:   https://ca.test/acme/acct/1   \r\n"
                             "retry-AFTER:\t120\r\n"
                             "content-type: application/problem+json\r\n"
                             "X-Replay-Nonce: not-this-one\r\n"
                             "Replay-Nonce-Extra: nor-this\r\n";
        REQUIRE(start_get(&env, "/h", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, 0);
        CHECK_STR(http_request_header(req, "Replay-Nonce"), "YWJj");
        CHECK_STR(http_request_header(req, "replay-nonce"), "YWJj");
        CHECK_STR(http_request_header(req, "REPLAY-NONCE"), "YWJj");
        CHECK_STR(http_request_header(req, "Location"), "https://ca.test/acme/acct/1");
        CHECK_STR(http_request_header(req, "Retry-After"), "120");
        CHECK_STR(http_request_header(req, "Content-Type"), "application/problem+json");
        CHECK(http_request_header(req, "X-Replay-Nonce") == NULL);
        CHECK(http_request_header(req, "Server") == NULL);
        req = http_request_free(req);

        /* The last of repeated headers wins. */
        env.server.headers = "Replay-Nonce: Zmlyc3Q\r\nReplay-Nonce: c2Vjb25k\r\n";
        REQUIRE(start_get(&env, "/h", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 2));
        CHECK_INT(d.error, 0);
        CHECK_STR(http_request_header(req, "Replay-Nonce"), "c2Vjb25k");
        req = http_request_free(req);

        env_done(&env);
}

TEST(interim_response) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;

        REQUIRE(env_init(&env));
        /* Headers of an interim 1xx response are forgotten at the final one. */
        env.server.preamble = "HTTP/1.1 100 Continue\r\nReplay-Nonce: b2xk\r\nLink: <https://old.test/>;rel=alternate\r\n\r\n";
        env.server.headers = "Location: https://ca.test/final\r\n";
        env.server.body = "final";
        REQUIRE(start_get(&env, "/i", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, 0);
        CHECK_INT(http_request_status(req), 200);
        CHECK_STR(http_request_body(req, NULL), "final");
        CHECK(http_request_header(req, "Replay-Nonce") == NULL);
        CHECK_STR(http_request_header(req, "Location"), "https://ca.test/final");
        char *const *alt = http_request_links(req, "alternate");
        CHECK(strv_isempty(alt));
        req = http_request_free(req);
        env_done(&env);
}

TEST(long_headers) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *pad = NULL, *headers = NULL;

        REQUIRE(env_init(&env));
        pad = malloc(6001);
        REQUIRE(pad);
        memset(pad, 'p', 6000);
        pad[6000] = 0;

        /* A long header renewd does not care about is no reason to fail. */
        REQUIRE(asprintf(&headers, "X-Padding: %s\r\nReplay-Nonce: c2hvcnQ\r\n", pad) >= 0);
        env.server.headers = headers;
        env.server.body = "ok";
        REQUIRE(start_get(&env, "/l", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, 0);
        CHECK_INT(http_request_status(req), 200);
        CHECK_STR(http_request_header(req, "Replay-Nonce"), "c2hvcnQ");
        req = http_request_free(req);

        /* A Replay-Nonce of 6000 bytes is refused as a malformed response. */
        headers = mfree(headers);
        REQUIRE(asprintf(&headers, "Replay-Nonce: %s\r\n", pad) >= 0);
        env.server.headers = headers;
        REQUIRE(start_get(&env, "/l", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 2));
        CHECK_INT(d.error, -EBADMSG);
        CHECK(strstr(http_request_error_text(req), "header") != NULL);
        req = http_request_free(req);

        env_done(&env);
}

/* ---------------------------------------------------------------- Link headers */

TEST(links) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *base = NULL, *a1 = NULL, *a2 = NULL;
        char *const *l;

        REQUIRE(env_init(&env));
        env.server.headers = "Link: <https://ca.test/directory>;rel=\"index\"\r\n"
                             "Link: <alt/1>; rel=\"alternate\", </cert/abc/2>;rel=alternate\r\n"
                             "link: <https://other.test/c/3>; title=\"x, y; z\"; rel=\"alternate up\"\r\n"
                             "LINK: <../issuer>; rel=up\r\n";
        REQUIRE(start_get(&env, "/acme/cert/abc", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, 0);

        base = env_url(&env, "");
        REQUIRE(base);
        REQUIRE(asprintf(&a1, "%s/acme/cert/alt/1", base) >= 0);
        REQUIRE(asprintf(&a2, "%s/cert/abc/2", base) >= 0);

        l = http_request_links(req, "alternate");
        REQUIRE(l);
        CHECK_INT(strv_length(l), 3);
        CHECK_STR(l[0], a1);
        CHECK_STR(l[1], a2);
        CHECK_STR(l[2], "https://other.test/c/3");

        /* rel values compare case-insensitively. */
        l = http_request_links(req, "ALTERNATE");
        CHECK(l && strv_length(l) == 3);

        _cleanup_free_ char *up = NULL;
        REQUIRE(asprintf(&up, "%s/acme/issuer", base) >= 0);
        l = http_request_links(req, "up");
        REQUIRE(l);
        CHECK_INT(strv_length(l), 2);
        CHECK_STR(l[0], "https://other.test/c/3");
        CHECK_STR(l[1], up);

        l = http_request_links(req, "index");
        REQUIRE(l);
        CHECK_INT(strv_length(l), 1);
        CHECK_STR(l[0], "https://ca.test/directory");

        l = http_request_links(req, "next");
        CHECK(strv_isempty(l));

        req = http_request_free(req);
        env_done(&env);
}

TEST(links_unresolvable_target) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        char *const *l;

        REQUIRE(env_init(&env));
        /* One target curl cannot make sense of must not hide the others. */
        env.server.headers = "Link: <http://[::1>;rel=alternate, <https://ca.test/alt/2>;rel=alternate\r\n";
        REQUIRE(start_get(&env, "/c", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, 0);
        l = http_request_links(req, "alternate");
        REQUIRE(l);
        CHECK_INT(strv_length(l), 1);
        CHECK_STR(l[0], "https://ca.test/alt/2");
        req = http_request_free(req);
        env_done(&env);
}

TEST(links_malformed_response) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;

        REQUIRE(env_init(&env));
        env.server.headers = "Link: <https://ca.test/alt;rel=alternate\r\n";
        REQUIRE(start_get(&env, "/c", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, -EBADMSG);
        req = http_request_free(req);
        env_done(&env);
}

/* Parse value into fresh lists and join "target rel|target rel|…"; NULL on error (the
 * error then goes to *ret_error). */
static char *parse_links(const char *value, int *ret_error) {
        _cleanup_strv_free_ char **targets = NULL, **rels = NULL;
        char *out = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        r = http_parse_link_header(value, &targets, &rels);
        *ret_error = r;
        if (strv_length(targets) != strv_length(rels))
                fprintf(stderr, "unpaired lists for %s\n", value);
        if (r < 0)
                return NULL;
        f = open_memstream(&out, &len);
        if (!f)
                return NULL;
        for (size_t i = 0; targets && targets[i]; i++)
                fprintf(f, "%s%s %s", i ? "|" : "", targets[i], rels[i]);
        fclose(f);
        return out;
}

TEST(parse_link_header_good) {
        static const struct {
                const char *value;
                const char *expected;
        } cases[] = {
                { "", "" },
                { "   ", "" },
                { ",", "" },
                { " , ,", "" },
                { "<https://a.test/x>", "" },
                { "<https://a.test/x>; rel=\"alternate\"", "https://a.test/x alternate" },
                { "<https://a.test/x>;rel=alternate", "https://a.test/x alternate" },
                { "<https://a.test/x> ; rel = alternate", "https://a.test/x alternate" },
                { "<https://a.test/x>;\trel=\"alternate\"\t", "https://a.test/x alternate" },
                { "<https://a.test/x>; REL=\"Alternate\"", "https://a.test/x Alternate" },
                { "<x>; rel=\"alternate up\"", "x alternate|x up" },
                { "<x>; rel=\"  alternate   up  \"", "x alternate|x up" },
                { "<a>; rel=alternate, <b>; rel=alternate", "a alternate|b alternate" },
                { "<a>;rel=alternate,<b>;rel=up", "a alternate|b up" },
                { "<a>; rel=\"alternate\",\t<b>; rel=\"index\"", "a alternate|b index" },
                /* Whitespace before the comma (RFC 9110 lists allow it). */
                { "<a>; rel=alternate , <b>; rel=alternate", "a alternate|b alternate" },
                { "<a>; rel=\"alternate\" ,<b>; rel=\"up\"", "a alternate|b up" },
                { "<a> , <b>; rel=up", "b up" },
                { "<a>; rel=up ", "a up" },
                /* Other parameters, with and without values, quoted or not. */
                { "<a>; title=\"x, y; rel=no\"; rel=up", "a up" },
                { "<a>; anchor=\"#foo\"; rel=up; type=\"text/html\"", "a up" },
                { "<a>; crossorigin; rel=up", "a up" },
                { "<a>; title*=UTF-8'de'n%c3%a4chstes; rel=next", "a next" },
                /* quoted-pair inside a quoted string. */
                { "<a>; title=\"say \\\"hi\\\"\"; rel=alternate", "a alternate" },
                { "<a>; title=\"back\\\\\"; rel=alternate", "a alternate" },
                /* Commas and semicolons inside the target are not separators. */
                { "<https://a.test/x,y;z>; rel=alternate", "https://a.test/x,y;z alternate" },
                { "<>; rel=self", " self" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = 0;
                _cleanup_free_ char *s = parse_links(cases[i].value, &r);
                if (r != 0 || !s || !streq(s, cases[i].expected))
                        fprintf(stderr, "[%s]: %d \"%s\"\n", cases[i].value, r, strna(s));
                CHECK_INT(r, 0);
                CHECK_STR(s, cases[i].expected);
        }
}

TEST(parse_link_header_appends) {
        _cleanup_strv_free_ char **targets = NULL, **rels = NULL;

        CHECK_INT(http_parse_link_header("<a>; rel=up", &targets, &rels), 0);
        CHECK_INT(http_parse_link_header("<b>; rel=alternate, <c>; rel=alternate", &targets, &rels), 0);
        REQUIRE(strv_length(targets) == 3 && strv_length(rels) == 3);
        CHECK_STR(targets[0], "a");
        CHECK_STR(targets[2], "c");
        CHECK_STR(rels[0], "up");
        CHECK_STR(rels[1], "alternate");
}

TEST(parse_link_header_malformed) {
        static const char *const bad[] = {
                "https://a.test/x; rel=alternate",     /* no '<' */
                "a.test",
                "<https://a.test/x; rel=alternate",    /* no '>' */
                "<https://a.test/x",
                "<",
                "<a>; rel=\"alternate",                /* unterminated quote */
                "<a>; rel=\"alternate, <b>; rel=up",
                "<a>; title=\"x\\\"; rel=up",          /* the quote is escaped: unterminated */
                "<a>; rel=\"up\"x",                    /* junk after a quoted string */
                "<a> junk",
                "<a><b>",
                "<a>; rel=up <b>; rel=up",
                "<a>; rel=up, junk",
                "<a>; rel=up, b; rel=up",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = 0;
                _cleanup_free_ char *s = parse_links(bad[i], &r);
                if (r != -EBADMSG)
                        fprintf(stderr, "[%s]: %d \"%s\"\n", bad[i], r, strna(s));
                CHECK_INT(r, -EBADMSG);
        }
}

/* ---------------------------------------------------------------- failures */

TEST(body_too_big) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *url = NULL, *body = NULL;
        size_t len = 0;

        REQUIRE(env_init(&env));
        body = malloc(5000);
        REQUIRE(body);
        memset(body, 'b', 5000);
        env.server.body = body;
        env.server.body_len = 5000;
        url = env_url(&env, "/big");
        REQUIRE(url);

        HttpRequestSpec spec = { .method = "GET", .url = url, .allow_http = true, .max_body = 1000 };
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, -EFBIG);
        CHECK(strstr(http_request_error_text(req), "1000") != NULL);
        req = http_request_free(req);

        /* Exactly max_body is fine. */
        spec.max_body = 5000;
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 2));
        CHECK_INT(d.error, 0);
        (void) http_request_body(req, &len);
        CHECK_INT(len, 5000);
        req = http_request_free(req);

        spec.max_body = 4999;
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 3));
        CHECK_INT(d.error, -EFBIG);
        req = http_request_free(req);

        env_done(&env);
}

TEST(default_max_body) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *body = NULL;
        const size_t mib = 1024 * 1024;
        size_t len = 0;

        REQUIRE(env_init(&env));
        body = malloc(mib + 1);
        REQUIRE(body);
        memset(body, 'x', mib + 1);

        /* max_body 0 means 1 MiB: exactly that passes, one byte more does not. */
        env.server.body = body;
        env.server.body_len = mib;
        REQUIRE(start_get(&env, "/mib", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, 0);
        const char *b = http_request_body(req, &len);
        CHECK_INT(len, mib);
        CHECK(b[mib] == 0);
        req = http_request_free(req);

        env.server.body_len = mib + 1;
        REQUIRE(start_get(&env, "/mib", &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 2));
        CHECK_INT(d.error, -EFBIG);
        req = http_request_free(req);

        env_done(&env);
}

TEST(connection_refused) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *url = NULL;
        uint16_t port = 0;

        REQUIRE(env_init(&env));
        /* Bound but not listening: the kernel answers a SYN with RST, and nobody else can
         * take the port meanwhile. */
        fd = listen_socket(false, &port);
        REQUIRE(fd >= 0);
        REQUIRE(asprintf(&url, "http://127.0.0.1:%u/directory", (unsigned) port) >= 0);

        HttpRequestSpec spec = { .method = "GET", .url = url, .allow_http = true };
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.calls, 1);
        CHECK_INT(d.error, -ECONNREFUSED);
        CHECK_INT(http_request_status(req), 0);
        CHECK(!streq(http_request_error_text(req), "no error"));
        req = http_request_free(req);
        env_done(&env);
}

TEST(timeout) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *url = NULL;
        uint64_t start, elapsed;

        REQUIRE(env_init(&env));
        env.server.silent = true;
        url = env_url(&env, "/slow");
        REQUIRE(url);

        HttpRequestSpec spec = { .method = "GET", .url = url, .allow_http = true, .timeout_usec = 200 * USEC_PER_MSEC };
        start = now_usec();
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        elapsed = now_usec() - start;
        CHECK_INT(d.error, -ETIMEDOUT);
        CHECK_INT(env.server.n_requests, 1);
        /* Generous bounds: not before the timeout, and long before the 30 s default. */
        if (elapsed < 150 * USEC_PER_MSEC || elapsed > 10 * USEC_PER_SEC)
                fprintf(stderr, "timed out after %" PRIu64 " us\n", elapsed);
        CHECK(elapsed >= 150 * USEC_PER_MSEC);
        CHECK(elapsed < 10 * USEC_PER_SEC);
        req = http_request_free(req);

        /* A timeout below a millisecond is still a timeout, not "none". */
        spec.timeout_usec = 500;
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 2));
        CHECK_INT(d.error, -ETIMEDOUT);
        req = http_request_free(req);

        env_done(&env);
}

TEST(http_refused) {
        Env env;
        Done d = {};
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        _cleanup_free_ char *url = NULL;

        REQUIRE(env_init(&env));
        url = env_url(&env, "/directory");
        REQUIRE(url);

        /* Plain http:// without allow_http: curl refuses the protocol before connecting,
         * reported through the callback. */
        HttpRequestSpec spec = { .method = "GET", .url = url, .allow_http = false };
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK_INT(d.error, -EPROTONOSUPPORT);
        CHECK_INT(http_request_status(req), 0);
        run_pending(env.event);
        CHECK_INT(env.server.n_accepted, 0);
        req = http_request_free(req);

        /* Neither are other schemes, with or without allow_http. */
        _cleanup_free_ char *ftp = NULL;
        REQUIRE(asprintf(&ftp, "ftp://127.0.0.1:%u/x", (unsigned) env.server.port) >= 0);
        spec.url = ftp;
        spec.allow_http = true;
        REQUIRE(http_request_start(env.client, &spec, on_done, &d, &req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 2));
        CHECK_INT(d.error, -EPROTONOSUPPORT);
        run_pending(env.event);
        CHECK_INT(env.server.n_accepted, 0);
        req = http_request_free(req);

        env_done(&env);
}

/* ---------------------------------------------------------------- lifetime */

TEST(free_running_cancels) {
        Env env;
        Done d1 = {}, d2 = {}, d3 = {};
        HttpRequest *r1 = NULL, *r2 = NULL;
        _cleanup_(http_request_freep) HttpRequest *r3 = NULL;

        REQUIRE(env_init(&env));
        env.server.silent = true;

        /* In flight: the server has the request, no answer yet. */
        REQUIRE(start_get(&env, "/never", &d1, &r1) == 0);
        REQUIRE(run_until(env.event, &env.server.n_requests, 1));
        r1 = http_request_free(r1);
        /* curl drops the connection; the server sees it close. */
        REQUIRE(run_until(env.event, &env.server.n_closed, 1));
        CHECK_INT(d1.calls, 0);

        /* Not even started on the wire yet. */
        REQUIRE(start_get(&env, "/never", &d2, &r2) == 0);
        r2 = http_request_free(r2);

        /* Another request still works, and neither callback ever runs. */
        env.server.silent = false;
        env.server.body = "alive";
        REQUIRE(start_get(&env, "/ok", &d3, &r3) == 0);
        REQUIRE(run_until(env.event, &d3.calls, 1));
        CHECK_INT(d3.error, 0);
        CHECK_STR(http_request_body(r3, NULL), "alive");
        run_pending(env.event);
        CHECK_INT(d1.calls, 0);
        CHECK_INT(d2.calls, 0);

        CHECK(http_request_free(NULL) == NULL);
        r3 = http_request_free(r3);
        env_done(&env);
}

TEST(free_in_callback) {
        Env env;
        Done d = { .free_in_callback = true };

        REQUIRE(env_init(&env));
        env.server.body = "x";
        REQUIRE(start_get(&env, "/a", &d, &d.req) == 0);
        REQUIRE(run_until(env.event, &d.calls, 1));
        CHECK(d.req == NULL);
        CHECK_INT(d.error, 0);
        env_done(&env);
}

/* A callback that frees its request and starts the next, n times. */
typedef struct Chain {
        Env *env;
        HttpRequest *req;
        unsigned done, n;
        int error;
} Chain;

static void on_chain_done(HttpRequest *req, int error, void *userdata) {
        Chain *c = userdata;

        c->req = http_request_free(req);
        c->done++;
        if (error < 0)
                c->error = error;
        if (c->done < c->n) {
                _cleanup_free_ char *url = env_url(c->env, "/next");
                HttpRequestSpec spec = { .method = "GET", .url = url, .allow_http = true };
                if (!url || http_request_start(c->env->client, &spec, on_chain_done, c, &c->req) < 0)
                        c->error = -EIO;
        }
}

TEST(start_from_callback) {
        Env env;
        Chain c = { .env = &env, .n = 5 };
        _cleanup_free_ char *url = NULL;

        REQUIRE(env_init(&env));
        env.server.keep_alive = true;
        url = env_url(&env, "/first");
        REQUIRE(url);
        HttpRequestSpec spec = { .method = "GET", .url = url, .allow_http = true };
        REQUIRE(http_request_start(env.client, &spec, on_chain_done, &c, &c.req) == 0);
        REQUIRE(run_until(env.event, &c.done, 5));
        CHECK_INT(c.error, 0);
        CHECK(c.req == NULL);
        CHECK_INT(env.server.n_requests, 5);
        env_done(&env);
}

static void parallel(bool keep_alive) {
        Env env;
        enum { N = 8 };
        Done d[N] = {};
        HttpRequest *req[N] = {};
        unsigned total = 0;
        sd_event_source *w = NULL;
        bool expired = false;

        REQUIRE(env_init(&env));
        env.server.echo_path = true;
        env.server.keep_alive = keep_alive;

        for (unsigned i = 0; i < N; i++) {
                char path[32];
                snprintf(path, sizeof path, "/req/%u", i);
                d[i] = (Done) { .total = &total, .exit_event = env.event, .exit_at = N };
                REQUIRE(start_get(&env, path, &d[i], &req[i]) == 0);
        }
        /* sd_event_loop() this time: the last callback calls sd_event_exit(). */
        REQUIRE(sd_event_add_time_relative(env.event, &w, CLOCK_MONOTONIC, 20 * USEC_PER_SEC, 0, on_watchdog,
                                           &expired) >= 0);
        (void) sd_event_source_set_enabled(w, SD_EVENT_ONESHOT);
        CHECK(sd_event_loop(env.event) >= 0 || expired);
        (void) sd_event_source_disable_unref(w);
        CHECK(!expired);

        CHECK_INT(total, N);
        CHECK_INT(env.server.n_requests, N);
        for (unsigned i = 0; i < N; i++) {
                char path[32];
                snprintf(path, sizeof path, "/req/%u", i);
                CHECK_INT(d[i].calls, 1);
                CHECK_INT(d[i].error, 0);
                CHECK_INT(http_request_status(req[i]), 200);
                CHECK_STR(http_request_body(req[i], NULL), path);
                req[i] = http_request_free(req[i]);
        }
        env_done(&env);
}

TEST(parallel_close) {
        parallel(false);
}

TEST(parallel_keep_alive) {
        parallel(true);
}

TEST(connection_reuse) {
        Env env;
        Done d = {};
        HttpRequest *req = NULL;

        REQUIRE(env_init(&env));
        env.server.keep_alive = true;
        env.server.body = "k";
        for (unsigned i = 1; i <= 3; i++) {
                REQUIRE(start_get(&env, "/k", &d, &req) == 0);
                REQUIRE(run_until(env.event, &d.calls, i));
                CHECK_INT(d.error, 0);
                req = http_request_free(req);
        }
        CHECK_INT(env.server.n_requests, 3);
        CHECK_INT(env.server.n_accepted, 1);
        CHECK_INT(http_client_connects(env.client), 1);
        env_done(&env);

        /* With "Connection: close", one connection per request. */
        d = (Done) {};
        REQUIRE(env_init(&env));
        env.server.body = "c";
        for (unsigned i = 1; i <= 3; i++) {
                REQUIRE(start_get(&env, "/c", &d, &req) == 0);
                REQUIRE(run_until(env.event, &d.calls, i));
                CHECK_INT(d.error, 0);
                req = http_request_free(req);
        }
        CHECK_INT(env.server.n_accepted, 3);
        CHECK_INT(http_client_connects(env.client), 3);
        env_done(&env);
}

TEST(client_free_null) {
        CHECK(http_client_free(NULL) == NULL);
}

TEST_MAIN(T(get), T(empty_body_and_error_status), T(post), T(post_binary_and_large), T(head), T(bad_arguments),
          T(response_headers), T(interim_response), T(long_headers), T(links), T(links_unresolvable_target),
          T(links_malformed_response), T(parse_link_header_good), T(parse_link_header_appends),
          T(parse_link_header_malformed), T(body_too_big), T(default_max_body), T(connection_refused), T(timeout),
          T(http_refused), T(free_running_cancels), T(free_in_callback), T(start_from_callback),
          T(parallel_close), T(parallel_keep_alive), T(connection_reuse), T(client_free_null))
