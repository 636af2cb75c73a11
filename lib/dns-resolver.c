/* SPDX-License-Identifier: MIT */
/* resolv.conf, questions to the recursive resolvers, and host names to addresses. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>

#include "dns-resolver.h"
#include "fileio.h"

#define RESOLV_CONF_MAX (256 * 1024)
#define CNAME_HOPS_MAX 8

/* ---- resolv.conf ---- */

/* One nameserver address: "ADDR" (port 53), "[ADDR]" or "[ADDR]:PORT". */
static int resolv_conf_address(const char *s, size_t len, DnsServer *ret) {
        char buf[INET6_ADDRSTRLEN + 16];
        unsigned long port = DNS_PORT;

        if (len == 0 || len >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        if (buf[0] == '[') {
                char *close = strchr(buf, ']'), *end;

                if (!close)
                        return -EINVAL;
                *close = 0;
                if (close[1] == ':') {
                        if (close[2] < '0' || close[2] > '9')
                                return -EINVAL;
                        errno = 0;
                        port = strtoul(close + 2, &end, 10);
                        if (errno != 0 || *end || port == 0 || port > 65535)
                                return -EINVAL;
                } else if (close[1])
                        return -EINVAL;
                return dns_server_from_address(buf + 1, (uint16_t) port, ret);
        }
        return dns_server_from_address(buf, (uint16_t) port, ret);
}

int dns_resolv_conf_parse(const char *text, size_t len, DnsServer **ret) {
        _cleanup_free_ DnsServer *servers = NULL;
        const char *p = text, *end = text + len;
        size_t n = 0;

        if (!text || !ret)
                return -EINVAL;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)), *w, *a;
                size_t wlen, alen;
                DnsServer s;

                if (!eol)
                        eol = end;
                w = p;
                p = eol < end ? eol + 1 : end;

                while (w < eol && (*w == ' ' || *w == '\t'))
                        w++;
                for (wlen = 0; w + wlen < eol && w[wlen] != ' ' && w[wlen] != '\t' && w[wlen] != '\r'; wlen++)
                        ;
                if (wlen != strlen("nameserver") || memcmp(w, "nameserver", wlen) != 0)
                        continue; /* comments (# ;) and other keywords */
                a = w + wlen;
                while (a < eol && (*a == ' ' || *a == '\t'))
                        a++;
                for (alen = 0; a + alen < eol && a[alen] != ' ' && a[alen] != '\t' && a[alen] != '\r' &&
                               a[alen] != '#' && a[alen] != ';';
                     alen++)
                        ;
                if (resolv_conf_address(a, alen, &s) < 0 || n >= DNS_RESOLVERS_MAX)
                        continue;
                if (!servers) {
                        servers = calloc(DNS_RESOLVERS_MAX, sizeof *servers);
                        if (!servers)
                                return -ENOMEM;
                }
                servers[n++] = s;
        }
        *ret = TAKE_PTR(servers);
        return (int) n;
}

int dns_resolv_conf_load(const char *path, DnsServer **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ DnsServer *servers = NULL;
        size_t len = 0;
        int r, n = 0;

        if (!ret)
                return -EINVAL;
        r = read_file_at(AT_FDCWD, path ?: DNS_RESOLV_CONF_PATH, RESOLV_CONF_MAX, &text, &len);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0) {
                n = dns_resolv_conf_parse(text, len, &servers);
                if (n < 0)
                        return n;
        }
        if (n == 0) {
                servers = calloc(2, sizeof *servers);
                if (!servers)
                        return -ENOMEM;
                (void) dns_server_from_address("127.0.0.1", DNS_PORT, &servers[0]);
                (void) dns_server_from_address("::1", DNS_PORT, &servers[1]);
                n = 2;
        }
        *ret = TAKE_PTR(servers);
        return n;
}

/* ---- asking the resolvers ---- */

struct DnsLookup {
        sd_event *event;
        DnsServer *resolvers;
        size_t n_resolvers, next;
        char *name;
        uint16_t type;
        DnsQueryOptions opts;
        DnsQuery *query;
        DnsLookupDone done;
        void *userdata;
        char error_text[512];
};

static void lookup_query_done(DnsQuery *q, int error, void *userdata);

/* Start the query to the next resolver that takes it. Returns 0, or the last error
 * when none is left. */
static int lookup_next(DnsLookup *l) {
        char s[DNS_SERVER_STRING_MAX];
        int r = -EHOSTUNREACH;

        l->query = dns_query_free(l->query);
        while (l->next < l->n_resolvers) {
                const DnsServer *server = &l->resolvers[l->next++];

                r = dns_query_start_question(l->event, server, l->name, l->type, true, &l->opts, lookup_query_done, l,
                                             &l->query);
                if (r >= 0)
                        return 0;
                snprintf(l->error_text, sizeof l->error_text, "cannot ask %s: %s", dns_server_to_string(server, s),
                         strerror(-r));
        }
        return r;
}

static void lookup_query_done(DnsQuery *q, int error, void *userdata) {
        DnsLookup *l = userdata;
        char s[DNS_SERVER_STRING_MAX];
        const DnsMessage *a;
        int r;

        if (error >= 0) {
                unsigned rcode;

                a = dns_query_answer(q);
                rcode = dns_message_rcode(a);
                if (rcode == DNS_RCODE_NOERROR || rcode == DNS_RCODE_NXDOMAIN) {
                        l->done(l, 0, l->userdata);
                        return;
                }
                error = dns_rcode_to_errno(rcode);
                snprintf(l->error_text, sizeof l->error_text, "%s answered %s for %s %s",
                         dns_server_to_string(dns_query_server(q), s), strna(dns_rcode_to_string(rcode)), l->name,
                         strna(dns_type_to_string(l->type)));
        } else
                snprintf(l->error_text, sizeof l->error_text, "%s", dns_query_error_text(q));

        r = lookup_next(l);
        if (r < 0)
                l->done(l, error, l->userdata);
}

int dns_lookup_start(sd_event *e, const DnsServer *resolvers, size_t n_resolvers, const char *name, uint16_t type,
                     const DnsQueryOptions *opts, DnsLookupDone done, void *userdata, DnsLookup **ret) {
        _cleanup_(dns_lookup_freep) DnsLookup *l = NULL;
        int r;

        if (!e || !resolvers || n_resolvers == 0 || !name || !done || !ret)
                return -EINVAL;
        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->event = sd_event_ref(e);
        l->resolvers = calloc(n_resolvers, sizeof *l->resolvers);
        l->name = strdup(name);
        if (!l->resolvers || !l->name)
                return -ENOMEM;
        memcpy(l->resolvers, resolvers, n_resolvers * sizeof *resolvers);
        l->n_resolvers = n_resolvers;
        l->type = type;
        if (opts)
                l->opts = *opts;
        l->done = done;
        l->userdata = userdata;

        r = lookup_next(l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

DnsLookup *dns_lookup_free(DnsLookup *l) {
        if (!l)
                return NULL;
        dns_query_free(l->query);
        sd_event_unref(l->event);
        free(l->resolvers);
        free(l->name);
        free(l);
        return NULL;
}

const DnsMessage *dns_lookup_answer(const DnsLookup *l) {
        return l->query ? dns_query_answer(l->query) : NULL;
}

const char *dns_lookup_name(const DnsLookup *l) {
        return l->name;
}

const char *dns_lookup_error_text(const DnsLookup *l) {
        return l->error_text[0] ? l->error_text : "no error";
}

size_t dns_answer_find(const DnsMessage *m, const char *name, uint16_t type, const DnsResourceRecord **ret, size_t n) {
        const char *cur = name;

        if (!m || !name)
                return 0;
        for (unsigned hop = 0; hop <= CNAME_HOPS_MAX; hop++) {
                const char *next = NULL;
                size_t found = 0;

                for (size_t i = 0; i < m->n_records[DNS_SECTION_ANSWER]; i++) {
                        const DnsResourceRecord *rr = &m->records[DNS_SECTION_ANSWER][i];

                        if (rr->class != DNS_CLASS_IN || !dns_name_equal(rr->name, cur))
                                continue;
                        if (rr->type == type) {
                                if (found < n)
                                        ret[found] = rr;
                                found++;
                        } else if (rr->type == DNS_TYPE_CNAME && !next)
                                next = rr->target;
                }
                if (found > 0 || !next)
                        return found;
                cur = next;
        }
        return 0;
}

/* ---- host names to addresses ---- */

typedef struct ResolveHost {
        char *name;
        uint16_t port;
        DnsServer *addresses;
        size_t n_addresses;
        DnsLookup *lookups[2];  /* A, AAAA */
        int error;
        char *error_text;
} ResolveHost;

struct DnsResolve {
        sd_event *event;
        ResolveHost *hosts;
        size_t n_hosts;
        size_t pending;
        bool strict;
        sd_event_source *defer;
        DnsResolveDone done;
        void *userdata;
        DnsServer *servers;
        size_t n_servers;
        char *error_text;
};

static bool servers_contain(const DnsServer *l, size_t n, const DnsServer *s) {
        for (size_t i = 0; i < n; i++)
                if (dns_server_equal(&l[i], s))
                        return true;
        return false;
}

static int host_add_address(ResolveHost *h, const DnsServer *s) {
        DnsServer *a;

        if (servers_contain(h->addresses, h->n_addresses, s))
                return 0;
        a = reallocarray(h->addresses, h->n_addresses + 1, sizeof *a);
        if (!a)
                return -ENOMEM;
        h->addresses = a;
        a[h->n_addresses++] = *s;
        return 0;
}

/* All lookups are in: collect the addresses in host order, decide, report. */
static void resolve_finish(DnsResolve *r) {
        const ResolveHost *failed = NULL;
        size_t n_failed = 0, total = 0;
        int error = 0;

        for (size_t i = 0; i < r->n_hosts; i++) {
                total += r->hosts[i].n_addresses;
                if (r->hosts[i].n_addresses == 0 && n_failed++ == 0)
                        failed = &r->hosts[i];
        }
        if (total > 0) {
                r->servers = calloc(total, sizeof *r->servers);
                if (!r->servers)
                        error = -ENOMEM;
        }
        for (size_t i = 0; error == 0 && i < r->n_hosts; i++)
                for (size_t k = 0; k < r->hosts[i].n_addresses; k++)
                        if (!servers_contain(r->servers, r->n_servers, &r->hosts[i].addresses[k]))
                                r->servers[r->n_servers++] = r->hosts[i].addresses[k];

        if (error == 0 && failed && (r->strict || total == 0)) {
                error = failed->error < 0 ? failed->error : -ENODATA;
                if (asprintf(&r->error_text, "%s%s", strna(failed->error_text),
                             n_failed > 1 && !r->strict ? " (and the other name servers failed too)" : "") < 0)
                        r->error_text = NULL;
        }
        r->done(r, error, r->userdata);
}

static void resolve_lookup_done(DnsLookup *l, int error, void *userdata) {
        DnsResolve *r = userdata;
        ResolveHost *h = NULL;
        const DnsResourceRecord *rrs[64];
        bool aaaa = false;
        size_t n;
        int k = 0;

        for (size_t i = 0; i < r->n_hosts && !h; i++)
                for (size_t j = 0; j < 2; j++)
                        if (r->hosts[i].lookups[j] == l) {
                                h = &r->hosts[i];
                                aaaa = j == 1;
                        }
        if (!h)
                return;

        if (error < 0) {
                h->error = error;
                free(h->error_text);
                h->error_text = strdup(dns_lookup_error_text(l));
        } else {
                const DnsMessage *m = dns_lookup_answer(l);

                n = dns_answer_find(m, h->name, aaaa ? DNS_TYPE_AAAA : DNS_TYPE_A, rrs, ELEMENTSOF(rrs));
                for (size_t i = 0; i < n && i < ELEMENTSOF(rrs) && k >= 0; i++) {
                        DnsServer s = {};

                        if (aaaa) {
                                s.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(h->port),
                                                                .sin6_addr = rrs[i]->aaaa };
                                s.len = sizeof s.in6;
                        } else {
                                s.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(h->port),
                                                              .sin_addr = rrs[i]->a };
                                s.len = sizeof s.in;
                        }
                        k = host_add_address(h, &s);
                }
                if (k < 0)
                        h->error = k;
                else if (n == 0 && h->error == 0) {
                        bool nxdomain = dns_message_rcode(m) == DNS_RCODE_NXDOMAIN;

                        h->error = nxdomain ? -ENOENT : -ENODATA;
                        free(h->error_text);
                        if (asprintf(&h->error_text, "%s has no address: %s", h->name,
                                     nxdomain ? "no such name (NXDOMAIN)" : "no A or AAAA record") < 0)
                                h->error_text = NULL;
                }
        }
        if (--r->pending == 0)
                resolve_finish(r);
}

static int on_resolve_defer(sd_event_source *s, void *userdata) {
        resolve_finish(userdata);
        return 0;
}

int dns_resolve_start(sd_event *e, const DnsServer *resolvers, size_t n_resolvers, char *const *hosts,
                      const uint16_t *ports, size_t n, bool strict, const DnsQueryOptions *opts, DnsResolveDone done,
                      void *userdata, DnsResolve **ret) {
        _cleanup_(dns_resolve_freep) DnsResolve *r = NULL;
        int k;

        if (!e || !hosts || !ports || n == 0 || !done || !ret)
                return -EINVAL;
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(e);
        r->strict = strict;
        r->done = done;
        r->userdata = userdata;
        r->hosts = calloc(n, sizeof *r->hosts);
        if (!r->hosts)
                return -ENOMEM;
        r->n_hosts = n;

        for (size_t i = 0; i < n; i++) {
                ResolveHost *h = &r->hosts[i];
                DnsServer s;

                h->port = ports[i];
                h->name = strdup(hosts[i]);
                if (!h->name)
                        return -ENOMEM;
                if (dns_server_from_address(hosts[i], ports[i], &s) >= 0) {
                        k = host_add_address(h, &s);
                        if (k < 0)
                                return k;
                        continue;
                }
                if (!resolvers || n_resolvers == 0)
                        return -EINVAL;
                for (size_t j = 0; j < 2; j++) {
                        k = dns_lookup_start(e, resolvers, n_resolvers, hosts[i], j == 0 ? DNS_TYPE_A : DNS_TYPE_AAAA,
                                             opts, resolve_lookup_done, r, &h->lookups[j]);
                        if (k < 0)
                                return k;
                        r->pending++;
                }
        }
        if (r->pending == 0) {
                /* Numeric addresses only: still report from the loop. */
                k = sd_event_add_defer(e, &r->defer, on_resolve_defer, r);
                if (k < 0)
                        return k;
                (void) sd_event_source_set_description(r->defer, "dns-resolve");
                k = sd_event_source_set_enabled(r->defer, SD_EVENT_ONESHOT);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

DnsResolve *dns_resolve_free(DnsResolve *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_hosts; i++) {
                ResolveHost *h = &r->hosts[i];

                dns_lookup_free(h->lookups[0]);
                dns_lookup_free(h->lookups[1]);
                free(h->name);
                free(h->addresses);
                free(h->error_text);
        }
        free(r->hosts);
        sd_event_source_disable_unref(r->defer);
        sd_event_unref(r->event);
        free(r->servers);
        free(r->error_text);
        free(r);
        return NULL;
}

const DnsServer *dns_resolve_servers(const DnsResolve *r, size_t *ret_n) {
        if (ret_n)
                *ret_n = r->n_servers;
        return r->servers;
}

const char *dns_resolve_error_text(const DnsResolve *r) {
        return r->error_text ?: "no error";
}
