/* SPDX-License-Identifier: MIT */
/* The control server: accepts connections, reads Varlink calls, answers them from the
 * manager's state, and streams renewal progress to Renew calls made with "more". */

#include <fcntl.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "acme-revoke.h"
#include "config.h"
#include "challenge.h"
#include "control.h"
#include "fileio.h"
#include "io.renewd.varlink.h"
#include "json.h"
#include "log.h"
#include "manager.h"
#include "renewd-config.h"
#include "store.h"
#include "user-group.h"
#include "ssl-util.h"
#include "strv.h"
#include "varlink.h"

#define CONTROL_MAX_CONNECTIONS 64   /* of users other than root */
#define CONTROL_MAX_PER_UID 16
#define CONTROL_IDLE_USEC (60 * USEC_PER_SEC)
#define CONTROL_MAX_OUTPUT (8 * 1024 * 1024)
#define CONTROL_READ_CHUNK 16384

typedef struct Conn Conn;
typedef struct RevokeOp RevokeOp;

/* A Revoke call waiting for the CA. */
struct RevokeOp {
        Conn *conn;
        AcmeClient *client;
        char *name;
        char *payload;
        AcmeRequest *req;
        bool waiting_ready;
        bool oneway;       /* the answer is dropped */
};

struct Conn {
        ControlServer *server;
        Conn *prev, *next;
        int fd;
        sd_event_source *io;
        sd_event_source *idle;
        VarlinkReader *reader;
        uid_t uid;
        bool privileged;   /* root */
        bool reader_ok;    /* root or control_group: read-only methods */
        bool discard;      /* running a oneway call: its replies are dropped */
        bool subscribed;   /* a Subscribe call: every renewal event follows, until it hangs up */
        RevokeOp *revoke;  /* a Revoke call in progress */

        char *out;
        size_t out_len, out_off;

        /* A Renew call in progress (replies are in order: nothing else is processed). */
        bool renew_active;
        bool renew_more;
        char **renew_names;     /* still running */
        unsigned renew_ok, renew_failed;
        char **renew_failed_names;
};

struct ControlServer {
        Manager *manager;
        int fd;
        bool bound;             /* we bound the path (and remove it at exit) */
        char *path;
        sd_event_source *accept_io;
        Conn *conns;
        unsigned n_conns;
        char *group_name;       /* control_group as last resolved (it changes on reload) */
        gid_t group_gid;
        bool group_ok;
};

static void revoke_op_free(RevokeOp *op);

static void conn_free(Conn *c) {
        ControlServer *s = c->server;

        revoke_op_free(c->revoke);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->idle);
        safe_close(c->fd);
        varlink_reader_free(c->reader);
        free(c->out);
        strv_free(c->renew_names);
        strv_free(c->renew_failed_names);
        free(c);
}

static unsigned conns_of_uid(ControlServer *s, uid_t uid) {
        unsigned n = 0;
        for (Conn *c = s->conns; c; c = c->next)
                n += c->uid == uid;
        return n;
}

static void conn_update_events(Conn *c) {
        uint32_t ev = EPOLLIN;
        if (c->out_len > c->out_off)
                ev |= EPOLLOUT;
        (void) sd_event_source_set_io_events(c->io, ev);
}

/* Queue a complete message (with its NUL) and try to send at once. Returns -ENOBUFS when
 * the client does not read and its queue is full: the caller drops it. */
static int conn_send(Conn *c, const char *msg, size_t len) {
        if (c->discard)
                return 0;
        /* Drop what was sent already, so the queue holds only unsent bytes. */
        if (c->out_off > 0) {
                memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                c->out_len -= c->out_off;
                c->out_off = 0;
        }
        if (c->out_len + len > CONTROL_MAX_OUTPUT)
                return -ENOBUFS;
        char *n = realloc(c->out, c->out_len + len);
        if (!n)
                return -ENOMEM;
        c->out = n;
        memcpy(c->out + c->out_len, msg, len);
        c->out_len += len;

        while (c->out_off < c->out_len) {
                ssize_t k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return negative_errno();
                }
                c->out_off += (size_t) k;
        }
        conn_update_events(c);
        return 0;
}

static int send_reply(Conn *c, cJSON *params, bool continues) {
        _cleanup_free_ char *m = NULL;
        size_t len;
        int k = varlink_reply(params, continues, &m, &len);
        return k < 0 ? k : conn_send(c, m, len);
}

static int send_error(Conn *c, const char *name, cJSON *params) {
        _cleanup_free_ char *m = NULL;
        size_t len;
        int k = varlink_error(name, params, &m, &len);
        return k < 0 ? k : conn_send(c, m, len);
}

static int send_error_string(Conn *c, const char *name, const char *key, const char *value) {
        _cleanup_json_ cJSON *p = cJSON_CreateObject();
        if (!p || !cJSON_AddStringToObject(p, key, value))
                return -ENOMEM;
        return send_error(c, name, p);
}

/* ---------------------------------------------------------------- state as JSON */

static int add_time(cJSON *o, const char *key, time_t t) {
        char buf[32];
        struct tm tm;

        if (t <= 0)
                return 0;
        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -EINVAL;
        return cJSON_AddStringToObject(o, key, buf) ? 0 : -ENOMEM;
}

static const char *cert_state_name(const ManagedCert *mc) {
        if (mc->renewal)
                return "renewing";
        if (mc->queued)
                return "due";
        if (mc->state.consecutive_failures > 0)
                return "failing";
        if (!mc->have_cert)
                return "missing";
        if (mc->next_renewal <= time(NULL))
                return "due";
        return "valid";
}

static cJSON *cert_json(const ManagedCert *mc) {
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        cJSON *d;

        if (!o || !cJSON_AddStringToObject(o, "name", mc->config->name) || !(d = cJSON_AddArrayToObject(o, "domains")))
                return NULL;
        for (char **i = mc->config->domains; *i; i++) {
                cJSON *s = cJSON_CreateString(*i);
                if (!s || !cJSON_AddItemToArray(d, s)) {
                        cJSON_Delete(s);
                        return NULL;
                }
        }
        if (!cJSON_AddStringToObject(o, "state", cert_state_name(mc)) ||
            !cJSON_AddNumberToObject(o, "consecutive_failures", mc->state.consecutive_failures))
                return NULL;
        if (mc->have_cert && add_time(o, "not_after", mc->not_after) < 0)
                return NULL;
        if (mc->timer && add_time(o, "next_renewal", mc->next_renewal) < 0)
                return NULL;
        if (mc->serial && !cJSON_AddStringToObject(o, "serial", mc->serial))
                return NULL;
        if (mc->state.last_error && !cJSON_AddStringToObject(o, "last_error", mc->state.last_error))
                return NULL;
        if (add_time(o, "last_success", mc->state.last_success) < 0 ||
            add_time(o, "last_failure", mc->state.last_failure) < 0)
                return NULL;
        if (mc->state.have_ari && (add_time(o, "ari_window_start", mc->state.ari_start) < 0 ||
                                   add_time(o, "ari_window_end", mc->state.ari_end) < 0))
                return NULL;
        return TAKE_PTR(o);
}

/* ---------------------------------------------------------------- methods */

static int method_status(Conn *c, const cJSON *params) {
        Manager *m = c->server->manager;
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        unsigned n[5] = {}; /* valid due renewing failing missing */
        static const char *const keys[5] = { "valid", "due", "renewing", "failing", "missing" };
        const ManagedCert *next = NULL;
        uint64_t now_us = 0;

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_certs; i++) {
                const ManagedCert *mc = &m->certs[i];
                const char *st = cert_state_name(mc);
                for (size_t j = 0; j < 5; j++)
                        if (streq(st, keys[j]))
                                n[j]++;
                if (mc->timer && !mc->renewal && !mc->queued && (!next || mc->next_renewal < next->next_renewal))
                        next = mc;
        }
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now_us);
        if (!cJSON_AddStringToObject(o, "version", RENEWD_VERSION) ||
            !cJSON_AddNumberToObject(o, "uptime_sec", (double) ((now_us - m->started_usec) / USEC_PER_SEC)) ||
            !cJSON_AddNumberToObject(o, "certificates", (double) m->n_certs))
                return -ENOMEM;
        for (size_t j = 0; j < 5; j++)
                if (!cJSON_AddNumberToObject(o, keys[j], n[j]))
                        return -ENOMEM;
        if (next && (add_time(o, "next_renewal", next->next_renewal) < 0 ||
                     !cJSON_AddStringToObject(o, "next_certificate", next->config->name)))
                return -ENOMEM;
        return send_reply(c, o, false);
}

static int method_list(Conn *c, const cJSON *params) {
        Manager *m = c->server->manager;
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        cJSON *a;

        if (!o || !(a = cJSON_AddArrayToObject(o, "certificates")))
                return -ENOMEM;
        for (size_t i = 0; i < m->n_certs; i++) {
                cJSON *e = cert_json(&m->certs[i]);
                if (!e || !cJSON_AddItemToArray(a, e)) {
                        cJSON_Delete(e);
                        return -ENOMEM;
                }
        }
        return send_reply(c, o, false);
}

typedef struct ShowParams {
        const char *name;
} ShowParams;

static int method_show(Conn *c, const cJSON *params) {
        static const VarlinkField fields[] = {
                { "name", VARLINK_FIELD_STRING, true, offsetof(ShowParams, name) },
        };
        ShowParams p = {};
        const char *bad = NULL;
        ManagedCert *mc;

        if (varlink_dispatch(params, fields, ELEMENTSOF(fields), &p, &bad) < 0)
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", strna(bad));
        mc = manager_find_cert(c->server->manager, p.name);
        if (!mc)
                return send_error_string(c, "io.renewd.NoSuchCertificate", "name", p.name);

        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        cJSON *e = cert_json(mc);
        if (!o || !e || !cJSON_AddItemToObject(o, "certificate", e)) {
                cJSON_Delete(e);
                return -ENOMEM;
        }
        return send_reply(c, o, false);
}

static int method_reload(Conn *c, const cJSON *params) {
        _cleanup_free_ char *error = NULL;
        int k = manager_reload(c->server->manager, &error);

        if (k < 0)
                return send_error_string(c, "io.renewd.ReloadFailed", "message", error ? error : strerror(-k));
        return send_reply(c, NULL, false);
}

#define DROPIN_MARKER "# Written by renewd (renewctl add). renewctl remove deletes it.\n"

typedef struct AddParams {
        const char *name;
        char **domains;
        const char *ca;
        const char *key_type;
        const char *challenge;
        const char *webroot;
} AddParams;

/* A value that can stand in a drop-in as "value": no control characters, no quote. */
static bool dropin_value_ok(const char *v) {
        if (isempty(v) || strlen(v) > 1024)
                return false;
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f || *p == '"')
                        return false;
        return true;
}

/* Add: write certs_dir/NAME.conf (never over an existing file) and reload; a drop-in the
 * configuration refuses is removed again and the reason returned. */
static int method_add(Conn *c, const cJSON *params) {
        static const VarlinkField fields[] = {
                { "name", VARLINK_FIELD_STRING, true, offsetof(AddParams, name) },
                { "domains", VARLINK_FIELD_STRV, true, offsetof(AddParams, domains) },
                { "ca", VARLINK_FIELD_STRING, false, offsetof(AddParams, ca) },
                { "key_type", VARLINK_FIELD_STRING, false, offsetof(AddParams, key_type) },
                { "challenge", VARLINK_FIELD_STRING, false, offsetof(AddParams, challenge) },
                { "webroot", VARLINK_FIELD_STRING, false, offsetof(AddParams, webroot) },
        };
        Manager *m = c->server->manager;
        AddParams p = {};
        const char *bad = NULL;
        _cleanup_strv_free_ char **domains = NULL;
        _cleanup_free_ char *text = NULL, *file = NULL, *error = NULL, *list = NULL;
        _cleanup_close_ int dir = -EBADF;
        int k;

        if (varlink_dispatch(params, fields, ELEMENTSOF(fields), &p, &bad) < 0)
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", strna(bad));
        domains = TAKE_PTR(p.domains);
        if (!store_name_is_valid(p.name))
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", "name");
        if (strv_isempty(domains))
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", "domains");
        for (char **i = domains; *i; i++) {
                _cleanup_free_ char *norm = NULL;
                if (config_identifier_normalize(*i, &norm) < 0)
                        return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", "domains");
        }
        if ((p.ca && !dropin_value_ok(p.ca)) || (p.key_type && !dropin_value_ok(p.key_type)) ||
            (p.challenge && !dropin_value_ok(p.challenge)) || (p.webroot && !dropin_value_ok(p.webroot)))
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", "value");
        if (manager_find_cert(m, p.name) || (m->pending_config && config_find_cert(m->pending_config, p.name)))
                return send_error_string(c, "io.renewd.CertificateExists", "name", p.name);

        list = strv_join(domains, " ");
        if (!list || asprintf(&text, DROPIN_MARKER "[certificate %s]\ndomains = %s\n%s%s%s%s%s%s%s%s%s%s%s%s", p.name,
                              list, p.ca ? "ca = \"" : "", strempty(p.ca), p.ca ? "\"\n" : "",
                              p.key_type ? "key_type = \"" : "", strempty(p.key_type), p.key_type ? "\"\n" : "",
                              p.challenge ? "challenge = \"" : "", strempty(p.challenge), p.challenge ? "\"\n" : "",
                              p.webroot ? "webroot = \"" : "", strempty(p.webroot), p.webroot ? "\"\n" : "") < 0 ||
            asprintf(&file, "%s.conf", p.name) < 0)
                return -ENOMEM;

        (void) mkdir(m->config->certs_dir, 0755);
        dir = open(m->config->certs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return send_error_string(c, "io.renewd.AddFailed", "message", strerror(errno));
        k = write_file_atomic_new(dir, file, text, strlen(text), 0644, (gid_t) -1);
        if (k == -EEXIST)
                return send_error_string(c, "io.renewd.CertificateExists", "name", p.name);
        if (k < 0)
                return send_error_string(c, "io.renewd.AddFailed", "message", strerror(-k));

        k = manager_reload(m, &error);
        if (k < 0) {
                (void) unlinkat(dir, file, 0);
                (void) fsync(dir);
                return send_error_string(c, "io.renewd.AddFailed", "message", error ? error : strerror(-k));
        }
        log_cert_errno(LOG_INFO, 0, p.name, list, "Added by renewctl (%s/%s).", m->config->certs_dir, file);
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "file", file))
                return -ENOMEM;
        return send_reply(c, o, false);
}

typedef struct RemoveParams {
        const char *name;
} RemoveParams;

/* Remove: delete the drop-in renewd wrote for NAME and reload; the certificate's files
 * stay. A certificate defined anywhere else is the administrator's to remove. */
static int method_remove(Conn *c, const cJSON *params) {
        static const VarlinkField fields[] = {
                { "name", VARLINK_FIELD_STRING, true, offsetof(RemoveParams, name) },
        };
        Manager *m = c->server->manager;
        RemoveParams p = {};
        const char *bad = NULL;
        _cleanup_free_ char *text = NULL, *error = NULL, *path = NULL;
        size_t len;
        ManagedCert *mc;
        int k;

        if (varlink_dispatch(params, fields, ELEMENTSOF(fields), &p, &bad) < 0)
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", strna(bad));
        mc = manager_find_cert(m, p.name);
        if (!mc)
                return send_error_string(c, "io.renewd.NoSuchCertificate", "name", p.name);
        path = strdup(mc->config->file);
        if (!path)
                return -ENOMEM;
        k = read_file_at(AT_FDCWD, path, 64 * 1024, &text, &len);
        if (k < 0 || !startswith(text, DROPIN_MARKER))
                return send_error_string(c, "io.renewd.NotAddedByRenewd", "file", path);
        if (unlink(path) < 0)
                return send_error_string(c, "io.renewd.RemoveFailed", "message", strerror(errno));
        k = manager_reload(m, &error);
        if (k < 0) {
                /* Put it back: the configuration without it does not load. */
                (void) write_file_atomic_new(AT_FDCWD, path, text, len, 0644, (gid_t) -1);
                return send_error_string(c, "io.renewd.RemoveFailed", "message", error ? error : strerror(-k));
        }
        log_info("%s: removed by renewctl (%s); its certificate files are kept.", p.name, path);
        return send_reply(c, NULL, false);
}

static void on_revoke_ready(AcmeClient *client, int error, void *userdata);
static void conn_process(Conn *c);
static int send_event(Conn *c, const char *name, const char *event, const char *detail);

static void revoke_op_free(RevokeOp *op) {
        if (!op)
                return;
        if (op->waiting_ready)
                acme_client_ready_cancel(op->client, on_revoke_ready, op);
        acme_request_free(op->req);
        free(op->name);
        free(op->payload);
        free(op);
}

/* The Revoke call has an answer: send it and go on with pipelined calls. */
static void revoke_finish(RevokeOp *op, const char *error_text) {
        Conn *c = op->conn;
        int k;

        c->discard = op->oneway;
        if (error_text) {
                log_cert_errno(LOG_WARNING, 0, op->name, NULL, "Revocation failed: %s", error_text);
                k = send_error_string(c, "io.renewd.RevokeFailed", "message", error_text);
        } else {
                log_cert_errno(LOG_NOTICE, 0, op->name, NULL, "Revoked at the CA (renewctl revoke).");
                k = send_reply(c, NULL, false);
        }
        c->discard = false;
        c->revoke = NULL;
        revoke_op_free(op);
        if (k < 0) {
                conn_free(c);
                return;
        }
        conn_process(c);
}

static void on_revoked(AcmeRequest *req, int error, void *userdata) {
        RevokeOp *op = userdata;
        _cleanup_free_ char *text = NULL;

        if (error < 0)
                text = strdup(acme_request_error_text(req));
        revoke_finish(op, error < 0 ? (text ? text : "out of memory") : NULL);
}

static void on_revoke_ready(AcmeClient *client, int error, void *userdata) {
        RevokeOp *op = userdata;
        const AcmeDirectory *dir;
        int k;

        op->waiting_ready = false;
        if (error < 0) {
                _cleanup_free_ char *text = strdup(acme_client_error_text(client));
                revoke_finish(op, text ? text : "out of memory");
                return;
        }
        dir = acme_client_directory(client);
        if (!dir->revoke_cert) {
                revoke_finish(op, "the CA's directory has no revokeCert");
                return;
        }
        k = acme_request_post(client, dir->revoke_cert, op->payload, 0, on_revoked, op, &op->req);
        if (k < 0)
                revoke_finish(op, strerror(-k));
}

typedef struct RevokeParams {
        const char *name;
        const char *reason;
} RevokeParams;

static int method_revoke(Conn *c, const cJSON *params) {
        static const VarlinkField fields[] = {
                { "name", VARLINK_FIELD_STRING, true, offsetof(RevokeParams, name) },
                { "reason", VARLINK_FIELD_STRING, false, offsetof(RevokeParams, reason) },
        };
        Manager *m = c->server->manager;
        RevokeParams p = {};
        const char *bad = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        ManagedCert *mc;
        ManagerCa *ca;
        RevokeOp *op;
        int reason = 0, k;

        if (varlink_dispatch(params, fields, ELEMENTSOF(fields), &p, &bad) < 0)
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", strna(bad));
        if (p.reason && (reason = acme_revocation_reason_from_string(p.reason)) < 0)
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", "reason");
        mc = manager_find_cert(m, p.name);
        if (!mc)
                return send_error_string(c, "io.renewd.NoSuchCertificate", "name", p.name);
        k = store_load_live(m->store, p.name, &cert, NULL, NULL);
        if (k < 0)
                return send_error_string(c, "io.renewd.RevokeFailed", "message",
                                         k == -ENOENT ? "there is no certificate to revoke" : strerror(-k));
        k = manager_get_ca(m, mc->config->ca, &ca);
        if (k < 0)
                return send_error_string(c, "io.renewd.RevokeFailed", "message", strerror(-k));

        op = calloc(1, sizeof *op);
        if (!op)
                return -ENOMEM;
        op->conn = c;
        op->client = ca->client;
        op->oneway = c->discard;
        if (!(op->name = strdup(p.name)) || acme_revoke_payload(cert, reason, &op->payload) < 0) {
                revoke_op_free(op);
                return -ENOMEM;
        }
        k = acme_client_ready(ca->client, on_revoke_ready, op);
        if (k < 0) {
                revoke_op_free(op);
                return send_error_string(c, "io.renewd.RevokeFailed", "message", strerror(-k));
        }
        op->waiting_ready = true;
        c->revoke = op;
        return 0;
}

typedef struct RenewParams {
        char **names;
        bool all;
        bool force;
} RenewParams;

static void conn_process(Conn *c);

/* The Renew call on c has ended: final reply, then go on with pipelined calls. */
static void renew_finish(Conn *c) {
        int k;

        c->renew_active = false;
        if (c->renew_failed > 0) {
                _cleanup_json_ cJSON *p = cJSON_CreateObject();
                cJSON *a = p ? cJSON_AddArrayToObject(p, "names") : NULL;
                for (char **i = c->renew_failed_names; a && i && *i; i++)
                        cJSON_AddItemToArray(a, cJSON_CreateString(*i));
                _cleanup_free_ char *list = strv_join(c->renew_failed_names, ", ");
                _cleanup_free_ char *msg = NULL;
                if (p && list && asprintf(&msg, "renewal failed for %s (see renewctl show NAME)", list) >= 0)
                        cJSON_AddStringToObject(p, "message", msg);
                k = p ? send_error(c, "io.renewd.RenewalFailed", p) : -ENOMEM;
        } else {
                _cleanup_json_ cJSON *p = cJSON_CreateObject();
                if (p && cJSON_AddStringToObject(p, "event", "done") && cJSON_AddNumberToObject(p, "renewed", c->renew_ok) &&
                    cJSON_AddNumberToObject(p, "failed", c->renew_failed))
                        k = send_reply(c, p, false);
                else
                        k = -ENOMEM;
        }
        c->renew_names = strv_free(c->renew_names);
        c->renew_failed_names = strv_free(c->renew_failed_names);
        if (k < 0) {
                conn_free(c);
                return;
        }
        conn_process(c);
}

static int method_renew(Conn *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = {
                { "names", VARLINK_FIELD_STRV, false, offsetof(RenewParams, names) },
                { "all", VARLINK_FIELD_BOOL, false, offsetof(RenewParams, all) },
                { "force", VARLINK_FIELD_BOOL, false, offsetof(RenewParams, force) },
        };
        Manager *m = c->server->manager;
        RenewParams p = {};
        const char *bad = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int k;

        if (varlink_dispatch(call->parameters, fields, ELEMENTSOF(fields), &p, &bad) < 0)
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", strna(bad));
        names = TAKE_PTR(p.names);
        if (p.all == !strv_isempty(names)) {
                /* Exactly one of: some names, or all. */
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", p.all ? "all" : "names");
        }
        if (p.all)
                for (size_t i = 0; i < m->n_certs; i++)
                        if (strv_extend(&names, m->certs[i].config->name) < 0)
                                return -ENOMEM;
        for (char **i = names; i && *i; i++)
                if (!manager_find_cert(m, *i))
                        return send_error_string(c, "io.renewd.NoSuchCertificate", "name", *i);

        if (!call->oneway) {
                c->renew_active = true;
                c->renew_more = call->more;
                c->renew_ok = c->renew_failed = 0;
        }
        for (char **i = names; i && *i; i++) {
                ManagedCert *mc = manager_find_cert(m, *i);
                bool running = mc->renewal || mc->queued;

                if (!running && !p.force && !managed_cert_urgent_reason(mc) && mc->next_renewal > time(NULL)) {
                        if (c->renew_active && c->renew_more) {
                                k = send_event(c, *i, "not-due", NULL);
                                if (k < 0)
                                        return k;
                        }
                        continue;
                }
                if (c->renew_active && strv_extend(&c->renew_names, *i) < 0)
                        return -ENOMEM;
                if (!running) {
                        mc->force = p.force;
                        manager_enqueue(m, mc);
                }
        }
        if (c->renew_active && strv_isempty(c->renew_names))
                renew_finish(c);
        return 1; /* the reply (if any) comes later */
}

static int method_get_info(Conn *c, const cJSON *params) {
        static char *const interfaces[] = { (char *) "io.renewd", NULL };
        _cleanup_json_ cJSON *o = NULL;
        int k = varlink_get_info_build("renewd", "renewd", RENEWD_VERSION, "https://github.com/renewd/renewd",
                                       interfaces, &o);
        return k < 0 ? k : send_reply(c, o, false);
}

typedef struct DescParams {
        const char *interface;
} DescParams;

static int method_get_interface_description(Conn *c, const cJSON *params) {
        static const VarlinkField fields[] = {
                { "interface", VARLINK_FIELD_STRING, true, offsetof(DescParams, interface) },
        };
        DescParams p = {};
        const char *bad = NULL, *text;

        if (varlink_dispatch(params, fields, ELEMENTSOF(fields), &p, &bad) < 0)
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", strna(bad));
        if (streq(p.interface, "io.renewd"))
                text = io_renewd_varlink;
        else if (streq(p.interface, VARLINK_SERVICE_INTERFACE))
                text = varlink_service_interface_description;
        else
                return send_error_string(c, VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", p.interface);
        _cleanup_json_ cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "description", text))
                return -ENOMEM;
        return send_reply(c, o, false);
}

typedef struct Method {
        const char *name;
        bool read_only;   /* control_group may call it */
        int (*call)(Conn *c, const cJSON *params);
} Method;

static const Method methods[] = {
        { "io.renewd.Status", true, method_status },
        { "io.renewd.List", true, method_list },
        { "io.renewd.Show", true, method_show },
        { "io.renewd.Reload", false, method_reload },
        { "io.renewd.Add", false, method_add },
        { "io.renewd.Remove", false, method_remove },
        { "io.renewd.Revoke", false, method_revoke },
        { "org.varlink.service.GetInfo", true, method_get_info },
        { "org.varlink.service.GetInterfaceDescription", true, method_get_interface_description },
};

/* Handle one call. Returns < 0 when the connection must go. */
static int conn_dispatch(Conn *c, const VarlinkCall *call) {
        bool renew = streq(call->method, "io.renewd.Renew");
        bool subscribe = streq(call->method, "io.renewd.Subscribe");
        const Method *method = NULL;
        int k;

        for (size_t i = 0; i < ELEMENTSOF(methods); i++)
                if (streq(call->method, methods[i].name))
                        method = &methods[i];
        if (subscribe) {
                if (!c->reader_ok)
                        return call->oneway ? 0 : send_error_string(c, "io.renewd.PermissionDenied", "method", call->method);
                if (!call->more)
                        return call->oneway ? 0 : send_error(c, VARLINK_ERROR_EXPECTED_MORE, NULL);
                if (cJSON_GetArraySize(call->parameters) > 0)
                        return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter",
                                                 call->parameters->child->string);
                c->subscribed = true;
                return 0;
        }
        if (!method && !renew) {
                if (call->oneway)
                        return 0;
                if (startswith(call->method, "io.renewd.") || startswith(call->method, "org.varlink.service."))
                        return send_error_string(c, VARLINK_ERROR_METHOD_NOT_FOUND, "method", call->method);
                /* The interface is the name up to the method's last dot. */
                _cleanup_free_ char *interface = strndup(call->method, strrchr(call->method, '.') - call->method);
                if (!interface)
                        return -ENOMEM;
                return send_error_string(c, VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", interface);
        }
        if (call->upgrade)
                return send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", "upgrade");
        if (!(renew ? c->privileged : method->read_only ? c->reader_ok : c->privileged)) {
                log_info("Refused %s from uid %u: not permitted.", call->method, (unsigned) c->uid);
                return call->oneway ? 0 : send_error_string(c, "io.renewd.PermissionDenied", "method", call->method);
        }
        if (renew)
                return method_renew(c, call);
        /* Every method but Renew and Subscribe answers once: "more" is allowed and simply
         * gets that one reply, without "continues". */
        if (call->oneway) {
                /* Run it, drop the reply. */
                c->discard = true;
                k = method->call(c, call->parameters);
                c->discard = false;
                return k;
        }
        return method->call(c, call->parameters);
}

/* Process buffered calls until one needs to wait (a Renew in progress) or none is left. */
static void conn_process(Conn *c) {
        while (!c->renew_active && !c->subscribed && !c->revoke) {
                _cleanup_json_ cJSON *msg = NULL;
                VarlinkCall call = {};
                int k;

                k = varlink_reader_next(c->reader, &msg);
                if (k == 0)
                        return;
                if (k < 0) {
                        log_debug_errno(k, "Dropping control client (uid %u): bad message: %m", (unsigned) c->uid);
                        (void) send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter",
                                                 k == -E2BIG ? "message too large" : "malformed message");
                        conn_free(c);
                        return;
                }
                k = varlink_call_parse(msg, &call);
                if (k < 0) {
                        (void) send_error_string(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", "malformed call");
                        conn_free(c);
                        return;
                }
                k = conn_dispatch(c, &call);
                varlink_call_done(&call);
                if (k < 0) {
                        log_debug_errno(k, "Dropping control client (uid %u): %m", (unsigned) c->uid);
                        conn_free(c);
                        return;
                }
        }
}

static void conn_touch(Conn *c);

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata) {
        Conn *c = userdata;
        if (c->renew_active || c->subscribed) {
                conn_touch(c);
                return 0;
        }
        log_debug("Dropping idle control client (uid %u).", (unsigned) c->uid);
        conn_free(c);
        return 0;
}

static void conn_touch(Conn *c) {
        uint64_t now = 0;
        (void) sd_event_now(sd_event_source_get_event(c->idle), CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(c->idle, now + CONTROL_IDLE_USEC);
        (void) sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;

        if (revents & EPOLLOUT) {
                while (c->out_off < c->out_len) {
                        ssize_t k = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
                        if (k < 0) {
                                if (errno == EAGAIN || errno == EINTR)
                                        break;
                                conn_free(c);
                                return 0;
                        }
                        c->out_off += (size_t) k;
                }
                conn_update_events(c);
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                char buf[CONTROL_READ_CHUNK];
                ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (k <= 0) {
                        conn_free(c); /* closed (or failed): a pending Renew goes on without it */
                        return 0;
                }
                conn_touch(c);
                if (varlink_reader_feed(c->reader, buf, (size_t) k) < 0) {
                        conn_free(c);
                        return 0;
                }
                conn_process(c);
        }
        return 0;
}

static bool peer_in_group(int fd, gid_t primary, gid_t want) {
        gid_t groups[256];
        socklen_t len = sizeof groups;

        if (primary == want)
                return true;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false;
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == want)
                        return true;
        return false;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ControlServer *srv = userdata;
        Manager *m = srv->manager;
        _cleanup_close_ int cfd = -EBADF;
        struct ucred cred;
        socklen_t len = sizeof cred;
        Conn *c;
        int k;

        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return 0;
        /* root keeps its own slots: other users filling the total cannot lock it out. */
        if ((cred.uid != 0 && srv->n_conns - conns_of_uid(srv, 0) >= CONTROL_MAX_CONNECTIONS) ||
            conns_of_uid(srv, cred.uid) >= CONTROL_MAX_PER_UID) {
                log_debug("Refusing a control connection from uid %u: too many connections.", (unsigned) cred.uid);
                return 0; /* closes cfd */
        }

        c = calloc(1, sizeof *c);
        if (!c)
                return 0;
        c->server = srv;
        c->uid = cred.uid;
        c->privileged = cred.uid == 0;
        c->reader_ok = c->privileged;
        if (!c->reader_ok && m->config->control_group) {
                /* Resolved once per configured name, not for every connection: a group
                 * database look-up may go over the network. */
                if (!streq_ptr(srv->group_name, m->config->control_group)) {
                        free(srv->group_name);
                        srv->group_name = strdup(m->config->control_group);
                        srv->group_ok = group_to_gid(m->config->control_group, &srv->group_gid) >= 0;
                        if (!srv->group_ok)
                                log_warning("control_group %s does not exist; only root may use the control socket.",
                                            m->config->control_group);
                }
                if (srv->group_ok)
                        c->reader_ok = peer_in_group(cfd, cred.gid, srv->group_gid);
        }
        c->fd = TAKE_FD(cfd);
        c->next = srv->conns;
        if (srv->conns)
                srv->conns->prev = c;
        srv->conns = c;
        srv->n_conns++;

        if ((k = varlink_reader_new(0, &c->reader)) < 0 ||
            (k = sd_event_add_io(m->event, &c->io, c->fd, EPOLLIN, on_conn_io, c)) < 0 ||
            (k = sd_event_add_time_relative(m->event, &c->idle, CLOCK_MONOTONIC, CONTROL_IDLE_USEC, USEC_PER_SEC,
                                            on_idle, c)) < 0) {
                log_warning_errno(k, "Failed to set up a control connection: %m");
                conn_free(c);
                return 0;
        }
        (void) sd_event_source_set_description(c->io, "control-connection");
        (void) sd_event_source_set_description(c->idle, "control-idle");
        return 0;
}

static int listen_socket(ControlServer *s, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        /* A stale socket of an earlier run is replaced; anything else is left alone. */
        if (lstat(path, &st) >= 0 && S_ISSOCK(st.st_mode))
                (void) unlink(path);
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                (void) mkdir(dir, 0755);
        }
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        /* Who may do what is decided per call from SO_PEERCRED, so anyone may connect. */
        if (chmod(path, 0666) < 0 || listen(fd, SOMAXCONN) < 0)
                return negative_errno();
        s->bound = true;
        return TAKE_FD(fd);
}

int control_server_new(Manager *m, ControlServer **ret) {
        _cleanup_(control_server_freep) ControlServer *s = NULL;
        int k, n;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->fd = -EBADF;

        /* Sockets from systemd: the Unix one is ours, a TCP one serves http-01
         * (renewd-http.socket). */
        n = sd_listen_fds(true);
        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0 && s->fd < 0)
                        s->fd = fd;
                else if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) > 0 && m->http_fd < 0)
                        manager_challenges_set_http_fd(m, fd);
                else {
                        log_warning("Ignoring socket %d from systemd: not a listening Unix or TCP stream socket.", fd);
                        safe_close(fd);
                        continue;
                }
                (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        }
        if (s->fd < 0) {
                s->path = strdup(m->config->control_socket);
                if (!s->path)
                        return -ENOMEM;
                s->fd = listen_socket(s, s->path);
                if (s->fd < 0)
                        return log_error_errno(s->fd, "Failed to listen on %s: %m", s->path);
        }
        k = sd_event_add_io(m->event, &s->accept_io, s->fd, EPOLLIN, on_accept, s);
        if (k < 0)
                return log_error_errno(k, "Failed to watch the control socket: %m");
        (void) sd_event_source_set_description(s->accept_io, "control-accept");
        *ret = TAKE_PTR(s);
        return 0;
}

ControlServer *control_server_free(ControlServer *s) {
        if (!s)
                return NULL;
        while (s->conns)
                conn_free(s->conns);
        sd_event_source_disable_unref(s->accept_io);
        safe_close(s->fd);
        if (s->bound && s->path)
                (void) unlink(s->path);
        free(s->path);
        free(s->group_name);
        free(s);
        return NULL;
}

/* One progress event ({"name", "event", "detail"}) as a reply with "continues". */
static int send_event(Conn *c, const char *name, const char *event, const char *detail) {
        _cleanup_json_ cJSON *e = cJSON_CreateObject();

        if (!e || !cJSON_AddStringToObject(e, "name", name) || !cJSON_AddStringToObject(e, "event", event) ||
            (detail && !cJSON_AddStringToObject(e, "detail", detail)))
                return -ENOMEM;
        return send_reply(c, e, true);
}

void control_renewal_event(ControlServer *s, const char *name, const char *event, const char *detail) {
        bool end = streq(event, "installed") || streq(event, "failed");
        Conn *next;

        if (!s)
                return;
        for (Conn *c = s->conns; c; c = next) {
                next = c->next;
                if (c->subscribed) {
                        if (send_event(c, name, event, detail) < 0)
                                conn_free(c);
                        continue;
                }
                if (!c->renew_active || !strv_contains(c->renew_names, name))
                        continue;
                if (c->renew_more && send_event(c, name, event, detail) < 0) {
                        conn_free(c);
                        continue;
                }
                if (!end)
                        continue;
                if (streq(event, "installed"))
                        c->renew_ok++;
                else {
                        c->renew_failed++;
                        (void) strv_extend(&c->renew_failed_names, name);
                }
                strv_remove(c->renew_names, name);
                if (strv_isempty(c->renew_names))
                        renew_finish(c);
        }
}

void control_certificates_reset(ControlServer *s) {
        Conn *next;

        if (!s)
                return;
        for (Conn *c = s->conns; c; c = next) {
                next = c->next;
                if (!c->renew_active)
                        continue;
                c->renew_active = false;
                c->renew_names = strv_free(c->renew_names);
                if (send_error_string(c, "io.renewd.RenewalFailed", "message",
                                      "the configuration was reloaded before the renewal ran") < 0) {
                        conn_free(c);
                        continue;
                }
                conn_process(c);
        }
}
