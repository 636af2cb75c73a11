/* SPDX-License-Identifier: MIT */
/* The built-in http-01 responder. Each accepted connection gets its own io source and a
 * timer for its whole life and goes READING → WRITING → DRAINING → closed:
 *
 *   READING   bytes go into an 8 KiB buffer; the head is parsed (http-request.c) when a
 *             new line arrived or the buffer is full; the answer is built right then,
 *             from the tokens registered at that moment, into the connection's own
 *             buffer (so removing a token meanwhile cannot pull memory from under it);
 *   WRITING   sent without blocking, waiting for EPOLLOUT while the client does not read;
 *   DRAINING  our side is shut down and whatever the client still sends (a body we did
 *             not want) is read and dropped until it closes: closing with unread data
 *             would make the kernel send a RST that can destroy the answer in flight.
 *
 * The timer closes the connection whatever its state, so a client that sends nothing,
 * sends slowly or never reads holds one of the HTTP01_SERVER_MAX_CONNECTIONS slots for at
 * most the timeout. With every slot taken the listener is disabled (the kernel's backlog
 * holds further clients) until a connection ends. */

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "challenge-http01.h"
#include "http-request.h"
#include "http01-server.h"

#define DRAIN_MAX (64 * 1024)
#define ACCEPT_RETRY_USEC (1 * USEC_PER_SEC)

typedef struct Http01Token {
        char *token;
        char *key_authorization;
} Http01Token;

typedef enum ConnectionState {
        CONNECTION_READING,
        CONNECTION_WRITING,
        CONNECTION_DRAINING,
} ConnectionState;

typedef struct Http01Connection Http01Connection;
struct Http01Connection {
        Http01Server *server;
        Http01Connection *prev, *next;
        int fd;
        sd_event_source *io, *timer;
        ConnectionState state;
        char buf[HTTP_REQUEST_HEAD_MAX];
        size_t len;
        char *response;
        size_t response_len, sent, drained;
};

struct Http01Server {
        sd_event *event;
        struct sockaddr_storage address;
        socklen_t address_len;
        bool activated;            /* the listener came from socket activation */
        bool keep_open;
        uint64_t timeout_usec;

        int listen_fd;
        sd_event_source *listen_source;
        sd_event_source *retry_timer;
        bool accept_paused;        /* accept() ran out of fds or memory */

        Http01Token *tokens;
        size_t n_tokens;

        Http01Connection *connections;
        size_t n_connections;
};

/* Accept while there is room and nothing made accept() fail for lack of resources. */
static void server_update_accepting(Http01Server *s) {
        bool on = !s->accept_paused && s->n_connections < HTTP01_SERVER_MAX_CONNECTIONS;

        if (s->listen_source)
                (void) sd_event_source_set_enabled(s->listen_source, on ? SD_EVENT_ON : SD_EVENT_OFF);
}

static Http01Connection *connection_free(Http01Connection *c) {
        Http01Server *s;

        if (!c)
                return NULL;
        s = c->server;
        if (c->prev)
                c->prev->next = c->next;
        else
                s->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_connections--;

        (void) sd_event_source_disable_unref(c->io);
        (void) sd_event_source_disable_unref(c->timer);
        safe_close(c->fd);
        free(c->response);
        free(c);

        /* A slot and an fd are free again. */
        s->accept_paused = false;
        server_update_accepting(s);
        return NULL;
}

static const Http01Token *server_find_token(const Http01Server *s, const char *token) {
        for (size_t i = 0; i < s->n_tokens; i++)
                if (streq(s->tokens[i].token, token))
                        return &s->tokens[i];
        return NULL;
}

/* The key authorization for an origin-form path, or NULL if the path is not exactly the
 * challenge prefix followed by a registered, valid token. Nothing is decoded or
 * normalised: "%2e", "..", "/" or anything else outside base64url never matches. */
static const char *server_lookup_path(const Http01Server *s, const char *path, size_t len) {
        const size_t plen = strlen(HTTP01_CHALLENGE_PREFIX);
        char token[HTTP01_TOKEN_MAX + 1];
        const Http01Token *t;

        if (len <= plen || len - plen > HTTP01_TOKEN_MAX || memcmp(path, HTTP01_CHALLENGE_PREFIX, plen) != 0)
                return NULL;
        memcpy(token, path + plen, len - plen);
        token[len - plen] = 0;
        if (!http01_token_is_valid(token))
                return NULL;
        t = server_find_token(s, token);
        return t ? t->key_authorization : NULL;
}

/* Build the answer to a parse result r (and, for r == 0, the head h). */
static int connection_build_response(Http01Connection *c, int r, const HttpRequestHead *h) {
        const char *body = NULL, *reason, *type = "text/plain; charset=utf-8", *extra = "";
        bool head = r == 0 && h->method == HTTP_METHOD_HEAD;
        int status, k;

        if (r == -E2BIG)
                status = 431;
        else if (r == -EPROTONOSUPPORT)
                status = 505;
        else if (r < 0)
                status = 400;
        else if (h->method == HTTP_METHOD_OTHER)
                status = 405;
        else if (h->path[0] == '/' && (body = server_lookup_path(c->server, h->path, h->path_len)))
                status = 200;
        else
                status = 404;

        switch (status) {
        case 200:
                reason = "OK";
                type = "application/octet-stream";
                break;
        case 404:
                reason = body = "Not Found";
                break;
        case 405:
                reason = body = "Method Not Allowed";
                extra = "Allow: GET, HEAD\r\n";
                break;
        case 431:
                reason = body = "Request Header Fields Too Large";
                break;
        case 505:
                reason = body = "HTTP Version Not Supported";
                break;
        default:
                reason = body = "Bad Request";
        }

        /* no-store: a proxy in front must not keep a 404 from before the token existed. */
        k = asprintf(&c->response,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n"
                     "%s"
                     "Connection: close\r\n"
                     "\r\n"
                     "%s",
                     status, reason, type, strlen(body), extra, head ? "" : body);
        if (k < 0) {
                c->response = NULL;
                return -ENOMEM;
        }
        c->response_len = (size_t) k;
        return 0;
}

/* Read and drop what the client still sends after the answer. Returns 0 to wait for
 * more, 1 once the client closed (or sent too much), negative on error. */
static int connection_drain(Http01Connection *c) {
        for (;;) {
                ssize_t n = recv(c->fd, c->buf, sizeof c->buf, 0);

                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
                if (n == 0)
                        return 1;
                c->drained += (size_t) n;
                if (c->drained > DRAIN_MAX)
                        return 1;
        }
}

/* Send what is left of the answer. Returns 0 to wait for EPOLLOUT or the drain, 1 when
 * the connection is done, negative on error. */
static int connection_write(Http01Connection *c) {
        int r;

        while (c->sent < c->response_len) {
                ssize_t n = send(c->fd, c->response + c->sent, c->response_len - c->sent, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return negative_errno();
                        return sd_event_source_set_io_events(c->io, EPOLLOUT);
                }
                c->sent += (size_t) n;
        }

        c->response = mfree(c->response);
        if (shutdown(c->fd, SHUT_WR) < 0)
                return 1;
        c->state = CONNECTION_DRAINING;
        r = sd_event_source_set_io_events(c->io, EPOLLIN);
        if (r < 0)
                return r;
        return connection_drain(c);
}

static int connection_respond(Http01Connection *c, int parse_result, const HttpRequestHead *h) {
        int r;

        r = connection_build_response(c, parse_result, h);
        if (r < 0)
                return r;
        c->state = CONNECTION_WRITING;
        return connection_write(c);
}

/* Take what arrived. Returns 0 to wait for more, 1 when done, negative on error. */
static int connection_read(Http01Connection *c) {
        HttpRequestHead h;
        bool newline;
        ssize_t n;
        int r;

        n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
        if (n == 0)
                /* The client stopped sending before the head was complete: tell it, if
                 * it sent anything at all. */
                return c->len == 0 ? 1 : connection_respond(c, -EBADMSG, NULL);

        newline = memchr(c->buf + c->len, '\n', (size_t) n);
        c->len += (size_t) n;
        /* Without a new line, nothing the parser decides can have changed. */
        if (!newline && c->len < sizeof c->buf)
                return 0;

        r = http_request_head_parse(c->buf, c->len, &h);
        if (r == -EAGAIN)
                return 0;
        return connection_respond(c, r, r == 0 ? &h : NULL);
}

static int on_connection_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Http01Connection *c = userdata;
        int r;

        switch (c->state) {
        case CONNECTION_READING:
                r = connection_read(c);
                break;
        case CONNECTION_WRITING:
                r = connection_write(c);
                break;
        default:
                r = connection_drain(c);
        }
        if (r != 0)
                connection_free(c);
        return 0;
}

static int on_connection_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        connection_free(userdata);
        return 0;
}

/* Start serving an accepted socket; takes fd in every case. */
static int server_add_connection(Http01Server *s, int fd) {
        Http01Connection *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->server = s;
        c->fd = fd;
        c->next = s->connections;
        if (c->next)
                c->next->prev = c;
        s->connections = c;
        s->n_connections++;

        r = sd_event_add_io(s->event, &c->io, fd, EPOLLIN, on_connection_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC, s->timeout_usec, 0,
                                               on_connection_timeout, c);
        if (r < 0) {
                connection_free(c);
                return r;
        }
        (void) sd_event_source_set_description(c->io, "http01-connection");
        (void) sd_event_source_set_description(c->timer, "http01-connection-timeout");
        return 0;
}

static int on_retry_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Http01Server *s = userdata;

        s->retry_timer = sd_event_source_disable_unref(s->retry_timer);
        s->accept_paused = false;
        server_update_accepting(s);
        return 0;
}

/* accept() failed for lack of fds or memory: stop until a connection ends or a second
 * passed, rather than spin on a listener that stays readable. */
static void server_pause_accepting(Http01Server *s) {
        s->accept_paused = true;
        if (!s->retry_timer &&
            sd_event_add_time_relative(s->event, &s->retry_timer, CLOCK_MONOTONIC, ACCEPT_RETRY_USEC, 0,
                                       on_retry_timer, s) >= 0)
                (void) sd_event_source_set_description(s->retry_timer, "http01-accept-retry");
}

/* accept(2): errors of the new connection (already pending network errors, a firewall
 * verdict), not of the listener; the next one may well succeed. */
static bool accept_error_is_transient(int e) {
        switch (e) {
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
        case ENOPROTOOPT:
        case EHOSTDOWN:
        case ENONET:
        case EHOSTUNREACH:
        case EOPNOTSUPP:
        case ENETUNREACH:
        case ENETDOWN:
        case EPERM:
                return true;
        default:
                return false;
        }
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Http01Server *s = userdata;

        while (s->n_connections < HTTP01_SERVER_MAX_CONNECTIONS && !s->accept_paused) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (cfd < 0) {
                        if (errno == EAGAIN)
                                break;
                        if (accept_error_is_transient(errno))
                                continue;
                        server_pause_accepting(s);
                        break;
                }
                if (server_add_connection(s, cfd) == -ENOMEM)
                        server_pause_accepting(s);
        }
        server_update_accepting(s);
        return 0;
}

/* Watch a listening fd; the fd stays the caller's on failure. */
static int server_attach_listener(Http01Server *s, int fd) {
        int r;

        r = sd_event_add_io(s->event, &s->listen_source, fd, EPOLLIN, on_accept, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->listen_source, "http01-listen");
        s->listen_fd = fd;
        s->accept_paused = false;
        server_update_accepting(s);
        return 0;
}

static void server_close_listener(Http01Server *s) {
        s->listen_source = sd_event_source_disable_unref(s->listen_source);
        s->retry_timer = sd_event_source_disable_unref(s->retry_timer);
        s->listen_fd = safe_close(s->listen_fd);
        s->accept_paused = false;
}

/* Open the listener if it is not open. Returns 0 or the socket/bind/listen error. */
static int server_listen(Http01Server *s) {
        _cleanup_close_ int fd = -EBADF;
        int one = 1, zero = 0, r;

        if (s->listen_fd >= 0)
                return 0;
        if (s->activated)
                return -EBADF; /* cannot happen: an activated listener is never closed */

        fd = socket(s->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
                return negative_errno();
        if (s->address.ss_family == AF_INET6 &&
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
                return negative_errno();
        if (bind(fd, (const struct sockaddr *) &s->address, s->address_len) < 0)
                return negative_errno();
        if (listen(fd, SOMAXCONN) < 0)
                return negative_errno();

        r = server_attach_listener(s, fd);
        if (r < 0)
                return r;
        TAKE_FD(fd);
        return 0;
}

/* Close the listener if nothing needs it any more. */
static void server_maybe_close(Http01Server *s) {
        if (!s->activated && !s->keep_open && s->n_tokens == 0)
                server_close_listener(s);
}

static int server_alloc(sd_event *e, Http01Server **ret) {
        Http01Server *s;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->listen_fd = -EBADF;
        s->timeout_usec = HTTP01_SERVER_TIMEOUT_USEC;
        *ret = s;
        return 0;
}

int http01_server_new(sd_event *e, const struct sockaddr *addr, socklen_t len, Http01Server **ret) {
        Http01Server *s = NULL;
        int r;

        if (!e || !addr || !ret)
                return -EINVAL;
        if (len < sizeof(sa_family_t))
                return -EINVAL;
        if (addr->sa_family == AF_INET) {
                if (len < sizeof(struct sockaddr_in))
                        return -EINVAL;
                len = sizeof(struct sockaddr_in);
        } else if (addr->sa_family == AF_INET6) {
                if (len < sizeof(struct sockaddr_in6))
                        return -EINVAL;
                len = sizeof(struct sockaddr_in6);
        } else
                return -EAFNOSUPPORT;

        r = server_alloc(e, &s);
        if (r < 0)
                return r;
        memcpy(&s->address, addr, len);
        s->address_len = len;
        *ret = s;
        return 0;
}

int http01_server_new_fd(sd_event *e, int listen_fd, Http01Server **ret) {
        _cleanup_(http01_server_freep) Http01Server *s = NULL;
        int type = 0, listening = 0, flags, r;
        socklen_t l = sizeof type;

        if (!e || listen_fd < 0 || !ret)
                return -EINVAL;
        if (getsockopt(listen_fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0)
                return negative_errno();
        l = sizeof listening;
        if (getsockopt(listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) < 0)
                return negative_errno();
        if (type != SOCK_STREAM || !listening)
                return -EINVAL;

        /* accept() must not block when another process took the connection first. */
        flags = fcntl(listen_fd, F_GETFL);
        if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return negative_errno();

        r = server_alloc(e, &s);
        if (r < 0)
                return r;
        s->activated = true;
        r = server_attach_listener(s, listen_fd);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

Http01Server *http01_server_free(Http01Server *s) {
        if (!s)
                return NULL;

        server_close_listener(s);
        while (s->connections)
                connection_free(s->connections);
        for (size_t i = 0; i < s->n_tokens; i++) {
                free(s->tokens[i].token);
                free(s->tokens[i].key_authorization);
        }
        free(s->tokens);
        sd_event_unref(s->event);
        return mfree(s);
}

int http01_server_set_keep_open(Http01Server *s, bool b) {
        int r;

        if (!s)
                return -EINVAL;
        if (b) {
                r = server_listen(s);
                if (r < 0)
                        return r;
        }
        s->keep_open = b;
        server_maybe_close(s);
        return 0;
}

int http01_server_set_timeout(Http01Server *s, uint64_t usec) {
        if (!s || usec == 0)
                return -EINVAL;
        s->timeout_usec = usec;
        return 0;
}

/* What an ACME key authorization can be ("token.thumbprint"): visible ASCII, bounded. */
static bool key_authorization_is_valid(const char *k) {
        size_t n;

        if (!k)
                return false;
        n = strlen(k);
        if (n == 0 || n > HTTP01_KEY_AUTHORIZATION_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (k[i] < 0x21 || k[i] > 0x7e)
                        return false;
        return true;
}

int http01_server_add(Http01Server *s, const char *token, const char *key_authorization) {
        _cleanup_free_ char *t = NULL, *k = NULL;
        const Http01Token *old;
        Http01Token *a;
        int r;

        if (!s || !http01_token_is_valid(token) || !key_authorization_is_valid(key_authorization))
                return -EINVAL;

        old = server_find_token(s, token);
        if (old)
                return streq(old->key_authorization, key_authorization) ? 0 : -EEXIST;

        t = strdup(token);
        k = strdup(key_authorization);
        if (!t || !k)
                return -ENOMEM;
        a = realloc(s->tokens, (s->n_tokens + 1) * sizeof *a);
        if (!a)
                return -ENOMEM;
        s->tokens = a;

        /* Last, so that nothing can fail once the listener was opened for this token. */
        r = server_listen(s);
        if (r < 0)
                return r;
        s->tokens[s->n_tokens++] = (Http01Token) { .token = TAKE_PTR(t), .key_authorization = TAKE_PTR(k) };
        return 0;
}

int http01_server_remove(Http01Server *s, const char *token) {
        const Http01Token *t;
        size_t i;

        if (!s || !http01_token_is_valid(token))
                return -EINVAL;
        t = server_find_token(s, token);
        if (!t)
                return -ENOENT;
        i = (size_t) (t - s->tokens);
        free(s->tokens[i].token);
        free(s->tokens[i].key_authorization);
        s->tokens[i] = s->tokens[--s->n_tokens];
        server_maybe_close(s);
        return 0;
}

bool http01_server_is_listening(const Http01Server *s) {
        return s && s->listen_fd >= 0;
}

int http01_server_local_port(const Http01Server *s) {
        struct sockaddr_storage sa = {};
        socklen_t l = sizeof sa;

        if (!s || s->listen_fd < 0)
                return -EBADF;
        if (getsockname(s->listen_fd, (struct sockaddr *) &sa, &l) < 0)
                return negative_errno();
        if (sa.ss_family == AF_INET)
                return ntohs(((const struct sockaddr_in *) &sa)->sin_port);
        if (sa.ss_family == AF_INET6)
                return ntohs(((const struct sockaddr_in6 *) &sa)->sin6_port);
        return -EAFNOSUPPORT;
}

size_t http01_server_n_tokens(const Http01Server *s) {
        return s ? s->n_tokens : 0;
}

size_t http01_server_n_connections(const Http01Server *s) {
        return s ? s->n_connections : 0;
}
