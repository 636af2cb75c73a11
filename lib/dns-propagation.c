/* SPDX-License-Identifier: MIT */
/* The propagation check of a dns-01 TXT record: find the servers, then poll them.
 *
 * Discovery goes name → zone (SOA lookups walking up the labels; the first answer may
 * reveal a CNAME, followed once) → NS names (NS lookup) → addresses (dns_resolve).
 * Polling runs in rounds: one TXT query to every server still lacking the value, the
 * next round when all of them are answered (or failed), after the current interval.
 * One deadline timer covers it all. */

#include <inttypes.h>
#include <stdarg.h>

#include "config.h"
#include "dns-propagation.h"
#include "dns-resolver.h"
#include "strv.h"

#define PROPAGATION_INTERVAL_USEC (250 * USEC_PER_MSEC)
#define PROPAGATION_MAX_INTERVAL_USEC (5 * USEC_PER_SEC)
#define NS_MAX 16

typedef struct PolledServer {
        DnsServer address;
        DnsQuery *query;
        bool seen;
        char status[160];        /* what it answered last, for the error text */
} PolledServer;

struct DnsPropagation {
        sd_event *event;
        char *fqdn, *value;
        char *name;              /* what is polled: fqdn or its CNAME target */
        bool cname_followed;
        bool discovering;        /* the servers are the zone's, found by us */
        DnsPropagationOptions opts;
        char *resolv_conf;
        DnsServer *resolvers;
        size_t n_resolvers;
        uint64_t timeout_usec;

        /* discovery */
        char *candidate;         /* the name whose SOA is asked for */
        char *zone;
        DnsLookup *lookup;
        DnsResolve *resolve;

        /* polling */
        PolledServer *servers;
        size_t n_servers;
        DnsServer *addresses;    /* the same addresses, for dns_propagation_servers() */
        size_t pending;
        unsigned rounds;
        uint64_t interval;
        sd_event_source *poll_timer, *deadline;

        DnsPropagationDone done;
        void *userdata;
        char *error_text;
};

/* Cancel whatever still runs (possibly the very query or lookup whose callback we are
 * in: they allow that), so that nothing calls back after the end; then report. */
static void propagation_finish(DnsPropagation *p, int error) {
        for (size_t i = 0; i < p->n_servers; i++)
                p->servers[i].query = dns_query_free(p->servers[i].query);
        p->pending = 0;
        p->lookup = dns_lookup_free(p->lookup);
        p->resolve = dns_resolve_free(p->resolve);
        (void) sd_event_source_set_enabled(p->poll_timer, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(p->deadline, SD_EVENT_OFF);
        p->done(p, error, p->userdata);
}

_printf_(3, 4) static void propagation_fail(DnsPropagation *p, int error, const char *fmt, ...) {
        va_list ap;

        free(p->error_text);
        va_start(ap, fmt);
        if (vasprintf(&p->error_text, fmt, ap) < 0)
                p->error_text = NULL;
        va_end(ap);
        propagation_finish(p, error);
}

/* "the TXT record at NAME (CNAME of FQDN)" */
static char *record_description(const DnsPropagation *p) {
        char *s = NULL;

        if (p->cname_followed) {
                if (asprintf(&s, "the TXT record at %s (the CNAME target of %s)", p->name, p->fqdn) < 0)
                        return NULL;
        } else if (asprintf(&s, "the TXT record at %s", p->name) < 0)
                return NULL;
        return s;
}

/* The deadline passed, or a single round ended: name the servers lacking the value. */
static void propagation_fail_timeout(DnsPropagation *p) {
        _cleanup_free_ char *what = record_description(p), *list = NULL;
        char s[DNS_SERVER_STRING_MAX];
        size_t missing = 0, list_size = 0;

        if (p->n_servers == 0) {
                propagation_fail(p, -ETIME, "%s: the authoritative servers of %s were not found within %" PRIu64 " s",
                                 strna(what), p->name, p->timeout_usec / USEC_PER_SEC);
                return;
        }
        /* "ADDRESS (what it answered), …" */
        FILE *f = open_memstream(&list, &list_size);
        for (size_t i = 0; i < p->n_servers; i++) {
                if (p->servers[i].seen)
                        continue;
                if (f)
                        fprintf(f, "%s%s (%s)", missing > 0 ? ", " : "", dns_server_to_string(&p->servers[i].address, s),
                                p->servers[i].status[0] ? p->servers[i].status : "not asked yet");
                missing++;
        }
        if (f && fclose(f) != 0)
                list = mfree(list);
        if (p->timeout_usec > 0)
                propagation_fail(p, -ETIME, "%s did not have the value on %zu of %zu servers within %" PRIu64 " s: %s",
                                 strna(what), missing, p->n_servers, p->timeout_usec / USEC_PER_SEC, strna(list));
        else
                propagation_fail(p, -ETIME, "%s did not have the value on %zu of %zu servers: %s", strna(what), missing,
                                 p->n_servers, strna(list));
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        propagation_fail_timeout(userdata);
        return 0;
}

/* ---- polling ---- */

static void poll_round_done(DnsPropagation *p);

/* Switch to the CNAME target: the servers are asked about it from now on. */
static int propagation_follow_cname(DnsPropagation *p, const char *target) {
        char *t = NULL;
        int r;

        r = dns_name_normalize(target, &t);
        if (r < 0)
                return r;
        free(p->name);
        p->name = t;
        p->cname_followed = true;
        return 0;
}

static void poll_answer(DnsQuery *q, int error, void *userdata) {
        DnsPropagation *p = userdata;
        PolledServer *ps = NULL;
        const DnsResourceRecord *rrs[64];
        const DnsMessage *m;
        size_t n;
        unsigned rcode;

        for (size_t i = 0; i < p->n_servers && !ps; i++)
                if (p->servers[i].query == q)
                        ps = &p->servers[i];
        if (!ps)
                return;

        if (error < 0) {
                snprintf(ps->status, sizeof ps->status, "%s",
                         error == -ETIMEDOUT ? "no answer" : error == -ECONNREFUSED ? "connection refused" : strerror(-error));
                goto finish;
        }
        m = dns_query_answer(q);
        rcode = dns_message_rcode(m);
        if (rcode == DNS_RCODE_NXDOMAIN) {
                snprintf(ps->status, sizeof ps->status, "no such name");
                goto finish;
        }
        if (rcode != DNS_RCODE_NOERROR) {
                snprintf(ps->status, sizeof ps->status, "%s", strna(dns_rcode_to_string(rcode)));
                goto finish;
        }
        n = dns_answer_find(m, p->name, DNS_TYPE_TXT, rrs, ELEMENTSOF(rrs));
        if (n == 0 && !p->cname_followed) {
                const DnsResourceRecord *cname = NULL;

                if (dns_answer_find(m, p->name, DNS_TYPE_CNAME, &cname, 1) > 0 && cname->target &&
                    propagation_follow_cname(p, cname->target) >= 0) {
                        /* Ask everyone about the target, from the next round on. */
                        for (size_t i = 0; i < p->n_servers; i++) {
                                p->servers[i].seen = false;
                                snprintf(p->servers[i].status, sizeof p->servers[i].status, "not asked yet");
                        }
                        goto finish;
                }
        }
        for (size_t i = 0; i < n && i < ELEMENTSOF(rrs); i++)
                if (dns_record_txt_has(rrs[i], p->value))
                        ps->seen = true;
        if (!ps->seen)
                snprintf(ps->status, sizeof ps->status, "%s", n > 0 ? "other TXT values only" : "no TXT record");

finish:
        ps->query = dns_query_free(ps->query);
        if (--p->pending == 0)
                poll_round_done(p);
}

static int poll_round_start(DnsPropagation *p) {
        p->rounds++;
        for (size_t i = 0; i < p->n_servers; i++) {
                PolledServer *ps = &p->servers[i];
                int r;

                if (ps->seen)
                        continue;
                r = dns_query_start_question(p->event, &ps->address, p->name, DNS_TYPE_TXT, !p->discovering, &p->opts.query,
                                             poll_answer, p, &ps->query);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        snprintf(ps->status, sizeof ps->status, "cannot ask: %s", strerror(-r));
                        continue;
                }
                p->pending++;
        }
        if (p->pending == 0)
                poll_round_done(p);
        return 0;
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        DnsPropagation *p = userdata;
        int r;

        r = poll_round_start(p);
        if (r < 0)
                propagation_fail(p, r, "polling for %s: %s", p->name, strerror(-r));
        return 0;
}

static int poll_schedule(DnsPropagation *p, uint64_t delay) {
        uint64_t now;
        int r;

        r = sd_event_now(p->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        r = sd_event_source_set_time(p->poll_timer, now + delay);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(p->poll_timer, SD_EVENT_ONESHOT);
}

static void poll_round_done(DnsPropagation *p) {
        bool all = true;
        int r;

        for (size_t i = 0; i < p->n_servers; i++)
                all = all && p->servers[i].seen;
        if (all) {
                propagation_finish(p, 0);
                return;
        }
        if (p->timeout_usec == 0) {
                propagation_fail_timeout(p);
                return;
        }
        r = poll_schedule(p, p->interval);
        if (r < 0) {
                propagation_fail(p, r, "polling for %s: %s", p->name, strerror(-r));
                return;
        }
        p->interval = p->interval * 2 > p->opts.max_interval_usec ? p->opts.max_interval_usec : p->interval * 2;
}

/* Poll these servers, first round at once (from the loop). */
static int poll_begin(DnsPropagation *p, const DnsServer *servers, size_t n) {
        if (n == 0)
                return -ENODATA;
        p->servers = calloc(n, sizeof *p->servers);
        p->addresses = calloc(n, sizeof *p->addresses);
        if (!p->servers || !p->addresses)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                p->servers[i].address = p->addresses[i] = servers[i];
                snprintf(p->servers[i].status, sizeof p->servers[i].status, "not asked yet");
        }
        p->n_servers = n;
        return poll_schedule(p, 0);
}

/* ---- discovery ---- */

static int discover_soa(DnsPropagation *p);

static void discover_addresses_done(DnsResolve *res, int error, void *userdata) {
        DnsPropagation *p = userdata;
        const DnsServer *servers;
        size_t n = 0;
        int r;

        if (error < 0) {
                propagation_fail(p, error, "finding the addresses of the name servers of %s: %s", p->zone,
                                 dns_resolve_error_text(res));
                return;
        }
        servers = dns_resolve_servers(res, &n);
        r = poll_begin(p, servers, n);
        if (r < 0)
                propagation_fail(p, r, "the name servers of %s have no address", p->zone);
}

static void discover_ns_done(DnsLookup *l, int error, void *userdata) {
        DnsPropagation *p = userdata;
        const DnsResourceRecord *rrs[NS_MAX];
        char *names[NS_MAX];
        uint16_t ports[NS_MAX];
        size_t n;
        int r;

        if (error < 0) {
                propagation_fail(p, error, "asking for the name servers of %s: %s", p->zone, dns_lookup_error_text(l));
                return;
        }
        n = dns_answer_find(dns_lookup_answer(l), p->zone, DNS_TYPE_NS, rrs, ELEMENTSOF(rrs));
        if (n > ELEMENTSOF(rrs))
                n = ELEMENTSOF(rrs);
        for (size_t i = 0; i < n; i++) {
                names[i] = rrs[i]->target;
                ports[i] = p->opts.authoritative_port;
        }
        if (n == 0) {
                propagation_fail(p, -ENODATA, "the zone %s has no NS records", p->zone);
                return;
        }
        r = dns_resolve_start(p->event, p->resolvers, p->n_resolvers, names, ports, n, false, &p->opts.query,
                              discover_addresses_done, p, &p->resolve);
        if (r < 0)
                propagation_fail(p, r, "finding the addresses of the name servers of %s: %s", p->zone, strerror(-r));
}

/* An SOA record in section s whose owner is name or above it, or NULL. */
static const DnsResourceRecord *find_soa(const DnsMessage *m, DnsSection s, const char *name) {
        for (size_t i = 0; i < m->n_records[s]; i++) {
                const DnsResourceRecord *rr = &m->records[s][i];

                if (rr->type == DNS_TYPE_SOA && rr->class == DNS_CLASS_IN && dns_name_is_in_zone(name, rr->name))
                        return rr;
        }
        return NULL;
}

static void discover_soa_done(DnsLookup *l, int error, void *userdata) {
        DnsPropagation *p = userdata;
        const DnsMessage *m;
        const DnsResourceRecord *soa = NULL, *cname = NULL;
        const char *parent;
        int r;

        if (error < 0) {
                propagation_fail(p, error, "finding the zone of %s: %s", p->name, dns_lookup_error_text(l));
                return;
        }
        m = dns_lookup_answer(l);

        /* The first question is about the name itself: a CNAME there is followed, once. */
        if (!p->cname_followed && dns_name_equal(p->candidate, p->name) &&
            dns_answer_find(m, p->name, DNS_TYPE_CNAME, &cname, 1) > 0 && cname->target) {
                r = propagation_follow_cname(p, cname->target);
                if (r >= 0) {
                        free(p->candidate);
                        p->candidate = strdup(p->name);
                        r = p->candidate ? discover_soa(p) : -ENOMEM;
                }
                if (r < 0)
                        propagation_fail(p, r, "finding the zone of %s: %s", p->name, strerror(-r));
                return;
        }

        for (size_t i = 0; i < m->n_records[DNS_SECTION_ANSWER] && !soa; i++) {
                const DnsResourceRecord *rr = &m->records[DNS_SECTION_ANSWER][i];

                if (rr->type == DNS_TYPE_SOA && rr->class == DNS_CLASS_IN && dns_name_equal(rr->name, p->candidate))
                        soa = rr;
        }
        if (!soa)
                soa = find_soa(m, DNS_SECTION_AUTHORITY, p->candidate);
        if (soa && !streq(soa->name, ".")) {
                r = dns_name_normalize(soa->name, &p->zone);
                if (r >= 0) {
                        p->lookup = dns_lookup_free(p->lookup);
                        r = dns_lookup_start(p->event, p->resolvers, p->n_resolvers, p->zone, DNS_TYPE_NS, &p->opts.query,
                                             discover_ns_done, p, &p->lookup);
                }
                if (r < 0)
                        propagation_fail(p, r, "asking for the name servers of %s: %s", p->zone, strerror(-r));
                return;
        }

        /* No SOA named: try the parent, up to the top-level domain. */
        parent = dns_name_parent(p->candidate);
        if (!parent || streq(parent, ".")) {
                propagation_fail(p, -ENOENT, "finding the zone of %s: no SOA record on the way up", p->name);
                return;
        }
        char *c = strdup(parent);
        if (!c) {
                propagation_fail(p, -ENOMEM, "finding the zone of %s: %s", p->name, strerror(ENOMEM));
                return;
        }
        free(p->candidate);
        p->candidate = c;
        r = discover_soa(p);
        if (r < 0)
                propagation_fail(p, r, "finding the zone of %s: %s", p->name, strerror(-r));
}

/* Ask the resolvers for the SOA of p->candidate. Called from the lookup's own callback
 * too: the old lookup is freed first, which its callback allows. */
static int discover_soa(DnsPropagation *p) {
        p->lookup = dns_lookup_free(p->lookup);
        return dns_lookup_start(p->event, p->resolvers, p->n_resolvers, p->candidate, DNS_TYPE_SOA, &p->opts.query,
                                discover_soa_done, p, &p->lookup);
}

static void servers_resolved(DnsResolve *res, int error, void *userdata) {
        DnsPropagation *p = userdata;
        const DnsServer *servers;
        size_t n = 0;
        int r;

        if (error < 0) {
                propagation_fail(p, error, "looking up the servers to poll: %s", dns_resolve_error_text(res));
                return;
        }
        servers = dns_resolve_servers(res, &n);
        r = poll_begin(p, servers, n);
        if (r < 0)
                propagation_fail(p, r, "looking up the servers to poll: %s", strerror(-r));
}

/* ---- the object ---- */

DnsPropagation *dns_propagation_free(DnsPropagation *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_servers; i++)
                dns_query_free(p->servers[i].query);
        free(p->servers);
        free(p->addresses);
        dns_lookup_free(p->lookup);
        dns_resolve_free(p->resolve);
        sd_event_source_disable_unref(p->poll_timer);
        sd_event_source_disable_unref(p->deadline);
        sd_event_unref(p->event);
        free(p->fqdn);
        free(p->value);
        free(p->name);
        free(p->candidate);
        free(p->zone);
        free(p->resolv_conf);
        free(p->resolvers);
        free(p->error_text);
        free(p);
        return NULL;
}

/* Parse the given servers; numeric ones need no look-up. Fills hosts/ports (n). */
static int parse_servers(char *const *servers, char ***ret_hosts, uint16_t **ret_ports, bool *ret_all_numeric) {
        _cleanup_strv_free_ char **hosts = NULL;
        _cleanup_free_ uint16_t *ports = NULL;
        size_t n = strv_length(servers);
        bool numeric = true;
        int r;

        ports = calloc(n, sizeof *ports);
        hosts = calloc(n + 1, sizeof *hosts);
        if (!ports || !hosts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                DnsServer s;

                r = config_parse_dns_server(servers[i], &hosts[i], &ports[i]);
                if (r < 0)
                        return r;
                if (dns_server_from_address(hosts[i], ports[i], &s) < 0)
                        numeric = false;
        }
        *ret_hosts = TAKE_PTR(hosts);
        *ret_ports = TAKE_PTR(ports);
        *ret_all_numeric = numeric;
        return 0;
}

int dns_propagation_start_full(sd_event *e, const char *fqdn, const char *value, char *const *servers,
                               uint64_t timeout_usec, const DnsPropagationOptions *opts, DnsPropagationDone done,
                               void *userdata, DnsPropagation **ret) {
        _cleanup_(dns_propagation_freep) DnsPropagation *p = NULL;
        _cleanup_strv_free_ char **hosts = NULL;
        _cleanup_free_ uint16_t *ports = NULL;
        bool numeric = true;
        uint64_t now;
        int r, n;

        if (!e || !fqdn || !value || !done || !ret || !dns_name_parent(fqdn))
                return -EINVAL;
        if (!strv_isempty(servers)) {
                r = parse_servers(servers, &hosts, &ports, &numeric);
                if (r < 0)
                        return r;
        }

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(e);
        p->done = done;
        p->userdata = userdata;
        p->timeout_usec = timeout_usec;
        if (opts)
                p->opts = *opts;
        if (p->opts.resolv_conf) {
                p->resolv_conf = strdup(p->opts.resolv_conf);
                if (!p->resolv_conf)
                        return -ENOMEM;
        }
        p->opts.resolv_conf = NULL;
        if (p->opts.authoritative_port == 0)
                p->opts.authoritative_port = DNS_PORT;
        if (p->opts.interval_usec == 0)
                p->opts.interval_usec = PROPAGATION_INTERVAL_USEC;
        if (p->opts.max_interval_usec == 0)
                p->opts.max_interval_usec = PROPAGATION_MAX_INTERVAL_USEC;
        if (p->opts.max_interval_usec < p->opts.interval_usec)
                p->opts.max_interval_usec = p->opts.interval_usec;
        p->interval = p->opts.interval_usec;
        p->value = strdup(value);
        if (!p->value)
                return -ENOMEM;
        r = dns_name_normalize(fqdn, &p->fqdn);
        if (r < 0)
                return r;
        p->name = strdup(p->fqdn);
        p->candidate = strdup(p->fqdn);
        if (!p->name || !p->candidate)
                return -ENOMEM;

        r = sd_event_add_time(e, &p->poll_timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_poll_timer, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(p->poll_timer, "dns-propagation-poll");
        (void) sd_event_source_set_enabled(p->poll_timer, SD_EVENT_OFF);
        if (timeout_usec > 0) {
                r = sd_event_now(e, CLOCK_MONOTONIC, &now);
                if (r < 0)
                        return r;
                r = sd_event_add_time(e, &p->deadline, CLOCK_MONOTONIC,
                                      timeout_usec < UINT64_MAX - now ? now + timeout_usec : UINT64_MAX - 1, 1,
                                      on_deadline, p);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(p->deadline, "dns-propagation-deadline");
        }

        if (hosts && numeric) {
                _cleanup_free_ DnsServer *list = calloc(strv_length(hosts), sizeof *list);

                if (!list)
                        return -ENOMEM;
                for (size_t i = 0; hosts[i]; i++)
                        (void) dns_server_from_address(hosts[i], ports[i], &list[i]);
                r = poll_begin(p, list, strv_length(hosts));
        } else {
                n = dns_resolv_conf_load(p->resolv_conf, &p->resolvers);
                if (n < 0)
                        return n;
                p->n_resolvers = (size_t) n;
                if (hosts)
                        r = dns_resolve_start(e, p->resolvers, p->n_resolvers, hosts, ports, strv_length(hosts), true,
                                              &p->opts.query, servers_resolved, p, &p->resolve);
                else {
                        p->discovering = true;
                        r = discover_soa(p);
                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int dns_propagation_start(sd_event *e, const char *fqdn, const char *value, char *const *servers, uint64_t timeout_usec,
                          DnsPropagationDone done, void *userdata, DnsPropagation **ret) {
        return dns_propagation_start_full(e, fqdn, value, servers, timeout_usec, NULL, done, userdata, ret);
}

const char *dns_propagation_error_text(const DnsPropagation *p) {
        return p->error_text ?: "no error";
}

const DnsServer *dns_propagation_servers(const DnsPropagation *p, size_t *ret_n) {
        if (ret_n)
                *ret_n = p->n_servers;
        return p->addresses;
}

const char *dns_propagation_name(const DnsPropagation *p) {
        return p->name;
}
