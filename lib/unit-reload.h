/* SPDX-License-Identifier: MIT */
#pragma once

/* Reload (or restart) systemd units after a certificate changed, by talking to the
 * service manager over D-Bus (sd-bus), without systemctl or a shell.
 *
 * One UnitReloader owns one connection to the system bus, made lazily on the first reload
 * (sd_bus_open_system(), so DBUS_SYSTEM_BUS_ADDRESS is honoured) and driven by the
 * caller's sd-event loop. Nothing here waits: the connection is started on a non-blocking
 * socket, authentication and Hello run from the loop, every call is asynchronous, and a
 * reload job reports through its callback. When the bus goes away, waiting jobs fail with
 * -ECONNRESET and the next reload connects again. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct UnitReloader UnitReloader;
typedef struct UnitReloadJob UnitReloadJob;

/* Used when unit_reloader_reload() gets timeout_usec == 0 (systemd's default job timeout). */
#define UNIT_RELOAD_DEFAULT_TIMEOUT_USEC (90 * USEC_PER_SEC)

/* Called once per job, from the event loop (never from inside unit_reloader_reload()),
 * when every unit has finished or the timeout passed. error is 0 when all units were
 * reloaded, else the error of the first failed unit in the order they were given:
 *   -ENOENT   no such unit                -EACCES  access denied
 *   -EIO      the job did not end in "done" (failed, canceled, dependency, skipped, ...)
 *   -ETIME    the job had not finished when the timeout passed
 *   -ECONNRESET the bus connection was lost while waiting
 *   other     D-Bus errors mapped by sd_bus_error_get_errno()
 * unit_reload_job_error_text() says which units failed and why. The job may be freed (and
 * the reloader too) inside the callback. */
typedef void (*UnitReloadDone)(UnitReloadJob *j, int error, void *userdata);

/* Create a reloader attached to the event loop e (referenced). Does not connect yet.
 * Returns 0 or -ENOMEM. */
int unit_reloader_new(sd_event *e, UnitReloader **ret);

/* Free the reloader and close its connection. Jobs still alive are detached: they never
 * call back, and must still be freed by their owner. */
UnitReloader *unit_reloader_free(UnitReloader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitReloader *, unit_reloader_free);

/* Start reloading the units (org.freedesktop.systemd1.Manager.ReloadOrRestartUnit with
 * mode "replace", all in parallel; a unit listed twice is reloaded once). timeout_usec
 * bounds the whole job: 0 = UNIT_RELOAD_DEFAULT_TIMEOUT_USEC, UINT64_MAX = none. An
 * empty list completes with 0 without touching the bus.
 * Returns 0 with the job in *ret, -EINVAL for a malformed unit name, -ENOMEM, or the
 * error of connecting to the bus (e.g. -ENOENT when its socket does not exist). */
int unit_reloader_reload(UnitReloader *r, char *const *units, uint64_t timeout_usec,
                         UnitReloadDone done, void *userdata, UnitReloadJob **ret);

/* Stop waiting for the job and free it; its callback is not called. Units whose reload
 * was already requested are not cancelled in systemd. */
UnitReloadJob *unit_reload_job_free(UnitReloadJob *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitReloadJob *, unit_reload_job_free);

/* After completion: NULL if every unit was reloaded, else one entry per failed unit in
 * the given order, e.g. "nginx.service: job failed (result: failed); haproxy.service: no
 * such unit". Borrowed, valid until the job is freed. */
const char *unit_reload_job_error_text(const UnitReloadJob *j);

/* After completion: the names of the failed units (NULL-terminated, possibly empty; never
 * NULL). Borrowed, valid until the job is freed. */
char *const *unit_reload_job_failed_units(const UnitReloadJob *j);

/* Whether s is a unit name that can be reloaded ("name.service", "name@inst.socket", ...);
 * the same rule the configuration applies. */
bool unit_name_is_valid(const char *s);
