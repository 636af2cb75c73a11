/* SPDX-License-Identifier: MIT */
/* Challenge solving for one renewal: routing each identifier to its method, the built-in
 * responders, and the dns-01 steps (set the record, wait until it is visible, remove it). */

#include <openssl/evp.h>
#include <stdio.h>

#include "b64url.h"
#include "challenge-http01.h"
#include "challenge-journal.h"
#include "challenge.h"
#include "dns-propagation.h"
#include "dns-update.h"
#include "hook-util.h"
#include "http01-server.h"
#include "log.h"
#include "manager.h"
#include "strv.h"
#include "tlsalpn-server.h"
#include "tsig.h"

/* One dns-01 record of this renewal: being set, being checked, or set. */
typedef struct DnsRecord {
        Challenges *ch;
        AcmeOrder *order;
        char *token;
        char *identifier;
        char *fqdn;  /* "_acme-challenge.example.com." */
        char *value; /* base64url(SHA-256(key authorization)) */
        Hook *hook;
        DnsUpdate *update;
        DnsPropagation *propagation;
        bool maybe_set;  /* the record may exist: its removal is owed */
        struct DnsRecord *next;
} DnsRecord;

/* Removing a record, after its renewal may be gone: owned by the manager. */
struct ChallengeTask {
        Manager *manager;
        char *cert_name;
        char *fqdn;
        Hook *hook;
        DnsUpdate *update;
        ChallengeTask *next;
};

struct Challenges {
        Manager *manager;
        const CertConfig *cert;
        ChallengeSolver solver;
        DnsRecord *records;
};

/* ---------------------------------------------------------------- manager tasks */

static ChallengeTask *task_free(ChallengeTask *t) {
        if (!t)
                return NULL;
        hook_free(t->hook);
        dns_update_free(t->update);
        free(t->cert_name);
        free(t->fqdn);
        free(t);
        return NULL;
}

static void task_finish(ChallengeTask *t) {
        Manager *m = t->manager;

        for (ChallengeTask **p = &m->challenge_tasks; *p; p = &(*p)->next)
                if (*p == t) {
                        *p = t->next;
                        break;
                }
        task_free(t);
        manager_check_idle(m);
}

static void on_task_hook_done(Hook *h, int result, void *userdata) {
        ChallengeTask *t = userdata;

        if (result != 0) {
                _cleanup_free_ char *how = hook_describe(h);
                log_cert_errno(LOG_WARNING, 0, t->cert_name, NULL, "dns_hook clear %s %s; the TXT record may be left.",
                               t->fqdn, strna(how));
                hook_log_output(LOG_WARNING, t->cert_name, "dns_hook", h);
        }
        task_finish(t);
}

static void on_task_update_done(DnsUpdate *u, int error, void *userdata) {
        ChallengeTask *t = userdata;

        if (error < 0)
                log_cert_errno(LOG_WARNING, error, t->cert_name, NULL, "Failed to remove the TXT record %s: %s", t->fqdn,
                               dns_update_error_text(u));
        task_finish(t);
}

void manager_challenges_done(Manager *m) {
        while (m->challenge_tasks) {
                ChallengeTask *t = m->challenge_tasks;
                m->challenge_tasks = t->next;
                log_cert_errno(LOG_WARNING, 0, t->cert_name, NULL, "Abandoned the removal of the TXT record %s.", t->fqdn);
                task_free(t);
        }
        m->http01 = http01_server_free(m->http01);
        m->tlsalpn = tlsalpn_server_free(m->tlsalpn);
}

bool manager_challenges_busy(const Manager *m) {
        return m->challenge_tasks;
}

void manager_challenges_set_http_fd(Manager *m, int fd) {
        m->http_fd = fd;
}

/* ---------------------------------------------------------------- hooks */

/* The dns_hook's argv: the configured command, then ACTION FQDN VALUE. */
static int dns_hook_start(Challenges *ch, const char *action, const char *identifier, const char *fqdn,
                          const char *value, HookDone done, void *userdata, Hook **ret) {
        const CertConfig *c = ch->cert;
        _cleanup_strv_free_ char **argv = strv_copy(c->dns_hook), **env = NULL;
        _cleanup_free_ char *domains = strv_join(c->domains, " ");
        const char *vars[][2] = {
                { "RENEWD_CERT_NAME", c->name }, { "RENEWD_DOMAINS", domains },
                { "RENEWD_ACTION", action },     { "RENEWD_IDENTIFIER", identifier },
                { "RENEWD_DNS_FQDN", fqdn },     { "RENEWD_DNS_VALUE", value },
        };
        int k;

        if (!argv || !domains || strv_extend(&argv, action) < 0 || strv_extend(&argv, fqdn) < 0 ||
            strv_extend(&argv, value) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                k = hook_env_push(&env, vars[i][0], vars[i][1]);
                if (k < 0)
                        return k;
        }
        HookParams p = {
                .argv = argv,
                .env = env,
                .timeout_usec = (uint64_t) c->hook_timeout * USEC_PER_SEC,
        };
        return hook_start(ch->manager->event, &p, done, userdata, ret);
}

/* The RFC 2136 key, read afresh each time (it may be rotated). */
static int dns_update_start_for(Challenges *ch, bool add, const char *fqdn, const char *value, DnsUpdateDone done,
                                void *userdata, DnsUpdate **ret, char **ret_error_text) {
        const CertConfig *c = ch->cert;
        _cleanup_(tsig_key_freep) TsigKey *key = NULL;
        _cleanup_free_ char *why = NULL;
        int k;

        k = tsig_key_load(c->dns_update_key_file, &key, &why);
        if (k < 0) {
                if (ret_error_text)
                        (void) asprintf(ret_error_text, "cannot use dns_update_key_file %s: %s", c->dns_update_key_file,
                                        why ? why : strerror(-k));
                return k;
        }
        k = dns_update_txt(ch->manager->event, c->dns_update_server, key, fqdn, value,
                           add ? DNS_TXT_ADD : DNS_TXT_DELETE, done, userdata, ret);
        if (k < 0 && ret_error_text)
                (void) asprintf(ret_error_text, "cannot send the update to %s: %s", c->dns_update_server, strerror(-k));
        return k;
}

/* Hand the removal of a record to the manager. */
static void dns_record_remove(Challenges *ch, const char *fqdn, const char *identifier, const char *value) {
        Manager *m = ch->manager;
        ChallengeTask *t = NULL;
        _cleanup_free_ char *error_text = NULL;
        int k;

        if (m->exiting) {
                log_cert_errno(LOG_WARNING, 0, ch->cert->name, NULL,
                               "renewd is exiting: the TXT record %s is left in place.", fqdn);
                return;
        }
        t = calloc(1, sizeof *t);
        if (!t || !(t->cert_name = strdup(ch->cert->name)) || !(t->fqdn = strdup(fqdn))) {
                task_free(t);
                log_oom();
                return;
        }
        t->manager = m;
        if (ch->cert->dns_hook)
                k = dns_hook_start(ch, "clear", identifier, fqdn, value, on_task_hook_done, t, &t->hook);
        else
                k = dns_update_start_for(ch, false, fqdn, value, on_task_update_done, t, &t->update, &error_text);
        if (k < 0) {
                log_cert_errno(LOG_WARNING, k, ch->cert->name, NULL, "Failed to remove the TXT record %s: %s", fqdn,
                               error_text ? error_text : strerror(-k));
                task_free(t);
                return;
        }
        t->next = m->challenge_tasks;
        m->challenge_tasks = t;
}

/* ---------------------------------------------------------------- dns-01 */

static DnsRecord *dns_record_free(DnsRecord *r) {
        if (!r)
                return NULL;
        hook_free(r->hook);
        dns_update_free(r->update);
        dns_propagation_free(r->propagation);
        free(r->token);
        free(r->identifier);
        free(r->fqdn);
        free(r->value);
        free(r);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(DnsRecord *, dns_record_free);

static void dns_record_failed(DnsRecord *r, int error, const char *fmt, ...) _printf_(3, 4);

/* Report a failed deploy to the order (which then cleans up, removing the record). */
static void dns_record_failed(DnsRecord *r, int error, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        acme_order_challenge_deployed(r->order, r->token, error < 0 ? error : -EIO, text);
}

static void on_propagated(DnsPropagation *p, int error, void *userdata) {
        DnsRecord *r = userdata;

        if (error < 0) {
                dns_record_failed(r, error, "%s", dns_propagation_error_text(p));
                return;
        }
        log_cert_errno(LOG_INFO, 0, r->ch->cert->name, NULL, "The TXT record %s is visible.", r->fqdn);
        acme_order_challenge_deployed(r->order, r->token, 0, NULL);
}

/* The record is set: wait until the servers that matter show it. */
static void dns_record_set(DnsRecord *r) {
        const CertConfig *c = r->ch->cert;
        int k;

        if (c->dns_propagation_timeout == 0) {
                acme_order_challenge_deployed(r->order, r->token, 0, NULL);
                return;
        }
        k = dns_propagation_start(r->ch->manager->event, r->fqdn, r->value,
                                  strv_isempty(c->dns_resolver) ? NULL : c->dns_resolver,
                                  (uint64_t) c->dns_propagation_timeout * USEC_PER_SEC, on_propagated, r,
                                  &r->propagation);
        if (k < 0)
                dns_record_failed(r, k, "cannot check that %s is visible: %s", r->fqdn, strerror(-k));
}

static void on_set_hook_done(Hook *h, int result, void *userdata) {
        DnsRecord *r = userdata;
        _cleanup_free_ char *how = hook_describe(h);
        const char *out = hook_output(h);

        if (result != 0) {
                dns_record_failed(r, result < 0 ? result : -EIO, "dns_hook set %s %s%s%s", r->fqdn, strna(how),
                                  isempty(out) ? "" : ": ", strempty(out));
                return;
        }
        hook_log_output(LOG_INFO, r->ch->cert->name, "dns_hook", h);
        dns_record_set(r);
}

static void on_set_update_done(DnsUpdate *u, int error, void *userdata) {
        DnsRecord *r = userdata;

        /* The server said no (or there was no zone): nothing to remove. A lost answer
         * leaves it open whether the update was applied. */
        switch (error) {
        case -EACCES: case -EPERM: case -EPROTO: case -EKEYREJECTED: case -ENOKEY: case -EKEYEXPIRED: case -ENOENT:
                r->maybe_set = false;
                break;
        default:
                break;
        }
        if (error < 0) {
                dns_record_failed(r, error, "%s", dns_update_error_text(u));
                return;
        }
        dns_record_set(r);
}

static int dns_deploy(Challenges *ch, AcmeOrder *o, const ChallengeSpec *c, char **ret_error_text) {
        _cleanup_(dns_record_freep) DnsRecord *r = calloc(1, sizeof *r);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        int k;

        if (!r)
                return -ENOMEM;
        r->ch = ch;
        r->order = o;
        if (EVP_Digest(c->key_authorization, strlen(c->key_authorization), md, &len, EVP_sha256(), NULL) != 1)
                return -EIO;
        if (!(r->token = strdup(c->token)) || !(r->identifier = strdup(c->identifier)) ||
            asprintf(&r->fqdn, "_acme-challenge.%s.", c->id_value) < 0 || !(r->value = b64url_encode(md, len)))
                return -ENOMEM;

        if (ch->cert->dns_hook) {
                k = dns_hook_start(ch, "set", r->identifier, r->fqdn, r->value, on_set_hook_done, r, &r->hook);
                if (k < 0 && ret_error_text)
                        (void) asprintf(ret_error_text, "cannot run dns_hook %s: %s", ch->cert->dns_hook[0],
                                        strerror(-k));
        } else
                k = dns_update_start_for(ch, true, r->fqdn, r->value, on_set_update_done, r, &r->update,
                                         ret_error_text);
        if (k < 0)
                return k;
        r->maybe_set = true;
        log_cert_errno(LOG_INFO, 0, ch->cert->name, NULL, "Setting the TXT record %s for %s.", r->fqdn, r->identifier);
        r->next = ch->records;
        ch->records = TAKE_PTR(r);
        return 1;
}

/* Stop whatever is under way for the record and have it removed. */
static void dns_cleanup(Challenges *ch, const ChallengeSpec *c) {
        for (DnsRecord **p = &ch->records; *p; p = &(*p)->next) {
                DnsRecord *r = *p;
                if (!streq(r->token, c->token))
                        continue;
                *p = r->next;
                if (r->maybe_set)
                        dns_record_remove(ch, r->fqdn, r->identifier, r->value);
                dns_record_free(r);
                return;
        }
}

/* ---------------------------------------------------------------- built-in responders */

static int manager_http01(Manager *m, Http01Server **ret) {
        struct sockaddr_storage sa;
        socklen_t len;
        int k;

        if (!m->http01) {
                if (m->http_fd >= 0) {
                        /* The server owns the socket from systemd from now on, for good. */
                        k = http01_server_new_fd(m->event, m->http_fd, &m->http01);
                        if (k >= 0) {
                                m->http_fd = -1;
                                m->http01_activated = true;
                        }
                } else {
                        k = config_parse_listen(m->config->http_listen, &sa, &len);
                        if (k >= 0)
                                k = http01_server_new(m->event, (struct sockaddr *) &sa, len, &m->http01);
                }
                if (k < 0)
                        return k;
        }
        *ret = m->http01;
        return 0;
}

static int manager_tlsalpn(Manager *m, TlsAlpnServer **ret) {
        struct sockaddr_storage sa;
        socklen_t len;
        int k;

        if (!m->tlsalpn) {
                k = config_parse_listen(m->config->tls_alpn_listen, &sa, &len);
                if (k >= 0)
                        k = tlsalpn_server_new(m->event, (struct sockaddr *) &sa, len, &m->tlsalpn);
                if (k < 0)
                        return k;
        }
        *ret = m->tlsalpn;
        return 0;
}

static int http01_deploy(Challenges *ch, const ChallengeSpec *c, char **ret_error_text) {
        Manager *m = ch->manager;
        const CertConfig *cert = ch->cert;
        Http01Server *s;
        int k;

        if (cert->webroot) {
                /* Recorded first, so a crash from here on leaves nothing behind after a restart. */
                k = challenge_journal_add(store_dir_fd(m->store), cert->webroot, c->token);
                if (k < 0)
                        return k;
                k = http01_webroot_deploy(cert->webroot, c->token, c->key_authorization);
                if (k < 0) {
                        (void) challenge_journal_remove(store_dir_fd(m->store), c->token);
                        (void) asprintf(ret_error_text, "cannot write the challenge file under %s: %s", cert->webroot,
                                        strerror(-k));
                        return k;
                }
                log_debug("%s: wrote http-01 challenge for %s under %s", cert->name, c->identifier, cert->webroot);
                return 0;
        }

        k = manager_http01(m, &s);
        if (k >= 0)
                k = http01_server_add(s, c->token, c->key_authorization);
        if (k < 0)
                (void) asprintf(ret_error_text, "the built-in responder cannot listen on %s: %s",
                                m->http_fd >= 0 ? "the socket from systemd" : m->config->http_listen, strerror(-k));
        return k;
}

static void http01_cleanup(Challenges *ch, const ChallengeSpec *c) {
        Manager *m = ch->manager;
        const CertConfig *cert = ch->cert;
        int k;

        if (!cert->webroot) {
                if (m->http01)
                        (void) http01_server_remove(m->http01, c->token);
                return;
        }
        k = http01_webroot_remove(cert->webroot, c->token);
        if (k < 0)
                log_warning_errno(k, "%s: failed to remove the http-01 challenge file for %s under %s: %m", cert->name,
                                  c->identifier, cert->webroot);
        else
                (void) challenge_journal_remove(store_dir_fd(m->store), c->token);
}

static int tlsalpn_deploy(Challenges *ch, const ChallengeSpec *c, char **ret_error_text) {
        Manager *m = ch->manager;
        TlsAlpnServer *s;
        int k;

        k = manager_tlsalpn(m, &s);
        if (k >= 0)
                k = tlsalpn_server_add(s, c->id_value, c->key_authorization);
        if (k < 0)
                (void) asprintf(ret_error_text, "the tls-alpn-01 responder cannot serve on %s: %s",
                                m->config->tls_alpn_listen, strerror(-k));
        return k;
}

static void tlsalpn_cleanup(Challenges *ch, const ChallengeSpec *c) {
        if (ch->manager->tlsalpn)
                (void) tlsalpn_server_remove(ch->manager->tlsalpn, c->id_value);
}

void manager_challenges_reset(Manager *m) {
        Http01Server *s;
        int k;

        /* A socket from systemd stays; one of our own is made again from the new address. */
        if (!m->http01_activated)
                m->http01 = http01_server_free(m->http01);
        m->tlsalpn = tlsalpn_server_free(m->tlsalpn);
        if (m->once)
                return;
        k = manager_http01(m, &s);
        if (k >= 0)
                k = http01_server_set_keep_open(s, m->config->http_keep_open);
        if (k < 0 && m->config->http_keep_open)
                log_warning_errno(k, "http_keep_open: cannot listen on %s: %m", m->config->http_listen);
}

/* ---------------------------------------------------------------- the solver */

static const char *solver_choose(void *userdata, const char *identifier) {
        Challenges *ch = userdata;
        /* The CA names identifiers as we ordered them, lower-cased like the configuration. */
        if (!strv_contains(ch->cert->domains, identifier))
                return NULL;
        return challenge_type_to_string(config_cert_challenge_for(ch->cert, identifier));
}

static int solver_deploy(void *userdata, AcmeOrder *o, const ChallengeSpec *c, char **ret_error_text) {
        Challenges *ch = userdata;

        switch (challenge_type_from_string(c->type)) {
        case CHALLENGE_HTTP01:
                return http01_deploy(ch, c, ret_error_text);
        case CHALLENGE_TLSALPN01:
                return tlsalpn_deploy(ch, c, ret_error_text);
        case CHALLENGE_DNS01:
                return dns_deploy(ch, o, c, ret_error_text);
        default:
                return -EOPNOTSUPP;
        }
}

static void solver_cleanup(void *userdata, const ChallengeSpec *c) {
        Challenges *ch = userdata;

        switch (challenge_type_from_string(c->type)) {
        case CHALLENGE_HTTP01:
                http01_cleanup(ch, c);
                break;
        case CHALLENGE_TLSALPN01:
                tlsalpn_cleanup(ch, c);
                break;
        case CHALLENGE_DNS01:
                dns_cleanup(ch, c);
                break;
        default:
                break;
        }
}

int challenges_new(Manager *m, const CertConfig *cert, Challenges **ret) {
        Challenges *ch = calloc(1, sizeof *ch);

        if (!ch)
                return -ENOMEM;
        ch->manager = m;
        ch->cert = cert;
        ch->solver = (ChallengeSolver) {
                .choose = solver_choose,
                .deploy = solver_deploy,
                .cleanup = solver_cleanup,
                .userdata = ch,
        };
        *ret = ch;
        return 0;
}

Challenges *challenges_free(Challenges *ch) {
        if (!ch)
                return NULL;
        /* The order cleaned up every record it deployed; whatever is left was never owed. */
        while (ch->records) {
                DnsRecord *r = ch->records;
                ch->records = r->next;
                dns_record_free(r);
        }
        free(ch);
        return NULL;
}

const ChallengeSolver *challenges_solver(Challenges *ch) {
        return &ch->solver;
}
