/* SPDX-License-Identifier: MIT */
/* The tls-alpn-01 responder: a non-blocking TLS listener on sd-event.
 *
 * One SSL_CTX per server holds the handshake rules: TLS 1.2 or later, a ClientHello must
 * offer ALPN (checked in the client-hello callback, since OpenSSL skips the ALPN callback
 * when the extension is absent), the ALPN callback accepts only "acme-tls/1", and the
 * servername callback puts the certificate registered for the SNI name on the connection
 * or refuses with unrecognized_name. Each accepted connection has an io source that
 * re-runs its state machine (handshake → close_notify → drain until the peer closes) on
 * whatever SSL_ERROR_WANT_READ/WANT_WRITE asked for, and a deadline timer. Sockets go
 * through a small BIO of our own that uses send(MSG_NOSIGNAL), so a peer that resets
 * cannot kill the process with SIGPIPE. */

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <strings.h>
#include <sys/epoll.h>

#include "key.h"
#include "ssl-util.h"
#include "tlsalpn-cert.h"
#include "tlsalpn-server.h"

#define TLSALPN_LISTEN_BACKLOG 128
/* After EMFILE and friends, wait this long before accepting again rather than spin. */
#define TLSALPN_ACCEPT_RETRY_USEC (1 * USEC_PER_SEC)
/* What one drain step reads of a peer's leftovers after our close_notify. */
#define TLSALPN_DRAIN_CHUNK 4096

typedef struct TlsAlpnEntry {
        char *sni;               /* lower-case SNI name: the lookup key */
        char *key_authorization;
        X509 *cert;
} TlsAlpnEntry;

typedef enum TlsAlpnConnState {
        TLSALPN_CONN_HANDSHAKE,
        TLSALPN_CONN_SHUTDOWN,   /* sending close_notify */
        TLSALPN_CONN_DRAIN,      /* write side closed; waiting for the peer's EOF */
} TlsAlpnConnState;

typedef struct TlsAlpnConn TlsAlpnConn;
struct TlsAlpnConn {
        TlsAlpnServer *server;
        TlsAlpnConn *prev, *next;
        int fd;
        SSL *ssl;
        sd_event_source *io;
        sd_event_source *deadline;
        TlsAlpnConnState state;
};

struct TlsAlpnServer {
        sd_event *event;
        struct sockaddr_storage addr;
        socklen_t addr_len;

        SSL_CTX *ctx;
        BIO_METHOD *bio_method;
        EVP_PKEY *key;

        TlsAlpnEntry *entries;
        size_t n_entries;

        int listen_fd;
        int port;
        sd_event_source *listen_source;
        sd_event_source *accept_retry;
        bool accept_paused;

        TlsAlpnConn *conns;
        unsigned n_conns, max_conns;
        uint64_t timeout_usec;
};

/* ---- socket BIO ---------------------------------------------------------------------- */

static int sockbio_fd(BIO *b) {
        return (int) (intptr_t) BIO_get_data(b);
}

/* Write what the socket takes now; EAGAIN becomes a retry, as BIO_s_socket does. */
static int sockbio_write(BIO *b, const char *data, size_t len, size_t *ret_written) {
        ssize_t n;

        BIO_clear_retry_flags(b);
        n = send(sockbio_fd(b), data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                        BIO_set_retry_write(b);
                return 0;
        }
        *ret_written = (size_t) n;
        return 1;
}

/* Read what is there; EAGAIN is a retry, EOF (0 bytes) is a plain failure. */
static int sockbio_read(BIO *b, char *buf, size_t len, size_t *ret_read) {
        ssize_t n;

        BIO_clear_retry_flags(b);
        n = recv(sockbio_fd(b), buf, len, MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                        BIO_set_retry_read(b);
                return 0;
        }
        if (n == 0)
                return 0;
        *ret_read = (size_t) n;
        return 1;
}

static long sockbio_ctrl(BIO *b, int cmd, long num, void *ptr) {
        return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* nothing is buffered here */
}

static int sockbio_create(BIO *b) {
        BIO_set_init(b, 1);
        return 1;
}

static int sockbio_method_new(BIO_METHOD **ret) {
        int index = BIO_get_new_index();
        BIO_METHOD *m;

        if (index < 0)
                return ssl_error(-EIO);
        m = BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "tlsalpn-socket");
        if (!m)
                return ssl_error(-ENOMEM);
        if (!BIO_meth_set_write_ex(m, sockbio_write) || !BIO_meth_set_read_ex(m, sockbio_read) ||
            !BIO_meth_set_ctrl(m, sockbio_ctrl) || !BIO_meth_set_create(m, sockbio_create)) {
                BIO_meth_free(m);
                return ssl_error(-EIO);
        }
        *ret = m;
        return 0;
}

/* ---- registered identifiers ------------------------------------------------------------ */

static void tlsalpn_entry_done(TlsAlpnEntry *e) {
        free(e->sni);
        free(e->key_authorization);
        X509_free(e->cert);
}

static TlsAlpnEntry *tlsalpn_server_find(TlsAlpnServer *s, const char *sni) {
        for (size_t i = 0; i < s->n_entries; i++)
                if (strcasecmp(s->entries[i].sni, sni) == 0)
                        return &s->entries[i];
        return NULL;
}

/* ---- handshake callbacks --------------------------------------------------------------- */

/* Refuse a ClientHello without the ALPN extension: without one OpenSSL would never call
 * the ALPN callback and would complete the handshake. */
static int tlsalpn_client_hello_cb(SSL *ssl, int *al, void *arg) {
        const unsigned char *ext;
        size_t len;

        if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext, &len)) {
                *al = SSL_AD_NO_APPLICATION_PROTOCOL;
                return SSL_CLIENT_HELLO_ERROR;
        }
        return SSL_CLIENT_HELLO_SUCCESS;
}

/* Pick the certificate for the server name; no or an unknown name is a fatal
 * unrecognized_name alert. */
static int tlsalpn_servername_cb(SSL *ssl, int *al, void *arg) {
        TlsAlpnServer *s = arg;
        const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        TlsAlpnEntry *e;

        e = name ? tlsalpn_server_find(s, name) : NULL;
        if (!e) {
                *al = SSL_AD_UNRECOGNIZED_NAME;
                return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
        if (SSL_use_certificate(ssl, e->cert) != 1 || SSL_use_PrivateKey(ssl, s->key) != 1) {
                ERR_clear_error();
                *al = SSL_AD_INTERNAL_ERROR;
                return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
        return SSL_TLSEXT_ERR_OK;
}

/* Select "acme-tls/1" or fail the handshake with no_application_protocol. */
static int tlsalpn_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                           const unsigned char *in, unsigned int inlen, void *arg) {
        static const unsigned char ours[] = TLSALPN_PROTOCOL_WIRE;
        unsigned char *selected = NULL;

        if (SSL_select_next_proto(&selected, outlen, ours, sizeof ours - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
                return SSL_TLSEXT_ERR_ALERT_FATAL;
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
}

static int tlsalpn_ctx_new(TlsAlpnServer *s, SSL_CTX **ret) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

        if (!ctx)
                return ssl_error(-ENOMEM);
        /* Each validation is a single handshake: no tickets, no session cache. */
        if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) || !SSL_CTX_set_num_tickets(ctx, 0)) {
                SSL_CTX_free(ctx);
                return ssl_error(-EIO);
        }
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
        (void) SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_client_hello_cb(ctx, tlsalpn_client_hello_cb, s);
        SSL_CTX_set_tlsext_servername_callback(ctx, tlsalpn_servername_cb);
        SSL_CTX_set_tlsext_servername_arg(ctx, s);
        SSL_CTX_set_alpn_select_cb(ctx, tlsalpn_alpn_cb, s);
        *ret = ctx;
        return 0;
}

/* ---- connections ----------------------------------------------------------------------- */

static void tlsalpn_server_update_accept(TlsAlpnServer *s);

static TlsAlpnConn *tlsalpn_conn_free(TlsAlpnConn *c) {
        if (!c)
                return NULL;
        if (c->server) {
                if (c->prev)
                        c->prev->next = c->next;
                else
                        c->server->conns = c->next;
                if (c->next)
                        c->next->prev = c->prev;
                c->server->n_conns--;
        }
        (void) sd_event_source_disable_unref(c->io);
        (void) sd_event_source_disable_unref(c->deadline);
        SSL_free(c->ssl); /* frees the BIO too */
        ERR_clear_error();
        safe_close(c->fd);
        free(c);
        return NULL;
}

/* Close a connection from one of its own handlers, then let the listener accept again
 * if it had stopped at the limit. */
static void tlsalpn_conn_close(TlsAlpnConn *c) {
        TlsAlpnServer *s = c->server;

        tlsalpn_conn_free(c);
        tlsalpn_server_update_accept(s);
}

/* Wait for what OpenSSL asked for. Returns 1 (keep the connection) or a negative errno
 * for anything but WANT_READ/WANT_WRITE. */
static int tlsalpn_conn_wait(TlsAlpnConn *c, int ssl_err) {
        uint32_t events;
        int r;

        if (ssl_err == SSL_ERROR_WANT_READ)
                events = EPOLLIN;
        else if (ssl_err == SSL_ERROR_WANT_WRITE)
                events = EPOLLOUT;
        else
                return ssl_error(-EPROTO);

        r = sd_event_source_set_io_events(c->io, events);
        return r < 0 ? r : 1;
}

/* Advance the connection as far as the socket allows. Returns 1 while it waits for the
 * socket, 0 when it is finished, a negative errno when it failed; either of the last two
 * means: close it. */
static int tlsalpn_conn_process(TlsAlpnConn *c) {
        for (;;) {
                int r;

                switch (c->state) {
                case TLSALPN_CONN_HANDSHAKE:
                        ERR_clear_error();
                        r = SSL_do_handshake(c->ssl);
                        if (r != 1)
                                return tlsalpn_conn_wait(c, SSL_get_error(c->ssl, r));
                        c->state = TLSALPN_CONN_SHUTDOWN;
                        break;

                case TLSALPN_CONN_SHUTDOWN:
                        /* RFC 8737 §3: no application data; 0 means our close_notify went out. */
                        ERR_clear_error();
                        r = SSL_shutdown(c->ssl);
                        if (r < 0)
                                return tlsalpn_conn_wait(c, SSL_get_error(c->ssl, r));
                        if (shutdown(c->fd, SHUT_WR) < 0)
                                return 0; /* peer already gone */
                        r = sd_event_source_set_io_events(c->io, EPOLLIN);
                        if (r < 0)
                                return r;
                        c->state = TLSALPN_CONN_DRAIN;
                        break;

                case TLSALPN_CONN_DRAIN: {
                        /* Closing with unread bytes would reset the connection and could
                         * destroy our close_notify in flight; read until the peer closes
                         * (the deadline bounds this). One read per wake-up keeps a
                         * chatty peer from starving the loop. */
                        char buf[TLSALPN_DRAIN_CHUNK];
                        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);

                        if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
                                return 1;
                        return 0; /* EOF or reset: done either way */
                }
                }
        }
}

static int tlsalpn_conn_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        TlsAlpnConn *c = userdata;

        if (tlsalpn_conn_process(c) <= 0)
                tlsalpn_conn_close(c);
        return 0;
}

static int tlsalpn_conn_on_deadline(sd_event_source *source, uint64_t usec, void *userdata) {
        tlsalpn_conn_close(userdata);
        return 0;
}

/* Take over an accepted socket: SSL object on our BIO, io source, deadline. The socket
 * is closed on failure. */
static int tlsalpn_conn_new(TlsAlpnServer *s, int fd) {
        TlsAlpnConn *c;
        BIO *bio;
        int r;

        c = calloc(1, sizeof *c);
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->fd = fd;
        c->server = s;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;

        c->ssl = SSL_new(s->ctx);
        if (!c->ssl) {
                tlsalpn_conn_free(c);
                return ssl_error(-ENOMEM);
        }
        bio = BIO_new(s->bio_method);
        if (!bio) {
                tlsalpn_conn_free(c);
                return ssl_error(-ENOMEM);
        }
        BIO_set_data(bio, (void *) (intptr_t) fd);
        SSL_set_bio(c->ssl, bio, bio);
        SSL_set_accept_state(c->ssl);

        r = sd_event_add_io(s->event, &c->io, fd, EPOLLIN, tlsalpn_conn_on_io, c);
        if (r < 0) {
                tlsalpn_conn_free(c);
                return r;
        }
        (void) sd_event_source_set_description(c->io, "tlsalpn-connection");
        r = sd_event_add_time_relative(s->event, &c->deadline, CLOCK_MONOTONIC, s->timeout_usec, 0,
                                       tlsalpn_conn_on_deadline, c);
        if (r < 0) {
                tlsalpn_conn_free(c);
                return r;
        }
        (void) sd_event_source_set_description(c->deadline, "tlsalpn-deadline");
        return 0;
}

/* ---- listener -------------------------------------------------------------------------- */

/* The listener accepts while it is open, under the connection limit and not backing off
 * after a resource error. */
static void tlsalpn_server_update_accept(TlsAlpnServer *s) {
        if (!s->listen_source)
                return;
        (void) sd_event_source_set_enabled(s->listen_source,
                                           s->n_conns < s->max_conns && !s->accept_paused ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int tlsalpn_server_on_accept_retry(sd_event_source *source, uint64_t usec, void *userdata) {
        TlsAlpnServer *s = userdata;

        s->accept_paused = false;
        tlsalpn_server_update_accept(s);
        return 0;
}

/* Out of descriptors or memory: stop accepting for a moment instead of spinning on a
 * level-triggered listener that stays readable. */
static void tlsalpn_server_pause_accept(TlsAlpnServer *s) {
        int r;

        if (s->accept_retry)
                r = sd_event_source_set_time_relative(s->accept_retry, TLSALPN_ACCEPT_RETRY_USEC);
        else {
                r = sd_event_add_time_relative(s->event, &s->accept_retry, CLOCK_MONOTONIC,
                                               TLSALPN_ACCEPT_RETRY_USEC, 0,
                                               tlsalpn_server_on_accept_retry, s);
                if (r >= 0)
                        (void) sd_event_source_set_description(s->accept_retry, "tlsalpn-accept-retry");
        }
        if (r >= 0)
                r = sd_event_source_set_enabled(s->accept_retry, SD_EVENT_ONESHOT);
        if (r < 0)
                return; /* cannot wait: keep accepting and try again on the next wake-up */
        s->accept_paused = true;
        tlsalpn_server_update_accept(s);
}

static int tlsalpn_server_on_listen(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        TlsAlpnServer *s = userdata;

        while (s->n_conns < s->max_conns) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (cfd < 0) {
                        int err = errno;

                        /* ECONNABORTED and the like: that client is gone, try the next. */
                        if (err == ECONNABORTED || err == EINTR || err == EPROTO)
                                continue;
                        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
                                tlsalpn_server_pause_accept(s);
                        break; /* EAGAIN: the queue is empty */
                }
                (void) tlsalpn_conn_new(s, cfd);
        }
        tlsalpn_server_update_accept(s);
        return 0;
}

static void tlsalpn_server_close_listener(TlsAlpnServer *s) {
        s->listen_source = sd_event_source_disable_unref(s->listen_source);
        s->listen_fd = safe_close(s->listen_fd);
        s->port = 0;
}

/* Bind and listen on the configured address; dual-stack for an IPv6 wildcard. */
static int tlsalpn_server_open_listener(TlsAlpnServer *s) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_storage bound;
        socklen_t bound_len = sizeof bound;
        int family = s->addr.ss_family, one = 1, zero = 0, r;

        fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
                return negative_errno();
        if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
                return negative_errno();
        if (bind(fd, (const struct sockaddr *) &s->addr, s->addr_len) < 0)
                return negative_errno();
        if (listen(fd, TLSALPN_LISTEN_BACKLOG) < 0)
                return negative_errno();
        if (getsockname(fd, (struct sockaddr *) &bound, &bound_len) < 0)
                return negative_errno();

        r = sd_event_add_io(s->event, &s->listen_source, fd, EPOLLIN, tlsalpn_server_on_listen, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->listen_source, "tlsalpn-listen");

        s->port = family == AF_INET ? ntohs(((struct sockaddr_in *) &bound)->sin_port)
                                    : ntohs(((struct sockaddr_in6 *) &bound)->sin6_port);
        s->listen_fd = TAKE_FD(fd);
        tlsalpn_server_update_accept(s);
        return 0;
}

/* ---- public API ------------------------------------------------------------------------ */

int tlsalpn_server_new(sd_event *e, const struct sockaddr *addr, socklen_t len, TlsAlpnServer **ret) {
        _cleanup_(tlsalpn_server_freep) TlsAlpnServer *s = NULL;
        int r;

        if (!e || !addr || !ret)
                return -EINVAL;
        if (!(addr->sa_family == AF_INET && len == sizeof(struct sockaddr_in)) &&
            !(addr->sa_family == AF_INET6 && len == sizeof(struct sockaddr_in6)))
                return -EINVAL;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->listen_fd = -EBADF;
        s->event = sd_event_ref(e);
        memcpy(&s->addr, addr, len);
        s->addr_len = len;
        s->max_conns = TLSALPN_SERVER_MAX_CONNECTIONS;
        s->timeout_usec = TLSALPN_SERVER_TIMEOUT_USEC;

        r = sockbio_method_new(&s->bio_method);
        if (r < 0)
                return r;
        r = tlsalpn_ctx_new(s, &s->ctx);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

TlsAlpnServer *tlsalpn_server_free(TlsAlpnServer *s) {
        if (!s)
                return NULL;
        while (s->conns)
                tlsalpn_conn_free(s->conns);
        tlsalpn_server_close_listener(s);
        (void) sd_event_source_disable_unref(s->accept_retry);
        for (size_t i = 0; i < s->n_entries; i++)
                tlsalpn_entry_done(&s->entries[i]);
        free(s->entries);
        SSL_CTX_free(s->ctx);
        BIO_meth_free(s->bio_method);
        EVP_PKEY_free(s->key);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int tlsalpn_server_set_limits(TlsAlpnServer *s, unsigned max_connections, uint64_t timeout_usec) {
        if (!s)
                return -EINVAL;
        s->max_conns = max_connections > 0 ? max_connections : TLSALPN_SERVER_MAX_CONNECTIONS;
        s->timeout_usec = timeout_usec > 0 ? timeout_usec : TLSALPN_SERVER_TIMEOUT_USEC;
        tlsalpn_server_update_accept(s);
        return 0;
}

int tlsalpn_server_add(TlsAlpnServer *s, const char *identifier, const char *key_authorization) {
        _cleanup_free_ char *sni = NULL, *ka = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        TlsAlpnEntry *existing, *entries;
        int r;

        if (!s || isempty(key_authorization))
                return -EINVAL;
        r = tlsalpn_sni_name(identifier, &sni);
        if (r < 0)
                return r;

        existing = tlsalpn_server_find(s, sni);
        if (existing)
                return streq(existing->key_authorization, key_authorization) ? 0 : -EEXIST;

        if (!s->key) {
                r = key_generate(KEY_EC256, &s->key);
                if (r < 0)
                        return r;
        }
        r = tlsalpn_cert_new(s->key, identifier, key_authorization, &cert);
        if (r < 0)
                return r;
        ka = strdup(key_authorization);
        if (!ka)
                return -ENOMEM;
        entries = reallocarray(s->entries, s->n_entries + 1, sizeof *entries);
        if (!entries)
                return -ENOMEM;
        s->entries = entries;

        if (s->listen_fd < 0) {
                r = tlsalpn_server_open_listener(s);
                if (r < 0)
                        return r;
        }

        s->entries[s->n_entries++] = (TlsAlpnEntry) {
                .sni = TAKE_PTR(sni),
                .key_authorization = TAKE_PTR(ka),
                .cert = TAKE_PTR(cert),
        };
        return 0;
}

int tlsalpn_server_remove(TlsAlpnServer *s, const char *identifier) {
        _cleanup_free_ char *sni = NULL;
        TlsAlpnEntry *e;
        int r;

        if (!s)
                return -EINVAL;
        r = tlsalpn_sni_name(identifier, &sni);
        if (r < 0)
                return r;
        e = tlsalpn_server_find(s, sni);
        if (!e)
                return -ENOENT;

        tlsalpn_entry_done(e);
        *e = s->entries[--s->n_entries];
        if (s->n_entries == 0) {
                s->entries = mfree(s->entries);
                tlsalpn_server_close_listener(s);
        }
        return 0;
}

bool tlsalpn_server_is_listening(const TlsAlpnServer *s) {
        return s && s->listen_fd >= 0;
}

int tlsalpn_server_local_port(const TlsAlpnServer *s) {
        if (!s || s->listen_fd < 0)
                return -ENOTCONN;
        return s->port;
}

unsigned tlsalpn_server_n_connections(const TlsAlpnServer *s) {
        return s ? s->n_conns : 0;
}
