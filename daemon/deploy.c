/* SPDX-License-Identifier: MIT */
/* Deploying an installed version: copies, deploy_hook, then the unit reloads, which the
 * manager batches across certificates. */

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy.h"
#include "fileio.h"
#include "hook-util.h"
#include "install-copy.h"
#include "log.h"
#include "manager.h"
#include "ssl-util.h"
#include "strv.h"
#include "unit-reload.h"
#include "user-group.h"
#include "x509.h"

#define PEM_FILE_MAX (1024U * 1024U)
#define RELOAD_TIMEOUT_USEC (120 * USEC_PER_SEC)

struct Deployment {
        Manager *manager;
        const CertConfig *cert;
        DeploymentDone done;
        void *userdata;

        Hook *hook;
        bool before_reload;  /* counted in manager->n_deploying */
        bool waiting_reload; /* listed in manager->reload_pending or reload_running */
        bool hook_failed, reload_failed;
        int result;
        char **errors;
        char *error_text;
        sd_event_source *done_event;
};

/* A batch of unit reloads and the deployments waiting for it. */
struct ReloadBatch {
        char **units;
        Deployment **waiters;
        size_t n_waiters;
        UnitReloadJob *job;
};

static void deployment_error(Deployment *d, int error, const char *fmt, ...) _printf_(3, 4);

static void deployment_error(Deployment *d, int error, const char *fmt, ...) {
        char *text = NULL;
        va_list ap;

        if (d->result >= 0)
                d->result = error < 0 ? error : -EIO;
        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (!text || strv_consume(&d->errors, text) < 0)
                log_oom();
}

static int on_done_event(sd_event_source *s, void *userdata) {
        Deployment *d = userdata;
        d->done(d, d->result, d->userdata); /* may free d */
        return 0;
}

static void deployment_finish(Deployment *d) {
        int k;

        d->error_text = strv_join(d->errors, "; ");
        k = sd_event_add_defer(d->manager->event, &d->done_event, on_done_event, d);
        if (k < 0) {
                d->done(d, d->result, d->userdata);
                return;
        }
        (void) sd_event_source_set_description(d->done_event, "deployment-done");
        (void) sd_event_source_set_enabled(d->done_event, SD_EVENT_ONESHOT);
}

/* ---------------------------------------------------------------- reload batches */

static struct ReloadBatch *reload_batch_free(struct ReloadBatch *b) {
        if (!b)
                return NULL;
        unit_reload_job_free(b->job);
        for (size_t i = 0; i < b->n_waiters; i++)
                if (b->waiters[i])
                        b->waiters[i]->waiting_reload = false;
        strv_free(b->units);
        free(b->waiters);
        free(b);
        return NULL;
}

static void on_reload_done(UnitReloadJob *j, int error, void *userdata) {
        Manager *m = userdata;
        struct ReloadBatch *b = TAKE_PTR(m->reload_running);
        char *const *failed = unit_reload_job_failed_units(j);

        if (error < 0) {
                m->reload_failures_total++;
                log_error_errno(error, "Failed to reload units: %s", strna(unit_reload_job_error_text(j)));
        } else {
                _cleanup_free_ char *list = strv_join(b->units, " ");
                log_info("Reloaded %s.", strna(list));
        }
        for (size_t i = 0; i < b->n_waiters; i++) {
                Deployment *d = b->waiters[i];
                if (!d)
                        continue;
                b->waiters[i] = NULL;
                d->waiting_reload = false;
                for (char **u = d->cert->reload; *u; u++)
                        if (strv_contains(failed, *u)) {
                                d->reload_failed = true;
                                deployment_error(d, error, "reload of %s failed: %s", *u,
                                                 strna(unit_reload_job_error_text(j)));
                                break;
                        }
                if (error < 0 && !d->reload_failed && strv_isempty(failed)) {
                        d->reload_failed = true;
                        deployment_error(d, error, "reload failed: %s", strerror(-error));
                }
                deployment_finish(d);
        }
        reload_batch_free(b);
        /* Close the bus: subscribed to systemd's signals, an idle connection would wake
         * the daemon for every job on the system. The next batch connects again. */
        m->reloader = unit_reloader_free(m->reloader);
        manager_reloads_maybe_flush(m);
}

void manager_reloads_maybe_flush(Manager *m) {
        struct ReloadBatch *b = m->reload_pending;
        int k;

        /* Wait while a renewal could still add to the batch, or while one runs. */
        if (!b || m->reload_running || m->n_active > 0 || m->n_queue > 0 || m->n_deploying > 0)
                return;
        m->reload_pending = NULL;
        m->reload_running = b;

        if (!m->reloader) {
                k = unit_reloader_new(m->event, &m->reloader);
                if (k < 0) {
                        log_oom();
                        goto fail;
                }
        }
        k = unit_reloader_reload(m->reloader, b->units, RELOAD_TIMEOUT_USEC, on_reload_done, m, &b->job);
        if (k >= 0)
                return;
        log_error_errno(k, "Failed to ask systemd to reload units: %m");
fail:
        m->reload_failures_total++;
        for (size_t i = 0; i < b->n_waiters; i++) {
                Deployment *d = b->waiters[i];
                if (!d)
                        continue;
                b->waiters[i] = NULL;
                d->waiting_reload = false;
                d->reload_failed = true;
                deployment_error(d, k, "cannot ask systemd to reload units: %s", strerror(-k));
                deployment_finish(d);
        }
        m->reload_running = reload_batch_free(b);
}

void manager_reloads_done(Manager *m) {
        m->reload_pending = reload_batch_free(m->reload_pending);
        m->reload_running = reload_batch_free(m->reload_running);
        m->reloader = unit_reloader_free(m->reloader);
}

bool manager_reloads_busy(const Manager *m) {
        return m->reload_pending || m->reload_running;
}

/* Join the pending batch with the certificate's units. */
static int deployment_join_batch(Deployment *d) {
        Manager *m = d->manager;
        struct ReloadBatch *b = m->reload_pending;

        if (!b) {
                b = calloc(1, sizeof *b);
                if (!b)
                        return -ENOMEM;
                m->reload_pending = b;
        }
        Deployment **w = reallocarray(b->waiters, b->n_waiters + 1, sizeof *w);
        if (!w)
                return -ENOMEM;
        b->waiters = w;
        for (char **u = d->cert->reload; *u; u++)
                if (!strv_contains(b->units, *u) && strv_extend(&b->units, *u) < 0)
                        return -ENOMEM;
        b->waiters[b->n_waiters++] = d;
        d->waiting_reload = true;
        return 0;
}

/* ---------------------------------------------------------------- the steps */

static void deployment_reload(Deployment *d) {
        int k;

        if (d->before_reload) {
                d->before_reload = false;
                d->manager->n_deploying--;
        }
        if (strv_isempty(d->cert->reload)) {
                deployment_finish(d);
                manager_reloads_maybe_flush(d->manager);
                return;
        }
        k = deployment_join_batch(d);
        if (k < 0) {
                deployment_error(d, k, "cannot queue the reload: %s", strerror(-k));
                deployment_finish(d);
        }
        manager_reloads_maybe_flush(d->manager);
}

static void on_hook_done(Hook *h, int result, void *userdata) {
        Deployment *d = userdata;
        _cleanup_free_ char *how = hook_describe(h);

        if (result != 0) {
                d->hook_failed = true;
                d->manager->hook_failures_total++;
                deployment_error(d, result < 0 ? result : -EIO, "deploy_hook %s", strna(how));
                hook_log_output(LOG_WARNING, d->cert->name, "deploy_hook", h);
        } else
                hook_log_output(LOG_INFO, d->cert->name, "deploy_hook", h);
        d->hook = hook_free(d->hook);
        deployment_reload(d);
}

/* RENEWD_* for the deploy_hook: where the new version is and what it is. */
static int deploy_env(Deployment *d, const char *live, X509 *cert, char ***ret) {
        const CertConfig *c = d->cert;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *domains = strv_join(c->domains, " "), *fullchain = NULL, *privkey = NULL,
                            *serial = NULL;
        char not_after[64] = "";
        time_t t;

        if (!domains || asprintf(&fullchain, "%s/fullchain.pem", live) < 0 ||
            asprintf(&privkey, "%s/privkey.pem", live) < 0)
                return -ENOMEM;
        (void) x509_serial_hex(cert, &serial);
        if (x509_not_after(cert, &t) >= 0) {
                struct tm tm;
                if (gmtime_r(&t, &tm))
                        (void) strftime(not_after, sizeof not_after, "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        const char *vars[][2] = {
                { "RENEWD_CERT_NAME", c->name }, { "RENEWD_DOMAINS", domains },  { "RENEWD_LIVE_DIR", live },
                { "RENEWD_FULLCHAIN", fullchain }, { "RENEWD_PRIVKEY", privkey }, { "RENEWD_SERIAL", serial },
                { "RENEWD_NOT_AFTER", not_after },
        };
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                int k = hook_env_push(&env, vars[i][0], vars[i][1]);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

/* The copies, from the version live/<name> points at (resolved once, so that the key and
 * the chain come from the same version). */
static void deployment_copies(Deployment *d, const char *version_dir) {
        const CertConfig *c = d->cert;
        _cleanup_free_ char *fullchain = NULL, *key = NULL, *why = NULL, *path = NULL;
        size_t key_len = 0;
        uid_t uid = (uid_t) -1;
        gid_t gid = (gid_t) -1;
        int k;

        if (!c->install_fullchain && !c->install_key && !c->install_combined)
                return;
        if (c->install_owner && (k = user_to_uid(c->install_owner, &uid)) < 0) {
                deployment_error(d, k, "install_owner %s: %s", c->install_owner,
                                 k == -ESRCH ? "no such user" : strerror(-k));
                return;
        }
        if (c->install_group && (k = group_to_gid(c->install_group, &gid)) < 0) {
                deployment_error(d, k, "install_group %s: %s", c->install_group,
                                 k == -ESRCH ? "no such group" : strerror(-k));
                return;
        }
        if (asprintf(&path, "%s/fullchain.pem", version_dir) < 0) {
                deployment_error(d, -ENOMEM, "out of memory");
                return;
        }
        k = read_file_at(AT_FDCWD, path, PEM_FILE_MAX, &fullchain, NULL);
        if (k >= 0) {
                free(path);
                path = NULL;
                if (asprintf(&path, "%s/privkey.pem", version_dir) < 0)
                        k = -ENOMEM;
                else
                        k = read_file_at(AT_FDCWD, path, PEM_FILE_MAX, &key, &key_len);
        }
        if (k < 0) {
                deployment_error(d, k, "cannot read %s: %s", strna(path), strerror(-k));
                return;
        }
        InstallCopy ic = {
                .fullchain_path = c->install_fullchain,
                .key_path = c->install_key,
                .combined_path = c->install_combined,
                .uid = uid,
                .gid = gid,
                .mode = c->install_mode,
        };
        k = install_copy_write(&ic, fullchain, key, &why);
        explicit_bzero(key, key_len);
        if (k < 0)
                deployment_error(d, k, "install copies: %s", why ? why : strerror(-k));
        else
                log_cert_errno(LOG_INFO, 0, c->name, NULL, "Installed the extra copies.");
}

bool deployment_wanted(const CertConfig *c) {
        return c->install_fullchain || c->install_key || c->install_combined || c->deploy_hook ||
               !strv_isempty(c->reload);
}

int deployment_start(Manager *m, const CertConfig *cert, DeploymentDone done, void *userdata, Deployment **ret) {
        _cleanup_(deployment_freep) Deployment *d = NULL;
        _cleanup_free_ char *live = NULL, *version_dir = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        int k;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->manager = m;
        d->cert = cert;
        d->done = done;
        d->userdata = userdata;
        d->before_reload = true;
        m->n_deploying++;

        k = store_live_path(m->store, cert->name, &live);
        if (k < 0)
                return k;
        version_dir = realpath(live, NULL);
        k = store_load_live(m->store, cert->name, &x, NULL, NULL);
        if (!version_dir || k < 0) {
                deployment_error(d, k < 0 ? k : -errno, "cannot read the live version under %s: %s", live,
                                 strerror(k < 0 ? -k : errno));
                deployment_reload(d); /* still reload: the service may have its own copy */
                *ret = TAKE_PTR(d);
                return 0;
        }

        deployment_copies(d, version_dir);

        if (cert->deploy_hook) {
                _cleanup_strv_free_ char **env = NULL;
                k = deploy_env(d, live, x, &env);
                if (k >= 0) {
                        HookParams p = {
                                .argv = cert->deploy_hook,
                                .env = env,
                                .timeout_usec = (uint64_t) cert->hook_timeout * USEC_PER_SEC,
                        };
                        k = hook_start(m->event, &p, on_hook_done, d, &d->hook);
                }
                if (k >= 0) {
                        *ret = TAKE_PTR(d);
                        return 0;
                }
                d->hook_failed = true;
                m->hook_failures_total++;
                deployment_error(d, k, "cannot run deploy_hook %s: %s", cert->deploy_hook[0], strerror(-k));
        }
        deployment_reload(d);
        *ret = TAKE_PTR(d);
        return 0;
}

Deployment *deployment_free(Deployment *d) {
        if (!d)
                return NULL;
        if (d->before_reload)
                d->manager->n_deploying--;
        if (d->waiting_reload) {
                Manager *m = d->manager;
                struct ReloadBatch *bs[] = { m->reload_pending, m->reload_running };
                for (size_t i = 0; i < ELEMENTSOF(bs); i++)
                        for (size_t j = 0; bs[i] && j < bs[i]->n_waiters; j++)
                                if (bs[i]->waiters[j] == d)
                                        bs[i]->waiters[j] = NULL;
        }
        hook_free(d->hook);
        sd_event_source_disable_unref(d->done_event);
        strv_free(d->errors);
        free(d->error_text);
        free(d);
        return NULL;
}

const char *deployment_error_text(const Deployment *d) {
        return d->error_text ? d->error_text : "no error";
}
bool deployment_hook_failed(const Deployment *d) {
        return d->hook_failed;
}
bool deployment_reload_failed(const Deployment *d) {
        return d->reload_failed;
}
