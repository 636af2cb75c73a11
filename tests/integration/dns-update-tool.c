/* SPDX-License-Identifier: MIT */
/* A small driver of lib/dns-update and lib/dns-propagation for the integration test
 * against a real BIND (tests/integration/test-dns-rfc2136.sh). Not installed.
 *
 *   dns-update-tool add|delete SERVER KEYFILE FQDN VALUE
 *   dns-update-tool wait FQDN VALUE TIMEOUT_SEC SERVER...
 *   dns-update-tool discover FQDN VALUE TIMEOUT_SEC RESOLV_CONF AUTHORITATIVE_PORT
 *
 * Prints what happened on stdout ("zone ZONE", "visible on SERVER…") and the library's
 * error text on stderr; exits 0 on success, 1 on failure, 2 on bad usage. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "dns-propagation.h"
#include "dns-update.h"
#include "macro.h"
#include "tsig.h"

typedef struct Outcome {
        sd_event *event;
        int error;
} Outcome;

static void on_update(DnsUpdate *u, int error, void *userdata) {
        Outcome *o = userdata;

        o->error = error;
        if (error < 0)
                fprintf(stderr, "error: %s\n", dns_update_error_text(u));
        else
                printf("zone %s\n", dns_update_zone(u));
        (void) sd_event_exit(o->event, 0);
}

static void on_propagation(DnsPropagation *p, int error, void *userdata) {
        Outcome *o = userdata;
        const DnsServer *s;
        size_t n = 0;

        o->error = error;
        if (error < 0) {
                fprintf(stderr, "error: %s\n", dns_propagation_error_text(p));
        } else {
                s = dns_propagation_servers(p, &n);
                printf("visible at %s on", dns_propagation_name(p));
                for (size_t i = 0; i < n; i++) {
                        char buf[DNS_SERVER_STRING_MAX];
                        printf(" %s", dns_server_to_string(&s[i], buf));
                }
                printf("\n");
        }
        (void) sd_event_exit(o->event, 0);
}

static int parse_seconds(const char *s, uint64_t *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end || end == s || v > 86400)
                return -EINVAL;
        *ret = (uint64_t) v * USEC_PER_SEC;
        return 0;
}

static int usage(void) {
        fprintf(stderr, "usage: dns-update-tool add|delete SERVER KEYFILE FQDN VALUE\n"
                        "       dns-update-tool wait FQDN VALUE TIMEOUT_SEC SERVER...\n"
                        "       dns-update-tool discover FQDN VALUE TIMEOUT_SEC RESOLV_CONF AUTHORITATIVE_PORT\n");
        return 2;
}

int main(int argc, char **argv) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(tsig_key_freep) TsigKey *key = NULL;
        _cleanup_(dns_update_freep) DnsUpdate *u = NULL;
        _cleanup_(dns_propagation_freep) DnsPropagation *p = NULL;
        _cleanup_free_ char *error = NULL;
        Outcome o = {};
        uint64_t timeout;
        int r;

        if (argc < 2)
                return usage();
        r = sd_event_default(&e);
        if (r < 0) {
                fprintf(stderr, "error: cannot make an event loop: %s\n", strerror(-r));
                return 1;
        }
        o.event = e;

        if ((streq(argv[1], "add") || streq(argv[1], "delete")) && argc == 6) {
                r = tsig_key_load(argv[3], &key, &error);
                if (r < 0) {
                        fprintf(stderr, "error: %s\n", error ? error : strerror(-r));
                        return 1;
                }
                r = dns_update_txt(e, argv[2], key, argv[4], argv[5], streq(argv[1], "add") ? DNS_TXT_ADD : DNS_TXT_DELETE,
                                   on_update, &o, &u);
        } else if (streq(argv[1], "wait") && argc >= 6) {
                if (parse_seconds(argv[4], &timeout) < 0)
                        return usage();
                r = dns_propagation_start(e, argv[2], argv[3], argv + 5, timeout, on_propagation, &o, &p);
        } else if (streq(argv[1], "discover") && argc == 7) {
                DnsPropagationOptions opts = { .resolv_conf = argv[5] };
                unsigned long port = strtoul(argv[6], NULL, 10);

                if (parse_seconds(argv[4], &timeout) < 0 || port == 0 || port > 65535)
                        return usage();
                opts.authoritative_port = (uint16_t) port;
                r = dns_propagation_start_full(e, argv[2], argv[3], NULL, timeout, &opts, on_propagation, &o, &p);
        } else
                return usage();
        if (r < 0) {
                fprintf(stderr, "error: cannot start: %s\n", strerror(-r));
                return 1;
        }

        r = sd_event_loop(e);
        if (r < 0) {
                fprintf(stderr, "error: event loop failed: %s\n", strerror(-r));
                return 1;
        }
        return o.error < 0 ? 1 : 0;
}
