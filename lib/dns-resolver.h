/* SPDX-License-Identifier: MIT */
#pragma once

/* The system's recursive resolvers: which they are (resolv.conf), asking them a question
 * (one after the other until one gives a usable answer), and finding the addresses of
 * host names through them. Used to find a zone's authoritative servers and to reach
 * servers configured by name, without the blocking getaddrinfo(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "dns-client.h"
#include "macro.h"

#define DNS_RESOLV_CONF_PATH "/etc/resolv.conf"
/* As glibc: later nameserver lines are ignored. */
#define DNS_RESOLVERS_MAX 3

/* The servers of resolv.conf text: "nameserver ADDRESS" lines, ADDRESS being IPv4 or
 * IPv6 (port 53), or, as OpenBSD allows, "[ADDRESS]:PORT". Comments (# or ;), other
 * keywords and addresses that do not parse (scoped IPv6 included) are skipped, as glibc
 * does; at most DNS_RESOLVERS_MAX are kept. Returns the number found (0: *ret = NULL),
 * or -ENOMEM. A pure function of the text. */
int dns_resolv_conf_parse(const char *text, size_t len, DnsServer **ret);
/* Read path (NULL: /etc/resolv.conf) and parse it. If the file is missing or names no
 * server, the local resolver is used (127.0.0.1 and ::1), as glibc does. Returns the
 * number of servers, or a negative errno if the file cannot be read. */
int dns_resolv_conf_load(const char *path, DnsServer **ret);

typedef struct DnsLookup DnsLookup;
typedef void (*DnsLookupDone)(DnsLookup *l, int error, void *userdata);

/* Ask the resolvers in turn for name/type (class IN, recursion desired) until one
 * answers NOERROR or NXDOMAIN; one that fails, times out, or answers SERVFAIL, REFUSED
 * and the like makes way for the next. error is then 0 (look at the answer's RCODE),
 * or the last failure, explained by dns_lookup_error_text(). opts may be NULL. */
int dns_lookup_start(sd_event *e, const DnsServer *resolvers, size_t n_resolvers, const char *name, uint16_t type,
                     const DnsQueryOptions *opts, DnsLookupDone done, void *userdata, DnsLookup **ret);
DnsLookup *dns_lookup_free(DnsLookup *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsLookup *, dns_lookup_free);
const DnsMessage *dns_lookup_answer(const DnsLookup *l);
const char *dns_lookup_name(const DnsLookup *l);
const char *dns_lookup_error_text(const DnsLookup *l);

/* The records of type type for name in the answer section, following CNAME records
 * there from name (at most 8). Fills up to n pointers; returns how many there are. */
size_t dns_answer_find(const DnsMessage *m, const char *name, uint16_t type, const DnsResourceRecord **ret, size_t n);

typedef struct DnsResolve DnsResolve;
typedef void (*DnsResolveDone)(DnsResolve *r, int error, void *userdata);

/* The addresses of n hosts (ports[i] going with hosts[i]): a numeric address is taken
 * as it is, a name is looked up (A and AAAA) through the resolvers. With strict, every
 * host must have an address; otherwise one is enough. The callback always runs from
 * the loop. On failure (-ENOENT: NXDOMAIN, -ENODATA: no address records, or a lookup's
 * error) dns_resolve_error_text() names the host(s). */
int dns_resolve_start(sd_event *e, const DnsServer *resolvers, size_t n_resolvers, char *const *hosts,
                      const uint16_t *ports, size_t n, bool strict, const DnsQueryOptions *opts, DnsResolveDone done,
                      void *userdata, DnsResolve **ret);
DnsResolve *dns_resolve_free(DnsResolve *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsResolve *, dns_resolve_free);
/* Every address found (no duplicates), in the order of the hosts, IPv4 first for each. */
const DnsServer *dns_resolve_servers(const DnsResolve *r, size_t *ret_n);
const char *dns_resolve_error_text(const DnsResolve *r);
