/* SPDX-License-Identifier: MIT */
#pragma once

/* Adding or deleting the TXT record of a dns-01 challenge by RFC 2136 dynamic update,
 * signed with TSIG. Steps, all on the loop:
 *   1. a server given by name is looked up through the resolvers of resolv.conf;
 *   2. the zone is found by asking that server for the SOA of the name (the SOA's owner,
 *      from the answer or the authority section);
 *   3. the UPDATE is sent signed (UDP, TCP if truncated), and the answer must be signed
 *      with the same key; its RCODE (and TSIG error) becomes the result. */

#include <systemd/sd-event.h>

#include "dns-client.h"
#include "dns-packet.h"
#include "macro.h"
#include "tsig.h"

typedef struct DnsUpdate DnsUpdate;

/* Called once from the loop. error: 0 when the server applied the update; the RCODE
 * mapped by dns_rcode_to_errno() (REFUSED -EACCES, NOTAUTH -EPERM, NOTZONE -EPROTO, and
 * for TSIG errors BADSIG -EKEYREJECTED, BADKEY -ENOKEY, BADTIME -EKEYEXPIRED); -EBADMSG
 * for an answer that is unsigned, or whose signature does not verify, although it
 * claims success; -ENOENT when no zone is found; transport errors (-ETIMEDOUT, …).
 * dns_update_error_text() explains, never quoting the secret. The update may be freed
 * inside the callback. */
typedef void (*DnsUpdateDone)(DnsUpdate *u, int error, void *userdata);

typedef struct DnsUpdateOptions {
        const char *resolv_conf;  /* to look up a server given by name; NULL = /etc/resolv.conf */
        DnsQueryOptions query;    /* timeouts and attempts of every exchange */
} DnsUpdateOptions;

/* Add or delete "fqdn TXT value" at server ("host", "host:port", "IPv4[:port]",
 * "[IPv6][:port]"; port 53 by default) with key (copied). Returns 0 with the update
 * running, or -EINVAL/-ENOMEM/… without calling done. */
int dns_update_txt(sd_event *e, const char *server, const TsigKey *key, const char *fqdn, const char *value,
                   DnsTxtChange change, DnsUpdateDone done, void *userdata, DnsUpdate **ret);
/* The same, with options (NULL: defaults). */
int dns_update_txt_full(sd_event *e, const char *server, const TsigKey *key, const char *fqdn, const char *value,
                        DnsTxtChange change, const DnsUpdateOptions *opts, DnsUpdateDone done, void *userdata,
                        DnsUpdate **ret);
/* Stops a running update without calling its callback (a datagram already sent stays
 * sent). */
DnsUpdate *dns_update_free(DnsUpdate *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsUpdate *, dns_update_free);

/* What went wrong, like "the server 127.0.0.1:5353 refused the update of
 * _acme-challenge.x.test: NOTAUTH (TSIG key not accepted: BADKEY)"; "no error" else. */
const char *dns_update_error_text(const DnsUpdate *u);
/* The zone found in step 2, or NULL before. */
const char *dns_update_zone(const DnsUpdate *u);
