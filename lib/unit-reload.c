/* SPDX-License-Identifier: MIT */
/* Reloading systemd units over D-Bus.
 *
 * For each unit we call Manager.ReloadOrRestartUnit(name, "replace"), which returns the
 * object path of the queued job, and then wait for Manager.JobRemoved(id, job, unit,
 * result) naming that path. Three details matter:
 *
 *   - systemd only emits JobRemoved while someone is subscribed, and the bus only routes
 *     it to us once our match is installed. Both AddMatch and Subscribe are sent when the
 *     connection is set up, i.e. before any reload call on the same connection; the bus
 *     handles one connection's messages in order, so no job signal can be missed.
 *   - A fast job may be removed before systemd's reply reaches us (the signal and the
 *     reply come from the same sender, so we see them in the order they were sent).
 *     While reload calls are in flight, JobRemoved signals that match no known job are
 *     kept in a short list that each reply consults.
 *   - Callbacks never run from inside bus dispatch or from unit_reloader_reload(): a job
 *     whose units are all settled enables a defer source, and the user's callback runs
 *     from there, so it may free anything.
 *
 * Connecting: sd_bus_open_system() connects a non-blocking socket and queues the SASL
 * exchange and Hello; sd_bus_attach_event() lets the loop finish them, and calls made in
 * the meantime are queued behind Hello. Nothing here waits on the bus. */

#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "config.h" /* config_unit_name_is_valid(): one rule for config and here */
#include "strv.h"
#include "unit-reload.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"

/* JobRemoved signals of unknown jobs remembered while calls are in flight. A busy system
 * removes many jobs; the oldest are dropped beyond this. */
#define EARLY_MAX 256
/* sd-bus's own reply timeout is set a little past the job's, so the job's timer (-ETIME)
 * is what ends a call that gets no answer. */
#define CALL_TIMEOUT_SLACK_USEC (5 * USEC_PER_SEC)

typedef enum UnitState {
        UNIT_CALLING, /* ReloadOrRestartUnit sent, no reply yet */
        UNIT_WAITING, /* have the job path, waiting for JobRemoved */
        UNIT_SETTLED, /* done: error and reason say how */
} UnitState;

typedef struct UnitEntry {
        UnitReloadJob *job;
        char *name;
        char *job_path;
        sd_bus_slot *call;
        UnitState state;
        int error;
        char *reason; /* when error < 0; may be NULL after ENOMEM */
} UnitEntry;

struct UnitReloadJob {
        UnitReloader *reloader; /* NULL once detached by unit_reloader_free() */
        UnitReloadJob *prev, *next;

        UnitEntry *units;
        size_t n_units, n_unsettled;

        sd_event_source *timer;
        sd_event_source *complete;
        UnitReloadDone done;
        void *userdata;

        bool completed;
        char *error_text;
        char **failed;
};

typedef struct EarlyRemoval {
        char *path;
        char *result;
} EarlyRemoval;

struct UnitReloader {
        sd_event *event;
        sd_bus *bus;
        bool bus_dead; /* disconnected or set-up failed: reconnect on the next reload */
        sd_bus_slot *job_removed, *subscribe, *disconnect_filter;
        sd_event_source *drop_bus; /* closes a dead bus outside of bus dispatch */

        UnitReloadJob *jobs; /* not yet completed */
        size_t n_calls;      /* ReloadOrRestartUnit calls in flight, all jobs */
        EarlyRemoval early[EARLY_MAX];
        size_t n_early;
};

bool unit_name_is_valid(const char *s) {
        return s && config_unit_name_is_valid(s);
}

static void early_clear(UnitReloader *r) {
        for (size_t i = 0; i < r->n_early; i++) {
                free(r->early[i].path);
                free(r->early[i].result);
        }
        r->n_early = 0;
}

/* Remember a JobRemoved that matched no waiting unit. Losing one to ENOMEM only means that
 * unit runs into its timeout. */
static void early_add(UnitReloader *r, const char *path, const char *result) {
        _cleanup_free_ char *p = strdup(path), *res = strdup(result);

        if (!p || !res)
                return;
        if (r->n_early == EARLY_MAX) {
                free(r->early[0].path);
                free(r->early[0].result);
                memmove(r->early, r->early + 1, sizeof r->early[0] * (EARLY_MAX - 1));
                r->n_early--;
        }
        r->early[r->n_early++] = (EarlyRemoval) { TAKE_PTR(p), TAKE_PTR(res) };
}

static const char *early_find(const UnitReloader *r, const char *path) {
        for (size_t i = 0; i < r->n_early; i++)
                if (streq(r->early[i].path, path))
                        return r->early[i].result;
        return NULL;
}

/* Forget the pending call of u, if any, keeping the in-flight count right. */
static void unit_entry_drop_call(UnitEntry *u) {
        UnitReloader *r = u->job->reloader;

        if (!u->call)
                return;
        u->call = sd_bus_slot_unref(u->call);
        if (r && r->n_calls > 0 && --r->n_calls == 0)
                early_clear(r);
}

/* Settle u with error (0 = reloaded) and a printf-style reason for failures; when it was
 * the job's last unsettled unit, schedule the job's completion. */
_printf_(3, 4) static void unit_entry_settle(UnitEntry *u, int error, const char *fmt, ...) {
        UnitReloadJob *j = u->job;

        if (u->state == UNIT_SETTLED)
                return;
        /* Format first: the arguments may point into the early list, which dropping the
         * last call clears. */
        if (error < 0 && fmt) {
                va_list ap;

                va_start(ap, fmt);
                if (vasprintf(&u->reason, fmt, ap) < 0)
                        u->reason = NULL;
                va_end(ap);
        }
        unit_entry_drop_call(u);
        u->state = UNIT_SETTLED;
        u->error = error;
        if (--j->n_unsettled == 0)
                (void) sd_event_source_set_enabled(j->complete, SD_EVENT_ONESHOT);
}

/* Settle u from a job result string of JobRemoved. */
static void unit_entry_settle_result(UnitEntry *u, const char *result) {
        if (streq(result, "done"))
                unit_entry_settle(u, 0, NULL);
        else
                unit_entry_settle(u, -EIO, "job failed (result: %s)", result);
}

/* Settle every unsettled unit of every job on this reloader: the connection they depend
 * on failed. */
static void reloader_fail_all(UnitReloader *r, int error, const char *reason) {
        for (UnitReloadJob *j = r->jobs; j; j = j->next)
                for (size_t i = 0; i < j->n_units; i++)
                        unit_entry_settle(&j->units[i], error, "%s", reason);
}

/* Mark the connection unusable and close it soon, from the loop rather than from inside
 * sd-bus's dispatch of one of its messages. */
static void reloader_bus_dead(UnitReloader *r) {
        r->bus_dead = true;
        (void) sd_event_source_set_enabled(r->drop_bus, SD_EVENT_ONESHOT);
}

static void reloader_disconnect(UnitReloader *r) {
        r->job_removed = sd_bus_slot_unref(r->job_removed);
        r->subscribe = sd_bus_slot_unref(r->subscribe);
        r->disconnect_filter = sd_bus_slot_unref(r->disconnect_filter);
        if (r->bus) {
                (void) sd_bus_detach_event(r->bus);
                r->bus = sd_bus_close_unref(r->bus);
        }
        r->bus_dead = false;
        early_clear(r);
}

static int on_drop_bus(sd_event_source *s, void *userdata) {
        UnitReloader *r = userdata;

        if (r->bus_dead)
                reloader_disconnect(r);
        return 0;
}

/* JobRemoved(u id, o job, s unit, s result): settle every unit waiting for that job (two
 * jobs of ours may share one systemd job), or remember it for a reply still on its way. */
static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitReloader *r = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        bool matched = false;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;

        for (UnitReloadJob *j = r->jobs; j; j = j->next)
                for (size_t i = 0; i < j->n_units; i++) {
                        UnitEntry *u = &j->units[i];

                        if (u->state == UNIT_WAITING && streq(u->job_path, path)) {
                                unit_entry_settle_result(u, result);
                                matched = true;
                        }
                }
        if (!matched && r->n_calls > 0)
                early_add(r, path, result);
        return 0;
}

/* Map a D-Bus error reply of ReloadOrRestartUnit to an errno and a reason. */
static void unit_entry_settle_bus_error(UnitEntry *u, const sd_bus_error *e, bool connected) {
        int error;

        if (!connected)
                unit_entry_settle(u, -ECONNRESET, "connection to the bus lost");
        else if (sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                unit_entry_settle(u, -ENOENT, "no such unit");
        else if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) ||
                 sd_bus_error_has_name(e, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                unit_entry_settle(u, -EACCES, "access denied");
        else {
                error = sd_bus_error_get_errno(e);
                unit_entry_settle(u, error > 0 ? -error : -EIO, "%s: %s", strna(e->name),
                                  e->message ? e->message : "error reply");
        }
}

/* The reply to ReloadOrRestartUnit: an error settles the unit, a job path makes it wait
 * for that job (or settles it at once if the job is already gone). */
static int on_reload_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitEntry *u = userdata;
        UnitReloader *r = u->job->reloader;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *path, *result;

        /* Read before the slot (and the early list with the last call) may go. */
        if (e) {
                unit_entry_settle_bus_error(u, e, sd_bus_is_open(sd_bus_message_get_bus(m)) > 0);
                return 0;
        }
        if (sd_bus_message_read(m, "o", &path) < 0) {
                unit_entry_settle(u, -EBADMSG, "malformed reply from the service manager");
                return 0;
        }
        u->job_path = strdup(path);
        if (!u->job_path) {
                unit_entry_settle(u, -ENOMEM, "out of memory");
                return 0;
        }
        u->state = UNIT_WAITING;
        result = early_find(r, path);
        if (result)
                unit_entry_settle_result(u, result); /* drops the call */
        else
                unit_entry_drop_call(u);
        return 0;
}

/* The replies of AddMatch and Subscribe. Without either, no job would ever be seen
 * finishing: fail what is waiting and start afresh next time. */
static int on_setup_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitReloader *r = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        _cleanup_free_ char *reason = NULL;
        int error;

        if (!e || sd_bus_error_has_name(e, "org.freedesktop.systemd1.AlreadySubscribed"))
                return 0;
        error = sd_bus_error_get_errno(e);
        if (asprintf(&reason, "cannot watch for job completion: %s: %s", strna(e->name),
                     strna(e->message)) < 0)
                reason = NULL;
        reloader_fail_all(r, error > 0 ? -error : -EIO, reason ? reason : "cannot watch for job completion");
        reloader_bus_dead(r);
        return 0;
}

/* Filter on every incoming message, for sd-bus's local Disconnected signal: jobs waiting
 * on a lost connection can never finish. */
static int on_bus_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitReloader *r = userdata;

        if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Local", "Disconnected")) {
                reloader_fail_all(r, -ECONNRESET, "connection to the bus lost");
                reloader_bus_dead(r);
        }
        return 0;
}

/* Open the system bus connection (if not open) with the JobRemoved match and the
 * subscription queued first. Returns 0 or a negative errno (connection closed again). */
static int reloader_connect(UnitReloader *r) {
        int k;

        if (r->bus_dead)
                reloader_disconnect(r);
        if (r->bus)
                return 0;

        k = sd_bus_open_system(&r->bus);
        if (k < 0)
                goto fail;
        (void) sd_bus_set_description(r->bus, "unit-reload");
        /* We close the connection ourselves; no flush (which would wait) at loop exit. */
        (void) sd_bus_set_close_on_exit(r->bus, false);
        k = sd_bus_attach_event(r->bus, r->event, SD_EVENT_PRIORITY_NORMAL);
        if (k < 0)
                goto fail;
        k = sd_bus_add_filter(r->bus, &r->disconnect_filter, on_bus_message, r);
        if (k < 0)
                goto fail;
        k = sd_bus_match_signal_async(r->bus, &r->job_removed, SYSTEMD_DEST, SYSTEMD_PATH,
                                      SYSTEMD_MANAGER, "JobRemoved", on_job_removed, on_setup_reply, r);
        if (k < 0)
                goto fail;
        k = sd_bus_call_method_async(r->bus, &r->subscribe, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                     "Subscribe", on_setup_reply, r, NULL);
        if (k < 0)
                goto fail;
        return 0;
fail:
        reloader_disconnect(r);
        return k;
}

/* Send ReloadOrRestartUnit for u. */
static int unit_entry_call(UnitEntry *u, uint64_t timeout_usec) {
        UnitReloader *r = u->job->reloader;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        uint64_t call_timeout = UINT64_MAX;
        int k;

        k = sd_bus_message_new_method_call(r->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "ReloadOrRestartUnit");
        if (k < 0)
                return k;
        k = sd_bus_message_append(m, "ss", u->name, "replace");
        if (k < 0)
                return k;
        if (timeout_usec < UINT64_MAX - CALL_TIMEOUT_SLACK_USEC)
                call_timeout = timeout_usec + CALL_TIMEOUT_SLACK_USEC;
        k = sd_bus_call_async(r->bus, &u->call, m, on_reload_reply, u, call_timeout);
        if (k < 0)
                return k;
        r->n_calls++;
        return 0;
}

/* The job's deadline: whatever has not settled fails with -ETIME. */
static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        UnitReloadJob *j = userdata;

        for (size_t i = 0; i < j->n_units; i++) {
                UnitEntry *u = &j->units[i];

                unit_entry_settle(u, -ETIME, u->state == UNIT_CALLING
                                  ? "no answer from the service manager in time"
                                  : "timed out waiting for the job");
        }
        return 0;
}

/* Take the job off its reloader: cancel its calls, stop matching signals against it. */
static void job_unlink(UnitReloadJob *j) {
        UnitReloader *r = j->reloader;

        if (!r)
                return;
        for (size_t i = 0; i < j->n_units; i++)
                unit_entry_drop_call(&j->units[i]);
        if (j->prev)
                j->prev->next = j->next;
        else if (r->jobs == j)
                r->jobs = j->next;
        if (j->next)
                j->next->prev = j->prev;
        j->prev = j->next = NULL;
        j->reloader = NULL;
}

/* Collect failed units and their reasons. Returns the first failure in list order. */
static int job_summarize(UnitReloadJob *j) {
        _cleanup_strv_free_ char **failed = NULL, **texts = NULL;
        int error = 0;

        for (size_t i = 0; i < j->n_units; i++) {
                UnitEntry *u = &j->units[i];
                char *t = NULL;

                if (u->error >= 0)
                        continue;
                if (error == 0)
                        error = u->error;
                if (strv_extend(&failed, u->name) < 0)
                        return error;
                if (u->reason)
                        (void) asprintf(&t, "%s: %s", u->name, u->reason);
                else
                        (void) asprintf(&t, "%s: %s", u->name, strerror(-u->error));
                if (strv_consume(&texts, t) < 0)
                        return error;
        }
        if (texts) {
                j->error_text = strv_join(texts, "; ");
                j->failed = TAKE_PTR(failed);
        }
        return error;
}

/* The defer source enabled when the last unit settled: report once, from the loop. */
static int on_complete(sd_event_source *s, void *userdata) {
        UnitReloadJob *j = userdata;
        int error;

        if (j->completed)
                return 0;
        j->completed = true;
        (void) sd_event_source_set_enabled(j->timer, SD_EVENT_OFF);
        job_unlink(j);
        error = job_summarize(j);
        /* Last: the callback may free j. */
        j->done(j, error, j->userdata);
        return 0;
}

UnitReloadJob *unit_reload_job_free(UnitReloadJob *j) {
        if (!j)
                return NULL;
        job_unlink(j);
        (void) sd_event_source_disable_unref(j->timer);
        (void) sd_event_source_disable_unref(j->complete);
        for (size_t i = 0; i < j->n_units; i++) {
                free(j->units[i].name);
                free(j->units[i].job_path);
                free(j->units[i].reason);
        }
        free(j->units);
        free(j->error_text);
        strv_free(j->failed);
        return mfree(j);
}

/* Build the job's unit list without duplicates. */
static int job_add_units(UnitReloadJob *j, char *const *units) {
        size_t n = strv_length(units);

        j->units = calloc(n ? n : 1, sizeof *j->units);
        if (!j->units)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                bool dup = false;

                for (size_t k = 0; k < j->n_units && !dup; k++)
                        dup = streq(j->units[k].name, units[i]);
                if (dup)
                        continue;
                j->units[j->n_units] = (UnitEntry) { .job = j, .state = UNIT_CALLING };
                j->units[j->n_units].name = strdup(units[i]);
                if (!j->units[j->n_units].name)
                        return -ENOMEM;
                j->n_units++;
        }
        j->n_unsettled = j->n_units;
        return 0;
}

int unit_reloader_reload(UnitReloader *r, char *const *units, uint64_t timeout_usec,
                         UnitReloadDone done, void *userdata, UnitReloadJob **ret) {
        _cleanup_(unit_reload_job_freep) UnitReloadJob *j = NULL;
        int k;

        if (!r || !done || !ret)
                return -EINVAL;
        for (char *const *u = units; u && *u; u++)
                if (!unit_name_is_valid(*u))
                        return -EINVAL;
        if (timeout_usec == 0)
                timeout_usec = UNIT_RELOAD_DEFAULT_TIMEOUT_USEC;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->done = done;
        j->userdata = userdata;
        k = job_add_units(j, units);
        if (k < 0)
                return k;

        k = sd_event_add_defer(r->event, &j->complete, on_complete, j);
        if (k < 0)
                return k;
        (void) sd_event_source_set_description(j->complete, "unit-reload-complete");
        k = sd_event_source_set_enabled(j->complete, j->n_units == 0 ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
        if (k < 0)
                return k;
        if (timeout_usec != UINT64_MAX) {
                k = sd_event_add_time_relative(r->event, &j->timer, CLOCK_MONOTONIC, timeout_usec,
                                               10 * USEC_PER_MSEC, on_timeout, j);
                if (k < 0)
                        return k;
                (void) sd_event_source_set_description(j->timer, "unit-reload-timeout");
        }

        /* Linked first, so that a failure below unwinds the calls through job_unlink(). */
        j->reloader = r;
        j->next = r->jobs;
        if (r->jobs)
                r->jobs->prev = j;
        r->jobs = j;

        if (j->n_units > 0) {
                k = reloader_connect(r);
                if (k < 0)
                        return k;
        }
        for (size_t i = 0; i < j->n_units; i++) {
                k = unit_entry_call(&j->units[i], timeout_usec);
                if (k < 0)
                        return k;
        }

        *ret = TAKE_PTR(j);
        return 0;
}

const char *unit_reload_job_error_text(const UnitReloadJob *j) {
        return j ? j->error_text : NULL;
}

char *const *unit_reload_job_failed_units(const UnitReloadJob *j) {
        static char *const none[] = { NULL };

        return j && j->failed ? j->failed : none;
}

int unit_reloader_new(sd_event *e, UnitReloader **ret) {
        _cleanup_(unit_reloader_freep) UnitReloader *r = NULL;
        int k;

        if (!e || !ret)
                return -EINVAL;
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(e);
        k = sd_event_add_defer(e, &r->drop_bus, on_drop_bus, r);
        if (k < 0)
                return k;
        (void) sd_event_source_set_description(r->drop_bus, "unit-reload-drop-bus");
        k = sd_event_source_set_enabled(r->drop_bus, SD_EVENT_OFF);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

UnitReloader *unit_reloader_free(UnitReloader *r) {
        if (!r)
                return NULL;
        /* Detach the jobs still alive: they stay valid for their owners but go quiet. */
        while (r->jobs) {
                UnitReloadJob *j = r->jobs;

                job_unlink(j);
                (void) sd_event_source_set_enabled(j->timer, SD_EVENT_OFF);
                (void) sd_event_source_set_enabled(j->complete, SD_EVENT_OFF);
        }
        reloader_disconnect(r);
        (void) sd_event_source_disable_unref(r->drop_bus);
        sd_event_unref(r->event);
        return mfree(r);
}
