/* SPDX-License-Identifier: MIT */
#pragma once

/* Waiting until a dns-01 TXT record is visible: every server is asked for the TXT
 * records at the name, again and again with a growing interval (250 ms doubling up to
 * 5 s), until each of them has the value among its TXT strings, or the time is up.
 *
 * The servers are given, or found: the zone of the name is looked up through the
 * resolvers of resolv.conf (SOA queries, walking up the labels), then its NS records
 * and their addresses; those are asked directly, on port 53. A CNAME at the name is
 * followed once (some delegate _acme-challenge that way): then the target is what is
 * looked for, and whose zone is found. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "dns-client.h"
#include "macro.h"

typedef struct DnsPropagation DnsPropagation;

/* Called once, from the loop: 0 when every server has the value; -ETIME when the time
 * ran out, dns_propagation_error_text() naming the servers that still lacked it and
 * what they answered; other errors when the servers could not be found (-ENOENT no
 * zone, -ENODATA no name server addresses, a lookup's error, …). The object may be
 * freed inside the callback. */
typedef void (*DnsPropagationDone)(DnsPropagation *p, int error, void *userdata);

typedef struct DnsPropagationOptions {
        const char *resolv_conf;        /* NULL: /etc/resolv.conf */
        uint16_t authoritative_port;    /* where found name servers are asked; 0: 53 */
        uint64_t interval_usec;         /* first interval between rounds; 0: 250 ms */
        uint64_t max_interval_usec;     /* 0: 5 s */
        DnsQueryOptions query;          /* every single exchange */
} DnsPropagationOptions;

/* Poll servers (NULL or empty: the zone's authoritative servers) for "fqdn TXT value".
 * servers are written as in the configuration: "host", "host:port", "IPv4[:port]",
 * "[IPv6][:port]", port 53 by default; names are looked up through the resolvers, and
 * each of their addresses must have the value. timeout_usec bounds the whole wait, the
 * search for servers included; 0 means one round only. Returns 0 with the check
 * running, or a negative errno (no callback then). */
int dns_propagation_start(sd_event *e, const char *fqdn, const char *value, char *const *servers, uint64_t timeout_usec,
                          DnsPropagationDone done, void *userdata, DnsPropagation **ret);
/* The same with options (NULL: defaults), for tests against servers on other ports. */
int dns_propagation_start_full(sd_event *e, const char *fqdn, const char *value, char *const *servers,
                               uint64_t timeout_usec, const DnsPropagationOptions *opts, DnsPropagationDone done,
                               void *userdata, DnsPropagation **ret);
/* Stops a running check without calling its callback. */
DnsPropagation *dns_propagation_free(DnsPropagation *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsPropagation *, dns_propagation_free);

const char *dns_propagation_error_text(const DnsPropagation *p);
/* The servers being polled (none before they are known). */
const DnsServer *dns_propagation_servers(const DnsPropagation *p, size_t *ret_n);
/* The name whose TXT records are polled: fqdn, or the target of its CNAME. */
const char *dns_propagation_name(const DnsPropagation *p);
