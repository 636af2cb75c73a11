/* SPDX-License-Identifier: MIT */
#pragma once

/* One DNS exchange with one server on an sd-event loop: the message goes out over UDP
 * (resent after each timeout, up to a number of attempts) and, when the answer comes
 * back truncated, again over TCP. An answer is taken only if it matches the question:
 * same ID, QR set, same opcode and the same question (or none, for an error). Nothing
 * blocks; the completion callback runs from the loop, never from dns_query_start(). */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "dns-packet.h"
#include "macro.h"

/* A server address with its port. */
typedef struct DnsServer {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        };
        socklen_t len;
} DnsServer;

/* "255.255.255.255:65535" and "[ffff:…:ffff]:65535", NUL included. */
#define DNS_SERVER_STRING_MAX (INET6_ADDRSTRLEN + 9)

/* A server from a numeric IPv4 or IPv6 address (without brackets) and a port.
 * Returns 0 or -EINVAL. */
int dns_server_from_address(const char *address, uint16_t port, DnsServer *ret);
/* A server written as the configuration does ("IPv4", "IPv4:port", "[IPv6]:port", …,
 * port 53 by default), numeric addresses only: -EINVAL for a host name. */
int dns_server_parse(const char *s, DnsServer *ret);
/* "127.0.0.1:53" or "[::1]:53" into buf; returns buf. */
const char *dns_server_to_string(const DnsServer *s, char buf[static DNS_SERVER_STRING_MAX]);
bool dns_server_equal(const DnsServer *a, const DnsServer *b);

typedef struct DnsQueryOptions {
        uint64_t timeout_usec; /* per UDP attempt, and for the whole TCP exchange; 0 = 2 s */
        unsigned attempts;     /* UDP sends before giving up; 0 = 3 */
        bool tcp;              /* use TCP from the start */
} DnsQueryOptions;

typedef struct DnsQuery DnsQuery;

/* Called once when the exchange ends: error 0 with an answer (whatever its RCODE), or
 * -ETIMEDOUT (no answer after every attempt), -ECONNREFUSED, -ECONNRESET, -EBADMSG (the
 * server's answer was malformed or did not match), -ENOMEM, …; dns_query_error_text()
 * says more. The query may be freed inside the callback. */
typedef void (*DnsQueryDone)(DnsQuery *q, int error, void *userdata);

/* Send msg (size bytes, a complete message with its ID set: see dns_random_id()) to
 * server. Returns 0 with the query running, or a negative errno (no callback then).
 * opts may be NULL. */
int dns_query_start(sd_event *e, const DnsServer *server, const uint8_t *msg, size_t size, const DnsQueryOptions *opts,
                    DnsQueryDone done, void *userdata, DnsQuery **ret);
/* Ask server for name/type (class IN) with a random ID, recursion desired if rd. */
int dns_query_start_question(sd_event *e, const DnsServer *server, const char *name, uint16_t type, bool rd,
                             const DnsQueryOptions *opts, DnsQueryDone done, void *userdata, DnsQuery **ret);
/* Stops a running query without calling its callback. */
DnsQuery *dns_query_free(DnsQuery *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsQuery *, dns_query_free);

/* After success: the answer, parsed and as received (for TSIG). */
const DnsMessage *dns_query_answer(const DnsQuery *q);
const uint8_t *dns_query_answer_raw(const DnsQuery *q, size_t *ret_size);
const DnsServer *dns_query_server(const DnsQuery *q);
/* Whether the answer came over TCP. */
bool dns_query_used_tcp(const DnsQuery *q);
/* Why the exchange failed ("no answer from 127.0.0.1:53 after 3 attempts"). */
const char *dns_query_error_text(const DnsQuery *q);
