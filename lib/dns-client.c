/* SPDX-License-Identifier: MIT */
/* A DNS exchange on sd-event: UDP with retries, TCP when the answer is truncated.
 *
 * The UDP socket is connected, so the kernel drops datagrams from other addresses and an
 * ICMP port unreachable shows up as ECONNREFUSED. Datagrams that do not parse or do not
 * match the question are ignored (they may be late answers or forgeries); the attempt's
 * timer decides. Over TCP the 2-byte length framing of RFC 1035 §4.2.2 is used, with
 * partial reads and writes, and any mismatch ends the exchange. */

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/epoll.h>

#include "config.h"
#include "dns-client.h"

#define DNS_QUERY_DEFAULT_TIMEOUT_USEC (2 * USEC_PER_SEC)
#define DNS_QUERY_DEFAULT_ATTEMPTS 3U

struct DnsQuery {
        sd_event *event;
        DnsServer server;
        DnsQueryOptions opts;
        DnsQueryDone done;
        void *userdata;

        uint8_t *request;       /* as sent over TCP: 2-byte length, then the message */
        size_t request_size;    /* of the message, without the length */
        DnsMessage *question;   /* the request, parsed, to match answers against */

        int fd;
        sd_event_source *io, *timer;
        unsigned attempt;
        bool tcp, connected;
        size_t tcp_sent;        /* bytes of the framed request written */
        uint8_t tcp_length[2];
        size_t tcp_received;    /* bytes read, the length included */

        uint8_t *buffer;        /* receive buffer */
        size_t buffer_size;
        uint8_t *answer;
        size_t answer_size;
        DnsMessage *answer_msg;
        int ignored_error;      /* why the last ignored datagram was ignored */
        char error_text[256];
};

/* ---- servers ---- */

int dns_server_from_address(const char *address, uint16_t port, DnsServer *ret) {
        DnsServer s = {};

        if (!address || !ret)
                return -EINVAL;
        if (inet_pton(AF_INET, address, &s.in.sin_addr) == 1) {
                s.in.sin_family = AF_INET;
                s.in.sin_port = htons(port);
                s.len = sizeof s.in;
        } else if (inet_pton(AF_INET6, address, &s.in6.sin6_addr) == 1) {
                s.in6.sin6_family = AF_INET6;
                s.in6.sin6_port = htons(port);
                s.len = sizeof s.in6;
        } else
                return -EINVAL;
        *ret = s;
        return 0;
}

int dns_server_parse(const char *s, DnsServer *ret) {
        _cleanup_free_ char *host = NULL;
        uint16_t port;
        int r;

        if (!s || !ret)
                return -EINVAL;
        r = config_parse_dns_server(s, &host, &port);
        if (r < 0)
                return r;
        return dns_server_from_address(host, port, ret);
}

const char *dns_server_to_string(const DnsServer *s, char buf[static DNS_SERVER_STRING_MAX]) {
        char a[INET6_ADDRSTRLEN] = "?";

        if (s->sa.sa_family == AF_INET6) {
                (void) inet_ntop(AF_INET6, &s->in6.sin6_addr, a, sizeof a);
                snprintf(buf, DNS_SERVER_STRING_MAX, "[%s]:%u", a, ntohs(s->in6.sin6_port));
        } else {
                (void) inet_ntop(AF_INET, &s->in.sin_addr, a, sizeof a);
                snprintf(buf, DNS_SERVER_STRING_MAX, "%s:%u", a, ntohs(s->in.sin_port));
        }
        return buf;
}

bool dns_server_equal(const DnsServer *a, const DnsServer *b) {
        if (a->sa.sa_family != b->sa.sa_family)
                return false;
        if (a->sa.sa_family == AF_INET6)
                return a->in6.sin6_port == b->in6.sin6_port &&
                       memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof a->in6.sin6_addr) == 0;
        return a->in.sin_port == b->in.sin_port && a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
}

/* ---- the exchange ---- */

static void query_close(DnsQuery *q) {
        q->io = sd_event_source_disable_unref(q->io);
        q->fd = safe_close(q->fd);
}

_printf_(2, 3) static void query_set_error(DnsQuery *q, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(q->error_text, sizeof q->error_text, fmt, ap);
        va_end(ap);
}

/* End the exchange and report. Last thing done with q: the callback may free it. */
static void query_finish(DnsQuery *q, int error) {
        query_close(q);
        (void) sd_event_source_set_enabled(q->timer, SD_EVENT_OFF);
        if (error < 0 && !q->error_text[0]) {
                char s[DNS_SERVER_STRING_MAX];
                query_set_error(q, "DNS exchange with %s failed: %s", dns_server_to_string(&q->server, s),
                                strerror(-error));
        }
        q->done(q, error, q->userdata);
}

/* Whether the answer is for our request. */
static bool answer_matches(const DnsQuery *q, const DnsMessage *a) {
        const DnsMessage *req = q->question;

        if (a->id != req->id || !(a->flags & DNS_FLAG_QR) || dns_message_opcode(a) != dns_message_opcode(req))
                return false;
        /* Some servers answer an error without repeating the question. */
        if (a->n_questions == 0)
                return dns_message_rcode(a) != DNS_RCODE_NOERROR;
        if (a->n_questions != req->n_questions)
                return false;
        for (size_t i = 0; i < a->n_questions; i++)
                if (a->questions[i].type != req->questions[i].type || a->questions[i].class != req->questions[i].class ||
                    !dns_name_equal(a->questions[i].name, req->questions[i].name))
                        return false;
        return true;
}

static int query_arm_timer(DnsQuery *q, uint64_t usec) {
        uint64_t now;
        int r;

        r = sd_event_now(q->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        r = sd_event_source_set_time(q->timer, now + usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(q->timer, SD_EVENT_ONESHOT);
}

static int query_start_tcp(DnsQuery *q);

/* Take the answer in q->buffer (size bytes). Returns 1 if it completed the exchange,
 * 0 if it was ignored, 2 if it asked for TCP, negative on error. */
static int query_take_answer(DnsQuery *q, size_t size) {
        _cleanup_(dns_message_freep) DnsMessage *m = NULL;
        int r;

        r = dns_message_parse(q->buffer, size, &m);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                q->ignored_error = -EBADMSG;
                return 0;
        }
        if (!answer_matches(q, m)) {
                q->ignored_error = -EBADMSG;
                return 0;
        }
        if ((m->flags & DNS_FLAG_TC) && !q->tcp)
                return 2;

        q->answer = TAKE_PTR(q->buffer);
        q->answer_size = size;
        q->buffer_size = 0;
        q->answer_msg = TAKE_PTR(m);
        return 1;
}

static int query_send_udp(DnsQuery *q) {
        ssize_t n;

        n = send(q->fd, q->request + 2, q->request_size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0)
                return negative_errno();
        return n == (ssize_t) q->request_size ? 0 : -EIO;
}

static int on_udp_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        DnsQuery *q = userdata;
        char str[DNS_SERVER_STRING_MAX];
        int r;

        for (;;) {
                ssize_t n = recv(q->fd, q->buffer, q->buffer_size, MSG_DONTWAIT | MSG_TRUNC);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        r = negative_errno();
                        if (r == -ECONNREFUSED)
                                query_set_error(q, "%s refused the query (nothing listens on that port)",
                                                dns_server_to_string(&q->server, str));
                        else
                                query_set_error(q, "receiving from %s failed: %s", dns_server_to_string(&q->server, str),
                                                strerror(-r));
                        query_finish(q, r);
                        return 0;
                }
                if ((size_t) n > q->buffer_size) {
                        q->ignored_error = -EBADMSG; /* larger than a DNS message can be */
                        continue;
                }
                r = query_take_answer(q, (size_t) n);
                if (r == 0)
                        continue;
                if (r == 2) {
                        r = query_start_tcp(q);
                        if (r < 0) {
                                query_set_error(q, "TCP connection to %s for a truncated answer failed: %s",
                                                dns_server_to_string(&q->server, str), strerror(-r));
                                query_finish(q, r);
                        }
                        return 0;
                }
                query_finish(q, r > 0 ? 0 : r);
                return 0;
        }
}

static int on_tcp_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        DnsQuery *q = userdata;
        char str[DNS_SERVER_STRING_MAX];
        ssize_t n;
        int r;

        if (!q->connected) {
                int err = 0;
                socklen_t len = sizeof err;

                if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err != 0) {
                        query_set_error(q, "TCP connection to %s failed: %s", dns_server_to_string(&q->server, str),
                                        strerror(err));
                        query_finish(q, -err);
                        return 0;
                }
                q->connected = true;
        }

        if (q->tcp_sent < q->request_size + 2) {
                n = send(q->fd, q->request + q->tcp_sent, q->request_size + 2 - q->tcp_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        r = negative_errno();
                        query_set_error(q, "sending to %s over TCP failed: %s", dns_server_to_string(&q->server, str),
                                        strerror(-r));
                        query_finish(q, r);
                        return 0;
                }
                q->tcp_sent += (size_t) n;
                if (q->tcp_sent == q->request_size + 2) {
                        r = sd_event_source_set_io_events(q->io, EPOLLIN);
                        if (r < 0)
                                query_finish(q, r);
                }
                return 0;
        }

        for (;;) {
                size_t want, got;
                uint8_t *dst;

                if (q->tcp_received < 2) {
                        dst = q->tcp_length + q->tcp_received;
                        want = 2 - q->tcp_received;
                } else {
                        got = q->tcp_received - 2;
                        dst = q->buffer + got;
                        want = q->buffer_size - got;
                }
                n = recv(q->fd, dst, want, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        r = negative_errno();
                        query_set_error(q, "receiving from %s over TCP failed: %s", dns_server_to_string(&q->server, str),
                                        strerror(-r));
                        query_finish(q, r);
                        return 0;
                }
                if (n == 0) {
                        query_set_error(q, "%s closed the TCP connection before answering", dns_server_to_string(&q->server, str));
                        query_finish(q, -ECONNRESET);
                        return 0;
                }
                q->tcp_received += (size_t) n;
                if (q->tcp_received == 2) {
                        q->buffer_size = (size_t) q->tcp_length[0] << 8 | q->tcp_length[1];
                        if (q->buffer_size < DNS_HEADER_SIZE) {
                                query_set_error(q, "%s sent a TCP answer of %zu bytes", dns_server_to_string(&q->server, str),
                                                q->buffer_size);
                                query_finish(q, -EBADMSG);
                                return 0;
                        }
                }
                if (q->tcp_received >= 2 && q->tcp_received - 2 == q->buffer_size) {
                        r = query_take_answer(q, q->buffer_size);
                        if (r == 0) {
                                query_set_error(q, "%s sent an answer over TCP that is malformed or not for our question",
                                                dns_server_to_string(&q->server, str));
                                r = -EBADMSG;
                        }
                        query_finish(q, r > 0 ? 0 : r);
                        return 0;
                }
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        DnsQuery *q = userdata;
        char str[DNS_SERVER_STRING_MAX];
        int r;

        if (!q->tcp && q->attempt < q->opts.attempts) {
                q->attempt++;
                r = query_send_udp(q);
                if (r >= 0)
                        r = query_arm_timer(q, q->opts.timeout_usec);
                if (r < 0) {
                        query_set_error(q, "sending to %s failed: %s", dns_server_to_string(&q->server, str), strerror(-r));
                        query_finish(q, r);
                }
                return 0;
        }
        if (q->tcp)
                query_set_error(q, "no answer from %s over TCP within %" PRIu64 " ms", dns_server_to_string(&q->server, str),
                                q->opts.timeout_usec * q->opts.attempts / USEC_PER_MSEC);
        else if (q->ignored_error < 0)
                query_set_error(q, "no valid answer from %s after %u attempts (what came back was malformed or not for our question)",
                                dns_server_to_string(&q->server, str), q->attempt);
        else
                query_set_error(q, "no answer from %s after %u attempts", dns_server_to_string(&q->server, str), q->attempt);
        query_finish(q, q->tcp || q->ignored_error == 0 ? -ETIMEDOUT : q->ignored_error);
        return 0;
}

static int query_open(DnsQuery *q, int type, sd_event_io_handler_t handler, uint32_t events) {
        int r;

        q->fd = socket(q->server.sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (q->fd < 0)
                return negative_errno();
        if (connect(q->fd, &q->server.sa, q->server.len) < 0 && errno != EINPROGRESS)
                return negative_errno();
        r = sd_event_add_io(q->event, &q->io, q->fd, events, handler, q);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(q->io, type == SOCK_STREAM ? "dns-tcp" : "dns-udp");
        return 0;
}

static int query_start_tcp(DnsQuery *q) {
        int r;

        query_close(q);
        q->tcp = true;
        q->connected = false;
        q->tcp_sent = q->tcp_received = 0;
        r = query_open(q, SOCK_STREAM, on_tcp_io, EPOLLOUT);
        if (r < 0)
                return r;
        /* TCP gets as long as all UDP attempts together. */
        return query_arm_timer(q, q->opts.timeout_usec * q->opts.attempts);
}

DnsQuery *dns_query_free(DnsQuery *q) {
        if (!q)
                return NULL;
        query_close(q);
        sd_event_source_disable_unref(q->timer);
        sd_event_unref(q->event);
        free(q->request);
        dns_message_free(q->question);
        free(q->buffer);
        free(q->answer);
        dns_message_free(q->answer_msg);
        free(q);
        return NULL;
}

int dns_query_start(sd_event *e, const DnsServer *server, const uint8_t *msg, size_t size, const DnsQueryOptions *opts,
                    DnsQueryDone done, void *userdata, DnsQuery **ret) {
        _cleanup_(dns_query_freep) DnsQuery *q = NULL;
        int r;

        if (!e || !server || !msg || !done || !ret || size > DNS_MESSAGE_MAX)
                return -EINVAL;
        if (server->sa.sa_family != AF_INET && server->sa.sa_family != AF_INET6)
                return -EAFNOSUPPORT;

        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->fd = -EBADF;
        q->event = sd_event_ref(e);
        q->server = *server;
        q->done = done;
        q->userdata = userdata;
        if (opts)
                q->opts = *opts;
        if (q->opts.timeout_usec == 0)
                q->opts.timeout_usec = DNS_QUERY_DEFAULT_TIMEOUT_USEC;
        if (q->opts.attempts == 0)
                q->opts.attempts = DNS_QUERY_DEFAULT_ATTEMPTS;

        r = dns_message_parse(msg, size, &q->question);
        if (r < 0)
                return r == -EBADMSG ? -EINVAL : r;
        q->request = malloc(size + 2);
        if (!q->request)
                return -ENOMEM;
        q->request[0] = (uint8_t) (size >> 8);
        q->request[1] = (uint8_t) size;
        memcpy(q->request + 2, msg, size);
        q->request_size = size;
        q->buffer_size = DNS_MESSAGE_MAX;
        q->buffer = malloc(q->buffer_size);
        if (!q->buffer)
                return -ENOMEM;

        r = sd_event_add_time(e, &q->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, q);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(q->timer, "dns-query-timer");

        if (q->opts.tcp)
                r = query_start_tcp(q);
        else {
                r = query_open(q, SOCK_DGRAM, on_udp_io, EPOLLIN);
                if (r >= 0) {
                        q->attempt = 1;
                        r = query_send_udp(q);
                }
                if (r >= 0)
                        r = query_arm_timer(q, q->opts.timeout_usec);
        }
        if (r < 0)
                return r;

        *ret = TAKE_PTR(q);
        return 0;
}

int dns_query_start_question(sd_event *e, const DnsServer *server, const char *name, uint16_t type, bool rd,
                             const DnsQueryOptions *opts, DnsQueryDone done, void *userdata, DnsQuery **ret) {
        _cleanup_free_ uint8_t *msg = NULL;
        size_t size = 0;
        uint16_t id;
        int r;

        r = dns_random_id(&id);
        if (r < 0)
                return r;
        r = dns_message_build_query(id, name, type, rd, &msg, &size);
        if (r < 0)
                return r;
        return dns_query_start(e, server, msg, size, opts, done, userdata, ret);
}

const DnsMessage *dns_query_answer(const DnsQuery *q) {
        return q->answer_msg;
}

const uint8_t *dns_query_answer_raw(const DnsQuery *q, size_t *ret_size) {
        if (ret_size)
                *ret_size = q->answer_size;
        return q->answer;
}

const DnsServer *dns_query_server(const DnsQuery *q) {
        return &q->server;
}

bool dns_query_used_tcp(const DnsQuery *q) {
        return q->tcp;
}

const char *dns_query_error_text(const DnsQuery *q) {
        return q->error_text[0] ? q->error_text : "no error";
}
