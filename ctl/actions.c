/* SPDX-License-Identifier: MIT */
/* The commands that change something, renew and reload. renew follows the progress
 * renewd streams (a call with "more") and prints each event as it arrives. */

#include <inttypes.h>
#include <stdio.h>

#include "format.h"
#include "renewctl.h"

/* {"names": [...]} or {"all": true}, with "force": true when asked. NULL on ENOMEM. */
static cJSON *renew_parameters(const Args *a) {
        _cleanup_json_ cJSON *p = cJSON_CreateObject();
        cJSON *names;

        if (!p)
                return NULL;
        if (a->all) {
                if (!cJSON_AddTrueToObject(p, "all"))
                        return NULL;
        } else {
                names = cJSON_AddArrayToObject(p, "names");
                if (!names)
                        return NULL;
                for (char **n = a->args; *n; n++) {
                        cJSON *s = cJSON_CreateString(*n);

                        if (!s || !cJSON_AddItemToArray(names, s)) {
                                cJSON_Delete(s);
                                return NULL;
                        }
                }
        }
        if (a->force && !cJSON_AddTrueToObject(p, "force"))
                return NULL;
        return TAKE_PTR(p);
}

/* One progress event for people: "NAME: event detail". */
static void print_event(const char *name, const char *event, const char *detail) {
        _cleanup_free_ char *n = text_sanitize(name), *e = text_sanitize(event), *d = text_sanitize(detail);

        if (!n || !e || !d)
                return;
        if (name)
                printf("%s: %s%s%s\n", n, e, detail ? " " : "", d);
        else
                printf("%s%s%s\n", e, detail ? " " : "", d);
        fflush(stdout);
}

static void print_summary(const Args *a, int64_t renewed, int64_t failed) {
        if (renewed == 0 && failed == 0)
                printf("Nothing renewed%s\n", a->force ? "." : ": nothing was due (--force renews anyway).");
        else if (failed == 0)
                printf("Renewed %" PRId64 " certificate%s.\n", renewed, renewed == 1 ? "" : "s");
        else
                printf("Renewed %" PRId64 ", failed %" PRId64 " ('renewctl show NAME' shows the error).\n",
                       renewed, failed);
}

int cmd_renew(const Args *a) {
        _cleanup_(client_freep) Client *c = NULL;
        _cleanup_json_ cJSON *params = renew_parameters(a);
        uint64_t wait_usec, deadline;
        int64_t renewed = 0, failed = 0, n;
        int r;

        if (!params)
                return ctl_oom();

        if (a->no_wait) {
                /* oneway: renewd sends nothing back, not even an error. */
                r = ctl_call(a, "io.renewd.Renew", params, false, true, &c);
                if (r > 0)
                        return r;
                if (!a->json)
                        printf("Renewal requested; 'renewctl list' shows how it goes.\n");
                return EXIT_OK;
        }

        r = ctl_call(a, "io.renewd.Renew", params, true, false, &c);
        if (r > 0)
                return r;

        /* Issuance takes as long as the CA and the challenges take: a generous bound for
         * the whole stream, not the per-reply timeout. */
        wait_usec = (uint64_t) RENEWCTL_RENEW_WAIT_SEC * USEC_PER_SEC;
        if (a->timeout_usec > wait_usec)
                wait_usec = a->timeout_usec;
        deadline = client_now() + wait_usec;

        for (;;) {
                _cleanup_(varlink_reply_done) VarlinkReply reply = {};
                const char *name = NULL, *event = NULL, *detail = NULL;

                r = ctl_read_reply(a, c, deadline, &reply);
                if (r >= EXIT_INTERRUPTED)
                        fprintf(stderr, "renewctl: renewals already started go on in renewd; "
                                        "'renewctl list' shows how they end\n");
                else if (r == EXIT_ATTENTION && failed > 0 && !a->json)
                        /* The stream ended with RenewalFailed: the tally is ours. */
                        print_summary(a, renewed, failed);
                if (r > 0)
                        return r;

                (void) json_get_string(reply.parameters, "name", &name);
                (void) json_get_string(reply.parameters, "detail", &detail);
                if (json_get_string(reply.parameters, "event", &event) < 0 && reply.continues)
                        return ctl_unexpected_reply(a, "a progress event without \"event\"");

                if (a->json) {
                        r = ctl_print_json(reply.parameters, true);
                        if (r > 0)
                                return r;
                } else if (event && (name || reply.continues))
                        print_event(name, event, detail);

                if (streq_ptr(event, "installed"))
                        renewed++;
                else if (streq_ptr(event, "failed"))
                        failed++;

                if (!reply.continues) {
                        /* The last reply may carry the totals; they beat our own count. */
                        if (json_get_int64(reply.parameters, "renewed", &n) >= 0)
                                renewed = n;
                        if (json_get_int64(reply.parameters, "failed", &n) >= 0)
                                failed = n;
                        break;
                }
        }

        if (!a->json)
                print_summary(a, renewed, failed);
        return failed > 0 ? EXIT_ATTENTION : EXIT_OK;
}

int cmd_reload(const Args *a) {
        _cleanup_(varlink_reply_done) VarlinkReply reply = {};
        int r;

        r = ctl_call_simple(a, "io.renewd.Reload", NULL, &reply);
        if (r > 0)
                return r;
        if (a->json)
                return ctl_print_json(reply.parameters, false);
        printf("Configuration reloaded.\n");
        return EXIT_OK;
}

int cmd_add(const Args *a) {
        _cleanup_(varlink_reply_done) VarlinkReply reply = {};
        _cleanup_json_ cJSON *p = cJSON_CreateObject();
        const char *file = NULL;
        cJSON *d;
        int r;

        if (!p || !cJSON_AddStringToObject(p, "name", a->args[0]) || !(d = cJSON_AddArrayToObject(p, "domains")))
                return ctl_oom();
        for (char **i = a->args + 1; *i; i++) {
                cJSON *s = cJSON_CreateString(*i);
                if (!s || !cJSON_AddItemToArray(d, s)) {
                        cJSON_Delete(s);
                        return ctl_oom();
                }
        }
        if ((a->webroot && !cJSON_AddStringToObject(p, "webroot", a->webroot)) ||
            (a->ca && !cJSON_AddStringToObject(p, "ca", a->ca)) ||
            (a->key_type && !cJSON_AddStringToObject(p, "key_type", a->key_type)) ||
            (a->challenge && !cJSON_AddStringToObject(p, "challenge", a->challenge)))
                return ctl_oom();

        r = ctl_call_simple(a, "io.renewd.Add", p, &reply);
        if (r > 0)
                return r;
        if (a->json)
                return ctl_print_json(reply.parameters, false);
        (void) json_get_string(reply.parameters, "file", &file);
        printf("Added %s (%s); renewd issues it now: renewctl show %s\n", a->args[0], file ? file : "drop-in",
               a->args[0]);
        return EXIT_OK;
}

int cmd_remove(const Args *a) {
        _cleanup_(varlink_reply_done) VarlinkReply reply = {};
        _cleanup_json_ cJSON *p = cJSON_CreateObject();
        int r;

        if (!p || !cJSON_AddStringToObject(p, "name", a->args[0]))
                return ctl_oom();
        r = ctl_call_simple(a, "io.renewd.Remove", p, &reply);
        if (r > 0)
                return r;
        if (a->json)
                return ctl_print_json(reply.parameters, false);
        printf("Removed %s; its certificate files are kept.\n", a->args[0]);
        return EXIT_OK;
}

int cmd_events(const Args *a) {
        _cleanup_(client_freep) Client *c = NULL;
        int r;

        r = ctl_call(a, "io.renewd.Subscribe", NULL, true, false, &c);
        if (r > 0)
                return r;
        if (!a->json)
                fprintf(stderr, "Following renewal events; Ctrl-C to stop.\n");

        for (;;) {
                _cleanup_(varlink_reply_done) VarlinkReply reply = {};
                const char *name = NULL, *event = NULL, *detail = NULL;

                /* Events come when renewals happen, maybe days apart: no real deadline. */
                r = ctl_read_reply(a, c, client_now() + (uint64_t) 100 * 365 * 24 * 3600 * USEC_PER_SEC, &reply);
                if (r > 0)
                        return r;
                if (json_get_string(reply.parameters, "event", &event) < 0)
                        return ctl_unexpected_reply(a, "an event without \"event\"");
                (void) json_get_string(reply.parameters, "name", &name);
                (void) json_get_string(reply.parameters, "detail", &detail);
                if (a->json) {
                        r = ctl_print_json(reply.parameters, true);
                        if (r > 0)
                                return r;
                } else
                        print_event(name, event, detail);
                fflush(stdout);
                if (!reply.continues)
                        return EXIT_OK;
        }
}

int cmd_revoke(const Args *a) {
        _cleanup_(varlink_reply_done) VarlinkReply reply = {};
        _cleanup_json_ cJSON *p = cJSON_CreateObject();
        int r;

        if (!p || !cJSON_AddStringToObject(p, "name", a->args[0]) ||
            (a->reason && !cJSON_AddStringToObject(p, "reason", a->reason)))
                return ctl_oom();
        r = ctl_call_simple(a, "io.renewd.Revoke", p, &reply);
        if (r > 0)
                return r;
        if (a->json)
                return ctl_print_json(reply.parameters, false);
        printf("Revoked %s. renewd does not replace it by itself: renewctl renew --force %s\n", a->args[0],
               a->args[0]);
        return EXIT_OK;
}
