/* SPDX-License-Identifier: MIT */
/* RFC 2136 update of one TXT record, signed with TSIG: server address → zone → UPDATE. */

#include <stdarg.h>
#include <time.h>

#include "config.h"
#include "dns-resolver.h"
#include "dns-update.h"

struct DnsUpdate {
        sd_event *event;
        char *server_spec;      /* as given, for messages until the address is known */
        char *host;
        uint16_t port;
        DnsServer server;
        TsigKey *key;
        char *fqdn, *value, *zone;
        DnsTxtChange change;
        DnsUpdateOptions opts;
        char *resolv_conf;

        DnsResolve *resolve;
        DnsQuery *query;
        uint8_t request_mac[TSIG_MAC_SIZE];

        DnsUpdateDone done;
        void *userdata;
        char *error_text;
};

_printf_(3, 4) static void update_fail(DnsUpdate *u, int error, const char *fmt, ...) {
        va_list ap;

        free(u->error_text);
        va_start(ap, fmt);
        if (vasprintf(&u->error_text, fmt, ap) < 0)
                u->error_text = NULL;
        va_end(ap);
        u->done(u, error, u->userdata);
}

static const char *update_server_string(const DnsUpdate *u, char buf[static DNS_SERVER_STRING_MAX]) {
        return u->server.len > 0 ? dns_server_to_string(&u->server, buf) : u->server_spec;
}

static uint64_t now_realtime(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return ts.tv_sec > 0 ? (uint64_t) ts.tv_sec : 0;
}

/* What an RCODE or TSIG error means for an update, into buf; "" if nothing to add. */
static const char *rcode_explain(unsigned rcode, const char *zone, char *buf, size_t size) {
        switch (rcode) {
        case DNS_RCODE_FORMERR:
                return "the server could not parse the update";
        case DNS_RCODE_SERVFAIL:
                return "the server failed to apply it";
        case DNS_RCODE_NOTIMP:
                return "the server does not support dynamic updates";
        case DNS_RCODE_REFUSED:
                snprintf(buf, size, "the server's policy does not allow this update of zone %s", zone);
                return buf;
        case DNS_RCODE_NOTAUTH:
                snprintf(buf, size, "the server is not authoritative for zone %s", zone);
                return buf;
        case DNS_RCODE_NOTZONE:
                snprintf(buf, size, "the name is not in zone %s", zone);
                return buf;
        case DNS_RCODE_BADSIG:
                return "TSIG signature not accepted, is the secret right?";
        case DNS_RCODE_BADKEY:
                return "TSIG key not accepted";
        case DNS_RCODE_BADTIME:
                return "TSIG time not accepted, are the clocks right?";
        default:
                return "";
        }
}

/* Report an answer other than success, as "RCODE (explanation)" or, with a TSIG error,
 * "RCODE (explanation: TSIGERROR)". note_unsigned adds that the answer was not signed
 * (for an RCODE that is believed without proof: it can only make us fail). */
static void update_fail_rcode(DnsUpdate *u, unsigned rcode, uint16_t tsig_error, bool note_unsigned) {
        char s[DNS_SERVER_STRING_MAX], rbuf[32], tbuf[32], why[256];
        const char *rname = dns_rcode_to_string(rcode), *tname = dns_rcode_to_string(tsig_error), *explain;
        int error = dns_rcode_to_errno(tsig_error ? tsig_error : rcode);
        const char *zone = u->zone ?: "?";

        if (!rname) {
                snprintf(rbuf, sizeof rbuf, "RCODE %u", rcode);
                rname = rbuf;
        }
        if (!tname) {
                snprintf(tbuf, sizeof tbuf, "TSIG error %u", tsig_error);
                tname = tbuf;
        }
        if (error == 0)
                error = -EPROTO;
        explain = rcode_explain(tsig_error ? tsig_error : rcode, zone, why, sizeof why);
        if (tsig_error)
                update_fail(u, error, "the server %s refused the update of %s: %s (%s%s%s)%s", update_server_string(u, s),
                            u->fqdn, rname, explain, *explain ? ": " : "", tname,
                            note_unsigned ? "; the answer was not signed" : "");
        else
                update_fail(u, error, "the server %s refused the update of %s: %s%s%s%s%s", update_server_string(u, s),
                            u->fqdn, rname, *explain ? " (" : "", explain, *explain ? ")" : "",
                            note_unsigned ? "; the answer was not signed" : "");
}

static void update_answer(DnsQuery *q, int error, void *userdata) {
        DnsUpdate *u = userdata;
        char s[DNS_SERVER_STRING_MAX];
        const DnsMessage *m;
        const uint8_t *raw;
        size_t size = 0;
        uint16_t tsig_error = 0;
        TsigInfo info;
        unsigned rcode;
        int r;

        if (error < 0) {
                update_fail(u, error, "updating %s: %s", u->fqdn, dns_query_error_text(q));
                return;
        }
        m = dns_query_answer(q);
        raw = dns_query_answer_raw(q, &size);
        rcode = dns_message_rcode(m);

        r = tsig_info(raw, size, m, &info);
        if (r == -ENOMSG) {
                /* An unsigned answer may be forged: believe it only when it says no. */
                if (rcode == DNS_RCODE_NOERROR) {
                        update_fail(u, -EBADMSG,
                                    "the server %s answered the update of %s without a TSIG signature; not trusting it",
                                    update_server_string(u, s), u->fqdn);
                        return;
                }
                update_fail_rcode(u, rcode, 0, true);
                return;
        }
        if (r < 0) {
                update_fail(u, -EBADMSG, "the server %s answered the update of %s with a malformed TSIG record",
                            update_server_string(u, s), u->fqdn);
                return;
        }
        if (info.error != 0 && info.mac_size == 0) {
                /* BADSIG and BADKEY come unsigned: the server could not sign with our key. */
                if (rcode == DNS_RCODE_NOERROR)
                        rcode = DNS_RCODE_NOTAUTH;
                update_fail_rcode(u, rcode, info.error, false);
                return;
        }

        r = tsig_verify(u->key, u->request_mac, sizeof u->request_mac, raw, size, m, now_realtime(), &tsig_error);
        if (r < 0) {
                const char *why = r == -ENOKEY        ? "is signed with another key"
                                  : r == -EKEYEXPIRED ? "has a TSIG time more than 300 s off (are the clocks right?)"
                                  : r == -EKEYREJECTED ? "has a TSIG signature that does not verify"
                                                       : "has a malformed TSIG record";

                if (rcode != DNS_RCODE_NOERROR) {
                        update_fail_rcode(u, rcode, 0, true);
                        return;
                }
                update_fail(u, -EBADMSG, "the answer of the server %s to the update of %s %s; not trusting it",
                            update_server_string(u, s), u->fqdn, why);
                return;
        }
        if (rcode != DNS_RCODE_NOERROR || tsig_error != 0) {
                update_fail_rcode(u, rcode, tsig_error, false);
                return;
        }

        u->done(u, 0, u->userdata);
}

static int update_send(DnsUpdate *u) {
        _cleanup_free_ uint8_t *msg = NULL;
        size_t size = 0;
        uint16_t id;
        int r;

        r = dns_random_id(&id);
        if (r < 0)
                return r;
        r = dns_message_build_update_txt(id, u->zone, u->fqdn, u->value, u->change, &msg, &size);
        if (r < 0)
                return r;
        r = tsig_sign(u->key, now_realtime(), NULL, 0, 0, &msg, &size, u->request_mac);
        if (r < 0)
                return r;
        u->query = dns_query_free(u->query);
        return dns_query_start(u->event, &u->server, msg, size, &u->opts.query, update_answer, u, &u->query);
}

/* The zone of fqdn from the SOA answer: an SOA record in the answer, or in the
 * authority section (NXDOMAIN or no data), whose owner is fqdn or above it. */
static const char *soa_zone(const DnsMessage *m, const char *fqdn) {
        static const DnsSection sections[] = { DNS_SECTION_ANSWER, DNS_SECTION_AUTHORITY };

        for (size_t k = 0; k < ELEMENTSOF(sections); k++)
                for (size_t i = 0; i < m->n_records[sections[k]]; i++) {
                        const DnsResourceRecord *rr = &m->records[sections[k]][i];

                        if (rr->type == DNS_TYPE_SOA && rr->class == DNS_CLASS_IN && dns_name_is_in_zone(fqdn, rr->name))
                                return rr->name;
                }
        return NULL;
}

static void update_soa_answer(DnsQuery *q, int error, void *userdata) {
        DnsUpdate *u = userdata;
        char s[DNS_SERVER_STRING_MAX];
        const DnsMessage *m;
        const char *zone;
        unsigned rcode;
        int r;

        if (error < 0) {
                update_fail(u, error, "finding the zone of %s: %s", u->fqdn, dns_query_error_text(q));
                return;
        }
        m = dns_query_answer(q);
        rcode = dns_message_rcode(m);
        if (rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN) {
                update_fail(u, dns_rcode_to_errno(rcode), "finding the zone of %s: the server %s answered %s to the SOA query",
                            u->fqdn, update_server_string(u, s), strna(dns_rcode_to_string(rcode)));
                return;
        }
        zone = soa_zone(m, u->fqdn);
        if (!zone || streq(zone, ".")) {
                update_fail(u, -ENOENT, "finding the zone of %s: the server %s named no zone containing it in its SOA answer",
                            u->fqdn, update_server_string(u, s));
                return;
        }
        r = dns_name_normalize(zone, &u->zone);
        if (r < 0) {
                update_fail(u, r, "finding the zone of %s: %s", u->fqdn, strerror(-r));
                return;
        }

        r = update_send(u);
        if (r < 0)
                update_fail(u, r, "sending the update of %s to %s: %s", u->fqdn, update_server_string(u, s),
                            strerror(-r));
}

static int update_find_zone(DnsUpdate *u) {
        u->query = dns_query_free(u->query);
        return dns_query_start_question(u->event, &u->server, u->fqdn, DNS_TYPE_SOA, false, &u->opts.query,
                                        update_soa_answer, u, &u->query);
}

static void update_resolved(DnsResolve *res, int error, void *userdata) {
        DnsUpdate *u = userdata;
        const DnsServer *servers;
        size_t n = 0;
        int r;

        if (error < 0) {
                update_fail(u, error, "looking up the update server %s: %s", u->host, dns_resolve_error_text(res));
                return;
        }
        servers = dns_resolve_servers(res, &n);
        if (n == 0) {
                update_fail(u, -ENODATA, "looking up the update server %s: no address", u->host);
                return;
        }
        u->server = servers[0];
        r = update_find_zone(u);
        if (r < 0)
                update_fail(u, r, "finding the zone of %s: %s", u->fqdn, strerror(-r));
}

DnsUpdate *dns_update_free(DnsUpdate *u) {
        if (!u)
                return NULL;
        dns_query_free(u->query);
        dns_resolve_free(u->resolve);
        tsig_key_free(u->key);
        sd_event_unref(u->event);
        free(u->server_spec);
        free(u->host);
        free(u->fqdn);
        free(u->value);
        free(u->zone);
        free(u->resolv_conf);
        free(u->error_text);
        free(u);
        return NULL;
}

int dns_update_txt_full(sd_event *e, const char *server, const TsigKey *key, const char *fqdn, const char *value,
                        DnsTxtChange change, const DnsUpdateOptions *opts, DnsUpdateDone done, void *userdata,
                        DnsUpdate **ret) {
        _cleanup_(dns_update_freep) DnsUpdate *u = NULL;
        int r;

        if (!e || !server || !key || !fqdn || !value || change < 0 || change >= _DNS_TXT_CHANGE_MAX || !done || !ret)
                return -EINVAL;
        if (dns_name_parent(fqdn) == NULL)
                return -EINVAL; /* the root */

        u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        u->event = sd_event_ref(e);
        u->change = change;
        u->done = done;
        u->userdata = userdata;
        if (opts) {
                u->opts = *opts;
                if (opts->resolv_conf) {
                        u->resolv_conf = strdup(opts->resolv_conf);
                        if (!u->resolv_conf)
                                return -ENOMEM;
                }
        }
        u->opts.resolv_conf = NULL; /* not borrowed past this call: use u->resolv_conf */
        u->server_spec = strdup(server);
        u->value = strdup(value);
        if (!u->server_spec || !u->value)
                return -ENOMEM;
        r = dns_name_normalize(fqdn, &u->fqdn);
        if (r < 0)
                return r;
        r = tsig_key_copy(key, &u->key);
        if (r < 0)
                return r;
        r = config_parse_dns_server(server, &u->host, &u->port);
        if (r < 0)
                return r;

        if (dns_server_from_address(u->host, u->port, &u->server) >= 0)
                r = update_find_zone(u);
        else {
                _cleanup_free_ DnsServer *resolvers = NULL;
                int n;

                n = dns_resolv_conf_load(u->resolv_conf, &resolvers);
                if (n < 0)
                        return n;
                r = dns_resolve_start(e, resolvers, (size_t) n, &u->host, &u->port, 1, true, &u->opts.query,
                                      update_resolved, u, &u->resolve);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(u);
        return 0;
}

int dns_update_txt(sd_event *e, const char *server, const TsigKey *key, const char *fqdn, const char *value,
                   DnsTxtChange change, DnsUpdateDone done, void *userdata, DnsUpdate **ret) {
        return dns_update_txt_full(e, server, key, fqdn, value, change, NULL, done, userdata, ret);
}

const char *dns_update_error_text(const DnsUpdate *u) {
        return u->error_text ?: "no error";
}

const char *dns_update_zone(const DnsUpdate *u) {
        return u->zone;
}
