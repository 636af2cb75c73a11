/* SPDX-License-Identifier: MIT */
/* The http-01 responder on real loopback sockets. The server runs on an sd_event loop
 * driven from here; clients are plain sockets of this process, connected (the kernel
 * completes loopback handshakes from the listen backlog without the server's help) and
 * written directly, then read non-blocking while the loop is stepped. Nothing depends on
 * timing: waits have a 30 s safety net and the checks are on what arrives. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "http01-server.h"
#include "test.h"

#define TOKEN  "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define TOKEN2 "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH2 TOKEN2 ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define PREFIX "/.well-known/acme-challenge/"
#define SAFETY_NET_USEC (30 * USEC_PER_SEC)

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

/* Dispatch whatever is ready right now, without waiting. */
static void run_pending(sd_event *e) {
        for (int i = 0; i < 1000; i++)
                if (sd_event_run(e, 0) <= 0)
                        break;
}

static struct sockaddr_in addr4(uint16_t port) {
        return (struct sockaddr_in) {
                .sin_family = AF_INET,
                .sin_port = htons(port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
}

static struct sockaddr_in6 addr6(const struct in6_addr *a, uint16_t port) {
        return (struct sockaddr_in6) {
                .sin6_family = AF_INET6,
                .sin6_port = htons(port),
                .sin6_addr = *a,
        };
}

/* A connected non-blocking client socket, or -errno (-ECONNREFUSED ...). */
static int client_connect(int family, int port) {
        struct sockaddr_in a4 = addr4((uint16_t) port);
        struct sockaddr_in6 a6 = addr6(&in6addr_loopback, (uint16_t) port);
        const struct sockaddr *sa = family == AF_INET ? (const struct sockaddr *) &a4 : (const struct sockaddr *) &a6;
        socklen_t l = family == AF_INET ? sizeof a4 : sizeof a6;
        int fd, r;

        fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, sa, l) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Send all of data, stepping the loop while the socket buffer is full. */
static bool client_send(sd_event *e, int fd, const void *data, size_t len) {
        uint64_t end = now_usec() + SAFETY_NET_USEC;
        size_t done = 0;

        while (done < len && now_usec() < end) {
                ssize_t n = send(fd, (const char *) data + done, len - done, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno != EAGAIN)
                                return false;
                        (void) sd_event_run(e, 10 * USEC_PER_MSEC);
                        continue;
                }
                done += (size_t) n;
        }
        return done == len;
}

/* Read until the server closes, stepping the loop meanwhile. Returns what came (NUL-
 * terminated, maybe empty), or NULL on a reset or if nothing ended within the safety
 * net. */
static char *client_read_all(sd_event *e, int fd) {
        uint64_t end = now_usec() + SAFETY_NET_USEC;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        buf = calloc(1, 1);
        if (!buf)
                return NULL;
        while (now_usec() < end) {
                char chunk[4096];
                ssize_t n = recv(fd, chunk, sizeof chunk, 0);
                char *b;

                if (n == 0)
                        return TAKE_PTR(buf);
                if (n < 0) {
                        if (errno != EAGAIN)
                                return NULL;
                        (void) sd_event_run(e, 50 * USEC_PER_MSEC);
                        continue;
                }
                b = realloc(buf, len + (size_t) n + 1);
                if (!b)
                        return NULL;
                buf = b;
                memcpy(buf + len, chunk, (size_t) n);
                len += (size_t) n;
                buf[len] = 0;
        }
        fprintf(stderr, "no end of the response within the safety net\n");
        return NULL;
}

/* True if nothing has arrived on fd (and it was not closed). */
static bool client_nothing_yet(int fd) {
        char c;
        return recv(fd, &c, 1, MSG_PEEK) < 0 && errno == EAGAIN;
}

/* One request of len bytes on a new connection, the whole response back. */
static char *exchange_len(sd_event *e, int family, int port, const char *req, size_t len) {
        _cleanup_close_ int fd = client_connect(family, port);

        if (fd < 0) {
                fprintf(stderr, "connect: %s\n", strerror(-fd));
                return NULL;
        }
        if (!client_send(e, fd, req, len))
                return NULL;
        return client_read_all(e, fd);
}

static char *exchange(sd_event *e, int port, const char *req) {
        return exchange_len(e, AF_INET, port, req, strlen(req));
}

static char *get(sd_event *e, int port, const char *path) {
        _cleanup_free_ char *req = NULL;

        if (asprintf(&req, "GET %s HTTP/1.1\r\nHost: example.org\r\n\r\n", path) < 0)
                return NULL;
        return exchange(e, port, req);
}

/* The status code of a response, or -1. */
static int status_of(const char *resp) {
        int code;

        if (!resp || sscanf(resp, "HTTP/1.1 %3d ", &code) != 1)
                return -1;
        return code;
}

static const char *body_of(const char *resp) {
        const char *p = resp ? strstr(resp, "\r\n\r\n") : NULL;
        return p ? p + 4 : NULL;
}

/* True if the head of resp has the line "line". */
static bool has_header(const char *resp, const char *line) {
        _cleanup_free_ char *needle = NULL;
        const char *end = resp ? strstr(resp, "\r\n\r\n") : NULL;
        const char *p;

        if (!end || asprintf(&needle, "\r\n%s\r\n", line) < 0)
                return false;
        p = strstr(resp, needle);
        return p && p < end;
}

static int get_status(sd_event *e, int port, const char *path) {
        _cleanup_free_ char *resp = get(e, port, path);
        return status_of(resp);
}

/* A server on 127.0.0.1, port 0. */
static int new_server4(sd_event *e, Http01Server **ret) {
        struct sockaddr_in a = addr4(0);
        return http01_server_new(e, (const struct sockaddr *) &a, sizeof a, ret);
}

TEST(serve_token) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_free_ char *resp = NULL, *cl = NULL;
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        CHECK(!http01_server_is_listening(s));
        CHECK_INT(http01_server_local_port(s), -EBADF);

        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        CHECK(http01_server_is_listening(s));
        CHECK_INT(http01_server_n_tokens(s), 1);
        port = http01_server_local_port(s);
        REQUIRE(port > 0);

        resp = get(e, port, PREFIX TOKEN);
        CHECK_INT(status_of(resp), 200);
        CHECK_STR(body_of(resp), KEYAUTH);
        CHECK(has_header(resp, "Content-Type: application/octet-stream"));
        CHECK(has_header(resp, "Connection: close"));
        REQUIRE(asprintf(&cl, "Content-Length: %zu", strlen(KEYAUTH)) > 0);
        CHECK(has_header(resp, cl));
        CHECK(has_header(resp, "Cache-Control: no-store"));

        /* Once the client has gone, so has the connection. */
        run_pending(e);
        CHECK_INT(http01_server_n_connections(s), 0);
}

TEST(head) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_free_ char *resp = NULL, *cl = NULL, *resp404 = NULL;
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);

        resp = exchange(e, port, "HEAD " PREFIX TOKEN " HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK_INT(status_of(resp), 200);
        CHECK_STR(body_of(resp), "");
        REQUIRE(asprintf(&cl, "Content-Length: %zu", strlen(KEYAUTH)) > 0);
        CHECK(has_header(resp, cl));

        resp404 = exchange(e, port, "HEAD " PREFIX "nope HTTP/1.1\r\n\r\n");
        CHECK_INT(status_of(resp404), 404);
        CHECK_STR(body_of(resp404), "");
}

TEST(not_found) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        REQUIRE(http01_server_add(s, TOKEN2, KEYAUTH2) == 0);
        port = http01_server_local_port(s);

        CHECK_INT(get_status(e, port, PREFIX "unknownToken"), 404);
        CHECK_INT(get_status(e, port, "/"), 404);
        CHECK_INT(get_status(e, port, "/index.html"), 404);
        CHECK_INT(get_status(e, port, PREFIX), 404);
        CHECK_INT(get_status(e, port, "/.well-known/acme-challenge"), 404);
        CHECK_INT(get_status(e, port, PREFIX TOKEN "/"), 404);
        CHECK_INT(get_status(e, port, PREFIX TOKEN "x"), 404);
        CHECK_INT(get_status(e, port, "/.well-known/ACME-challenge/" TOKEN), 404);
        CHECK_INT(get_status(e, port, "//.well-known/acme-challenge/" TOKEN), 404);
        CHECK_INT(get_status(e, port, "/x" PREFIX TOKEN), 404);

        /* The query is not part of the path. */
        CHECK_INT(get_status(e, port, PREFIX TOKEN "?x=1"), 200);

        /* After remove: 404 for it, the other one still served. */
        CHECK_INT(http01_server_remove(s, TOKEN), 0);
        CHECK_INT(get_status(e, port, PREFIX TOKEN), 404);
        CHECK_INT(get_status(e, port, PREFIX TOKEN2), 200);
}

TEST(methods) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_free_ char *post = NULL, *put = NULL, *opt = NULL, *lower = NULL;
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);

        /* With a body we do not read: the answer must still arrive intact. */
        post = exchange(e, port, "POST " PREFIX TOKEN " HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world");
        CHECK_INT(status_of(post), 405);
        CHECK(has_header(post, "Allow: GET, HEAD"));
        CHECK(!strstr(strempty(post), KEYAUTH));

        put = exchange(e, port, "PUT " PREFIX TOKEN " HTTP/1.1\r\n\r\n");
        CHECK_INT(status_of(put), 405);
        opt = exchange(e, port, "OPTIONS * HTTP/1.1\r\n\r\n");
        CHECK_INT(status_of(opt), 405);
        lower = exchange(e, port, "get " PREFIX TOKEN " HTTP/1.1\r\n\r\n");
        CHECK_INT(status_of(lower), 405);
}

TEST(bad_requests) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_free_ char *garbage = NULL, *binary = NULL, *v2 = NULL, *big = NULL, *bigresp = NULL,
                            *longline = NULL, *longresp = NULL, *halfresp = NULL, *fold = NULL;
        _cleanup_close_ int half = -EBADF;
        static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n";
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);

        garbage = exchange(e, port, "hello there\r\n\r\n");
        CHECK_INT(status_of(garbage), 400);
        binary = exchange_len(e, AF_INET, port, tls, sizeof tls - 1);
        CHECK_INT(status_of(binary), 400);
        fold = exchange(e, port, "GET " PREFIX TOKEN " HTTP/1.1\r\nHost: a\r\n b\r\n\r\n");
        CHECK_INT(status_of(fold), 400);
        v2 = exchange(e, port, "GET " PREFIX TOKEN " HTTP/2.0\r\n\r\n");
        CHECK_INT(status_of(v2), 505);

        /* Headers over 8 KiB, sent whole: refused, and the answer survives the rest. */
        REQUIRE(asprintf(&big, "GET " PREFIX TOKEN " HTTP/1.1\r\nX-Big: %09000d\r\n\r\n", 0) > 0);
        bigresp = exchange(e, port, big);
        CHECK_INT(status_of(bigresp), 431);

        /* A request-line that never ends. */
        longline = malloc(20000);
        REQUIRE(longline);
        memcpy(longline, "GET /", 5);
        memset(longline + 5, 'a', 20000 - 5);
        longresp = exchange_len(e, AF_INET, port, longline, 20000);
        CHECK_INT(status_of(longresp), 431);

        /* A client that stops sending half-way and says so. */
        half = client_connect(AF_INET, port);
        REQUIRE(half >= 0);
        REQUIRE(client_send(e, half, "GET " PREFIX, strlen("GET " PREFIX)));
        REQUIRE(shutdown(half, SHUT_WR) >= 0);
        halfresp = client_read_all(e, half);
        CHECK_INT(status_of(halfresp), 400);

        CHECK_INT(get_status(e, port, PREFIX TOKEN), 200);
}

TEST(hostile_paths) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_free_ char *longtok = NULL, *nulresp = NULL, *path = NULL;
        static const char nul[] = "GET " PREFIX TOKEN "\0x HTTP/1.1\r\n\r\n";
        static const char *const paths[] = {
                PREFIX "../x",
                PREFIX "..",
                PREFIX ".",
                PREFIX "../../../../etc/passwd",
                PREFIX "%2e%2e",
                PREFIX "%2e%2e/" TOKEN,
                PREFIX "%2E%2E%2Fx",
                PREFIX TOKEN "%00",
                PREFIX "%4coqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", /* %4c is 'L' */
                PREFIX "a/b",
                PREFIX "./" TOKEN,
                PREFIX "../acme-challenge/" TOKEN,
                "/.well-known/./acme-challenge/" TOKEN,
                "/.well-known/x/../acme-challenge/" TOKEN,
                PREFIX TOKEN ".",
                PREFIX TOKEN "=",
                PREFIX "+" TOKEN,
        };
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                int st = get_status(e, port, paths[i]);
                if (st != 404)
                        fprintf(stderr, "%s: %d\n", paths[i], st);
                CHECK_INT(st, 404);
        }

        /* A NUL in the request: not a request at all. */
        nulresp = exchange_len(e, AF_INET, port, nul, sizeof nul - 1);
        CHECK_INT(status_of(nulresp), 400);

        /* 300 characters of base64url: not a token, even if it were registered. */
        longtok = malloc(301);
        REQUIRE(longtok);
        memset(longtok, 'A', 300);
        longtok[300] = 0;
        CHECK_INT(http01_server_add(s, longtok, KEYAUTH), -EINVAL);
        REQUIRE(asprintf(&path, PREFIX "%s", longtok) > 0);
        CHECK_INT(get_status(e, port, path), 404);

        /* 255 is the most a token may have. */
        longtok[255] = 0;
        REQUIRE(http01_server_add(s, longtok, "x.y") == 0);
        path = mfree(path);
        REQUIRE(asprintf(&path, PREFIX "%s", longtok) > 0);
        CHECK_INT(get_status(e, port, path), 200);
        path = mfree(path);
        REQUIRE(asprintf(&path, PREFIX "%sA", longtok) > 0);
        CHECK_INT(get_status(e, port, path), 404);
}

TEST(proxy_forms) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_free_ char *abs = NULL, *abs_https = NULL, *abs_other = NULL, *v10 = NULL, *v10head = NULL,
                            *lf = NULL, *host = NULL;
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);

        abs = exchange(e, port, "GET http://example.org" PREFIX TOKEN " HTTP/1.1\r\nHost: example.org\r\n"
                                "X-Forwarded-For: 192.0.2.1\r\n\r\n");
        CHECK_INT(status_of(abs), 200);
        CHECK_STR(body_of(abs), KEYAUTH);
        abs_https = exchange(e, port, "GET HTTPS://example.org:443" PREFIX TOKEN " HTTP/1.1\r\n\r\n");
        CHECK_INT(status_of(abs_https), 200);
        abs_other = exchange(e, port, "GET http://example.org" PREFIX "other HTTP/1.1\r\n\r\n");
        CHECK_INT(status_of(abs_other), 404);

        /* HTTP/1.0 without Host, bare LF line ends, any Host. */
        v10 = exchange(e, port, "GET " PREFIX TOKEN " HTTP/1.0\r\n\r\n");
        CHECK_INT(status_of(v10), 200);
        CHECK_STR(body_of(v10), KEYAUTH);
        v10head = exchange(e, port, "HEAD " PREFIX TOKEN " HTTP/1.0\r\n\r\n");
        CHECK_INT(status_of(v10head), 200);
        lf = exchange(e, port, "GET " PREFIX TOKEN " HTTP/1.1\nHost: a\n\n");
        CHECK_INT(status_of(lf), 200);
        host = exchange(e, port, "GET " PREFIX TOKEN " HTTP/1.1\r\nHost: elsewhere.invalid:8080\r\n\r\n");
        CHECK_INT(status_of(host), 200);
}

/* A request sent one byte at a time, the loop stepped in between. */
TEST(byte_by_byte) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_free_ char *resp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *req = "GET " PREFIX TOKEN " HTTP/1.1\r\nHost: x\r\n\r\n";

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        fd = client_connect(AF_INET, http01_server_local_port(s));
        REQUIRE(fd >= 0);
        for (size_t i = 0; req[i]; i++) {
                REQUIRE(client_send(e, fd, req + i, 1));
                run_pending(e);
                if (req[i + 1])
                        CHECK(client_nothing_yet(fd));
        }
        resp = client_read_all(e, fd);
        CHECK_INT(status_of(resp), 200);
        CHECK_STR(body_of(resp), KEYAUTH);
}

/* Clients that send nothing, half a request, or never read do not hold up others. */
TEST(slow_clients) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_close_ int silent = -EBADF, slow = -EBADF, deaf = -EBADF;
        _cleanup_free_ char *resp = NULL, *slowresp = NULL;
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);

        silent = client_connect(AF_INET, port);
        slow = client_connect(AF_INET, port);
        deaf = client_connect(AF_INET, port);
        REQUIRE(silent >= 0 && slow >= 0 && deaf >= 0);
        REQUIRE(client_send(e, slow, "GET /.well-kn", 13));
        REQUIRE(client_send(e, deaf, "GET " PREFIX TOKEN " HTTP/1.1\r\n\r\n", strlen("GET " PREFIX TOKEN " HTTP/1.1\r\n\r\n")));
        run_pending(e);
        CHECK_INT(http01_server_n_connections(s), 3);

        resp = get(e, port, PREFIX TOKEN);
        CHECK_INT(status_of(resp), 200);
        CHECK_STR(body_of(resp), KEYAUTH);
        CHECK(client_nothing_yet(slow));
        CHECK(client_nothing_yet(silent));

        /* The slow one finishes in the end. */
        REQUIRE(client_send(e, slow, "own/acme-challenge/" TOKEN " HTTP/1.1\r\n\r\n",
                            strlen("own/acme-challenge/" TOKEN " HTTP/1.1\r\n\r\n")));
        slowresp = client_read_all(e, slow);
        CHECK_INT(status_of(slowresp), 200);

        /* The silent and the deaf one are still held (until their timeout). */
        run_pending(e);
        CHECK_INT(http01_server_n_connections(s), 3);
}

/* Past HTTP01_SERVER_MAX_CONNECTIONS clients wait in the backlog until a slot is free. */
TEST(connection_limit) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_free_ char *resp = NULL;
        int fds[HTTP01_SERVER_MAX_CONNECTIONS], extra = -EBADF, port;
        const char *req = "GET " PREFIX TOKEN " HTTP/1.1\r\n\r\n";

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = -EBADF;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);

        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                fds[i] = client_connect(AF_INET, port);
                CHECK(fds[i] >= 0);
                run_pending(e);
        }
        CHECK_INT(http01_server_n_connections(s), HTTP01_SERVER_MAX_CONNECTIONS);

        extra = client_connect(AF_INET, port);
        CHECK(extra >= 0);
        if (extra >= 0) {
                CHECK(client_send(e, extra, req, strlen(req)));
                run_pending(e);
                CHECK_INT(http01_server_n_connections(s), HTTP01_SERVER_MAX_CONNECTIONS);
                CHECK(client_nothing_yet(extra));

                /* One of the idle clients leaves: the waiting one gets its answer. */
                fds[0] = safe_close(fds[0]);
                resp = client_read_all(e, extra);
                CHECK_INT(status_of(resp), 200);
                CHECK_STR(body_of(resp), KEYAUTH);
                extra = safe_close(extra);
        }

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                safe_close(fds[i]);
}

TEST(timeout) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_free_ char *got_silent = NULL, *got_slow = NULL, *ok = NULL;
        _cleanup_close_ int silent = -EBADF, slow = -EBADF;
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        CHECK_INT(http01_server_set_timeout(s, 0), -EINVAL);
        REQUIRE(http01_server_set_timeout(s, 200 * USEC_PER_MSEC) == 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);

        silent = client_connect(AF_INET, port);
        slow = client_connect(AF_INET, port);
        REQUIRE(silent >= 0 && slow >= 0);
        REQUIRE(client_send(e, slow, "GET / HTTP/1.1\r\n", 16));

        /* Both are closed without an answer. */
        got_silent = client_read_all(e, silent);
        got_slow = client_read_all(e, slow);
        CHECK_STR(got_silent, "");
        CHECK_STR(got_slow, "");
        run_pending(e);
        CHECK_INT(http01_server_n_connections(s), 0);

        ok = get(e, port, PREFIX TOKEN);
        CHECK_INT(status_of(ok), 200);
}

/* The listener opens with the first token and closes after the last; a connection
 * accepted before still gets its answer. */
TEST(listener_lifecycle) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_close_ int inflight = -EBADF;
        _cleanup_free_ char *late = NULL;
        int port, fd;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        REQUIRE(http01_server_add(s, TOKEN2, KEYAUTH2) == 0);
        port = http01_server_local_port(s);
        REQUIRE(port > 0);

        CHECK_INT(http01_server_remove(s, TOKEN), 0);
        CHECK(http01_server_is_listening(s));
        CHECK_INT(http01_server_local_port(s), port);

        inflight = client_connect(AF_INET, port);
        REQUIRE(inflight >= 0);
        REQUIRE(client_send(e, inflight, "GET " PREFIX, strlen("GET " PREFIX)));
        run_pending(e);
        CHECK_INT(http01_server_n_connections(s), 1);

        CHECK_INT(http01_server_remove(s, TOKEN2), 0);
        CHECK(!http01_server_is_listening(s));
        CHECK_INT(http01_server_n_tokens(s), 0);
        fd = client_connect(AF_INET, port);
        CHECK_INT(fd, -ECONNREFUSED);
        safe_close(fd);

        REQUIRE(client_send(e, inflight, TOKEN2 " HTTP/1.1\r\n\r\n", strlen(TOKEN2 " HTTP/1.1\r\n\r\n")));
        late = client_read_all(e, inflight);
        CHECK_INT(status_of(late), 404);

        /* And again. */
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        CHECK(http01_server_is_listening(s));
        CHECK_INT(get_status(e, http01_server_local_port(s), PREFIX TOKEN), 200);
}

TEST(keep_open) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        int port, fd;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_set_keep_open(s, true) == 0);
        CHECK(http01_server_is_listening(s));
        port = http01_server_local_port(s);
        REQUIRE(port > 0);
        CHECK_INT(get_status(e, port, PREFIX TOKEN), 404);

        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        CHECK_INT(http01_server_local_port(s), port);
        CHECK_INT(get_status(e, port, PREFIX TOKEN), 200);
        REQUIRE(http01_server_remove(s, TOKEN) == 0);
        CHECK(http01_server_is_listening(s));
        CHECK_INT(get_status(e, port, PREFIX TOKEN), 404);

        CHECK_INT(http01_server_set_keep_open(s, false), 0);
        CHECK(!http01_server_is_listening(s));
        fd = client_connect(AF_INET, port);
        CHECK_INT(fd, -ECONNREFUSED);
        safe_close(fd);

        /* Turning it off with tokens keeps listening until the last goes. */
        REQUIRE(http01_server_set_keep_open(s, true) == 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        CHECK_INT(http01_server_set_keep_open(s, false), 0);
        CHECK(http01_server_is_listening(s));
        REQUIRE(http01_server_remove(s, TOKEN) == 0);
        CHECK(!http01_server_is_listening(s));
}

/* A listening socket of our own, handed over as socket activation would. */
TEST(fd_mode) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_close_ int not_listening = -EBADF, udp = -EBADF;
        struct sockaddr_in a = addr4(0);
        socklen_t l = sizeof a;
        int fd, pipefd[2], port;

        REQUIRE(sd_event_new(&e) >= 0);

        /* Not a listening stream socket: refused, left open. */
        not_listening = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(not_listening >= 0 && udp >= 0);
        CHECK_INT(http01_server_new_fd(e, not_listening, &s), -EINVAL);
        CHECK_INT(http01_server_new_fd(e, udp, &s), -EINVAL);
        REQUIRE(pipe2(pipefd, O_CLOEXEC) >= 0);
        CHECK_INT(http01_server_new_fd(e, pipefd[0], &s), -ENOTSOCK);
        CHECK(fcntl(pipefd[0], F_GETFD) >= 0);
        safe_close(pipefd[0]);
        safe_close(pipefd[1]);
        CHECK_INT(http01_server_new_fd(e, -1, &s), -EINVAL);
        CHECK(!s);

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* blocking, as inherited ones may be */
        REQUIRE(fd >= 0);
        REQUIRE(bind(fd, (struct sockaddr *) &a, sizeof a) >= 0);
        REQUIRE(listen(fd, 16) >= 0);
        REQUIRE(getsockname(fd, (struct sockaddr *) &a, &l) >= 0);
        port = ntohs(a.sin_port);

        REQUIRE(http01_server_new_fd(e, fd, &s) == 0);
        CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
        CHECK(http01_server_is_listening(s));
        CHECK_INT(http01_server_local_port(s), port);
        CHECK_INT(get_status(e, port, PREFIX TOKEN), 404);

        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        CHECK_INT(get_status(e, port, PREFIX TOKEN), 200);
        REQUIRE(http01_server_remove(s, TOKEN) == 0);
        CHECK(http01_server_is_listening(s));
        CHECK_INT(get_status(e, port, PREFIX TOKEN), 404);
        CHECK_INT(http01_server_set_keep_open(s, false), 0);
        CHECK(http01_server_is_listening(s));

        /* The server owned the fd. */
        s = http01_server_free(s);
        CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
}

static bool have_ipv6_loopback(void) {
        struct sockaddr_in6 a = addr6(&in6addr_loopback, 0);
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok;

        if (fd < 0)
                return false;
        ok = bind(fd, (struct sockaddr *) &a, sizeof a) >= 0;
        close(fd);
        return ok;
}

TEST(ipv6) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL, *any = NULL;
        _cleanup_free_ char *r6 = NULL, *any6 = NULL, *any4 = NULL;
        struct sockaddr_in6 lo = addr6(&in6addr_loopback, 0), wild = addr6(&in6addr_any, 0);
        const char *req = "GET " PREFIX TOKEN " HTTP/1.1\r\nHost: [::1]\r\n\r\n";
        int port;

        if (!have_ipv6_loopback()) {
                fprintf(stderr, "no IPv6 loopback, skipping\n");
                return;
        }
        REQUIRE(sd_event_new(&e) >= 0);

        REQUIRE(http01_server_new(e, (struct sockaddr *) &lo, sizeof lo, &s) == 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);
        REQUIRE(port > 0);
        r6 = exchange_len(e, AF_INET6, port, req, strlen(req));
        CHECK_INT(status_of(r6), 200);
        CHECK_STR(body_of(r6), KEYAUTH);

        /* [::] takes IPv4 too. */
        REQUIRE(http01_server_new(e, (struct sockaddr *) &wild, sizeof wild, &any) == 0);
        REQUIRE(http01_server_add(any, TOKEN2, KEYAUTH2) == 0);
        port = http01_server_local_port(any);
        REQUIRE(port > 0);
        any6 = exchange_len(e, AF_INET6, port, "GET " PREFIX TOKEN2 " HTTP/1.0\r\n\r\n",
                            strlen("GET " PREFIX TOKEN2 " HTTP/1.0\r\n\r\n"));
        CHECK_INT(status_of(any6), 200);
        any4 = exchange(e, port, "GET " PREFIX TOKEN2 " HTTP/1.0\r\n\r\n");
        CHECK_INT(status_of(any4), 200);
        CHECK_STR(body_of(any4), KEYAUTH2);
}

TEST(add_remove_errors) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        char long_ka[HTTP01_KEY_AUTHORIZATION_MAX + 2];

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);

        CHECK_INT(http01_server_add(s, NULL, KEYAUTH), -EINVAL);
        CHECK_INT(http01_server_add(s, "", KEYAUTH), -EINVAL);
        CHECK_INT(http01_server_add(s, "a/b", KEYAUTH), -EINVAL);
        CHECK_INT(http01_server_add(s, "..", KEYAUTH), -EINVAL);
        CHECK_INT(http01_server_add(s, "a%2e", KEYAUTH), -EINVAL);
        CHECK_INT(http01_server_add(s, "abc=", KEYAUTH), -EINVAL);
        CHECK_INT(http01_server_add(s, TOKEN, NULL), -EINVAL);
        CHECK_INT(http01_server_add(s, TOKEN, ""), -EINVAL);
        CHECK_INT(http01_server_add(s, TOKEN, "a b"), -EINVAL);
        CHECK_INT(http01_server_add(s, TOKEN, "ab\r\nX-Injected: 1"), -EINVAL);
        memset(long_ka, 'k', sizeof long_ka - 1);
        long_ka[sizeof long_ka - 1] = 0;
        CHECK_INT(http01_server_add(s, TOKEN, long_ka), -EINVAL);
        CHECK_INT(http01_server_add(NULL, TOKEN, KEYAUTH), -EINVAL);
        CHECK_INT(http01_server_n_tokens(s), 0);
        CHECK(!http01_server_is_listening(s));

        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        CHECK_INT(http01_server_add(s, TOKEN, KEYAUTH), 0);
        CHECK_INT(http01_server_add(s, TOKEN, KEYAUTH2), -EEXIST);
        CHECK_INT(http01_server_n_tokens(s), 1);
        CHECK_INT(get_status(e, http01_server_local_port(s), PREFIX TOKEN), 200);

        CHECK_INT(http01_server_remove(s, TOKEN2), -ENOENT);
        CHECK_INT(http01_server_remove(s, "a/b"), -EINVAL);
        CHECK_INT(http01_server_remove(s, TOKEN), 0);
        CHECK_INT(http01_server_remove(s, TOKEN), -ENOENT);
        CHECK_INT(http01_server_n_tokens(s), 0);
}

TEST(bind_errors) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        _cleanup_close_ int taken = -EBADF;
        struct sockaddr_in a = addr4(0);
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        socklen_t l = sizeof a;

        REQUIRE(sd_event_new(&e) >= 0);

        CHECK_INT(http01_server_new(e, (struct sockaddr *) &un, sizeof un, &s), -EAFNOSUPPORT);
        CHECK_INT(http01_server_new(e, (struct sockaddr *) &a, sizeof a - 1, &s), -EINVAL);
        CHECK_INT(http01_server_new(NULL, (struct sockaddr *) &a, sizeof a, &s), -EINVAL);
        CHECK(!s);

        /* A port somebody else listens on. */
        taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(taken >= 0);
        REQUIRE(bind(taken, (struct sockaddr *) &a, sizeof a) >= 0);
        REQUIRE(listen(taken, 1) >= 0);
        REQUIRE(getsockname(taken, (struct sockaddr *) &a, &l) >= 0);

        REQUIRE(http01_server_new(e, (struct sockaddr *) &a, sizeof a, &s) == 0);
        CHECK_INT(http01_server_add(s, TOKEN, KEYAUTH), -EADDRINUSE);
        CHECK_INT(http01_server_n_tokens(s), 0);
        CHECK(!http01_server_is_listening(s));
        CHECK_INT(http01_server_set_keep_open(s, true), -EADDRINUSE);
        CHECK(!http01_server_is_listening(s));

        /* Free again: it works. */
        taken = safe_close(taken);
        CHECK_INT(http01_server_add(s, TOKEN, KEYAUTH), 0);
        CHECK_INT(http01_server_local_port(s), ntohs(a.sin_port));
        CHECK_INT(get_status(e, ntohs(a.sin_port), PREFIX TOKEN), 200);
}

TEST(many_tokens) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        char tok[40][16], ka[40][32];
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        for (int i = 0; i < 40; i++) {
                snprintf(tok[i], sizeof tok[i], "tok-%d_x", i);
                snprintf(ka[i], sizeof ka[i], "%.15s.thumb%d", tok[i], i);
                REQUIRE(http01_server_add(s, tok[i], ka[i]) == 0);
        }
        CHECK_INT(http01_server_n_tokens(s), 40);
        port = http01_server_local_port(s);

        for (int i = 0; i < 40; i += 2)
                CHECK_INT(http01_server_remove(s, tok[i]), 0);
        CHECK_INT(http01_server_n_tokens(s), 20);
        for (int i = 0; i < 40; i++) {
                _cleanup_free_ char *path = NULL, *resp = NULL;

                REQUIRE(asprintf(&path, PREFIX "%s", tok[i]) > 0);
                resp = get(e, port, path);
                if (i % 2 == 0)
                        CHECK_INT(status_of(resp), 404);
                else {
                        CHECK_INT(status_of(resp), 200);
                        CHECK_STR(body_of(resp), ka[i]);
                }
        }
}

/* Freeing the server with connections in every state leaks nothing (ASan, valgrind). */
TEST(free_with_connections) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Http01Server *s = NULL;
        _cleanup_close_ int a = -EBADF, b = -EBADF, c = -EBADF;
        const char *post = "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc";
        int port;

        REQUIRE(sd_event_new(&e) >= 0);
        REQUIRE(new_server4(e, &s) >= 0);
        REQUIRE(http01_server_add(s, TOKEN, KEYAUTH) == 0);
        port = http01_server_local_port(s);
        a = client_connect(AF_INET, port);
        b = client_connect(AF_INET, port);
        c = client_connect(AF_INET, port);
        REQUIRE(a >= 0 && b >= 0 && c >= 0);
        REQUIRE(client_send(e, b, "GET / HTTP/1.1\r\n", 16));
        REQUIRE(client_send(e, c, post, strlen(post)));
        run_pending(e);
        CHECK_INT(http01_server_n_connections(s), 3);
        s = http01_server_free(s);
        CHECK(!s);
        CHECK(!http01_server_free(NULL));
}

TEST_MAIN(T(serve_token), T(head), T(not_found), T(methods), T(bad_requests), T(hostile_paths),
          T(proxy_forms), T(byte_by_byte), T(slow_clients), T(connection_limit), T(timeout),
          T(listener_lifecycle), T(keep_open), T(fd_mode), T(ipv6), T(add_remove_errors), T(bind_errors),
          T(many_tokens), T(free_with_connections));
