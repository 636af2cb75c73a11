/* SPDX-License-Identifier: MIT */
/* A stand-in for systemd's D-Bus API, for tests of lib/unit-reload.c.
 *
 * usage: fake-systemd LOGFILE [BUS-ADDRESS]
 *
 * Connects to BUS-ADDRESS (default: the system bus, i.e. $DBUS_SYSTEM_BUS_ADDRESS), takes
 * the name org.freedesktop.systemd1 and serves org.freedesktop.systemd1.Manager on
 * /org/freedesktop/systemd1:
 *   ReloadOrRestartUnit(s name, s mode) -> o job   appends "RELOAD <name> <mode>" to LOGFILE
 *   Subscribe(), Unsubscribe()                     JobRemoved is only sent while someone is
 *                                                  subscribed, as systemd does
 *   signal JobRemoved(u id, o job, s unit, s result)
 * What happens to a job depends on the unit's name:
 *   missing*  error org.freedesktop.systemd1.NoSuchUnit (no job)
 *   denied*   error org.freedesktop.DBus.Error.AccessDenied (no job)
 *   hang*     the job never finishes
 *   fast*     JobRemoved "done" is sent before the method reply
 *   fail*     JobRemoved "failed" after ~20 ms
 *   other     JobRemoved "done" after ~20 ms
 * Prints "READY" on stdout once the name is owned; exits on SIGTERM/SIGINT or when the
 * bus goes away. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#define JOB_DELAY_USEC 20000

typedef struct Fake {
        sd_event *event;
        sd_bus *bus;
        sd_bus_track *subscribers;
        const char *log_path;
        uint32_t last_id;
} Fake;

typedef struct PendingJob {
        Fake *fake;
        uint32_t id;
        char *unit;
        const char *result;
        sd_event_source *timer;
} PendingJob;

static bool has_prefix(const char *s, const char *p) {
        return strncmp(s, p, strlen(p)) == 0;
}

/* Append one line to the log; each line is written with a single write() on an O_APPEND
 * descriptor so a reader never sees half a line. */
static int log_call(Fake *f, const char *unit, const char *mode) {
        char *line = NULL;
        int fd, n, r = 0;

        n = asprintf(&line, "RELOAD %s %s\n", unit, mode);
        if (n < 0)
                return -ENOMEM;
        fd = open(f->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                r = -errno;
        else {
                if (write(fd, line, (size_t) n) != n)
                        r = -EIO;
                close(fd);
        }
        free(line);
        return r;
}

static int emit_job_removed(Fake *f, uint32_t id, const char *unit, const char *result) {
        char path[64];

        if (!f->subscribers || sd_bus_track_count(f->subscribers) == 0)
                return 0;
        snprintf(path, sizeof path, "/org/freedesktop/systemd1/job/%" PRIu32, id);
        return sd_bus_emit_signal(f->bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                  "JobRemoved", "uoss", id, path, unit, result);
}

static int on_job_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        PendingJob *p = userdata;

        (void) emit_job_removed(p->fake, p->id, p->unit, p->result);
        sd_event_source_unref(p->timer); /* freeing the source being dispatched is allowed */
        free(p->unit);
        free(p);
        return 0;
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        const char *unit, *mode;
        char path[64];
        uint32_t id;
        int r;

        r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        r = log_call(f, unit, mode);
        if (r < 0)
                return r;

        if (has_prefix(unit, "missing"))
                return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit",
                                         "Unit %s not found.", unit);
        if (has_prefix(unit, "denied"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied to %s.", unit);

        id = ++f->last_id;
        snprintf(path, sizeof path, "/org/freedesktop/systemd1/job/%" PRIu32, id);

        if (has_prefix(unit, "fast")) {
                r = emit_job_removed(f, id, unit, "done");
                if (r < 0)
                        return r;
        } else if (!has_prefix(unit, "hang")) {
                PendingJob *p = calloc(1, sizeof *p);

                if (!p)
                        return -ENOMEM;
                p->fake = f;
                p->id = id;
                p->unit = strdup(unit);
                p->result = has_prefix(unit, "fail") ? "failed" : "done";
                if (!p->unit) {
                        free(p);
                        return -ENOMEM;
                }
                /* The job frees itself (and its timer) when it fires; jobs still pending
                 * at exit go with the process. */
                r = sd_event_add_time_relative(f->event, &p->timer, CLOCK_MONOTONIC, JOB_DELAY_USEC, 0,
                                               on_job_timer, p);
                if (r < 0) {
                        free(p->unit);
                        free(p);
                        return r;
                }
        }
        return sd_bus_reply_method_return(m, "o", path);
}

static int method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;
        int r;

        if (!f->subscribers) {
                r = sd_bus_track_new(f->bus, &f->subscribers, NULL, NULL);
                if (r < 0)
                        return r;
        }
        r = sd_bus_track_add_sender(f->subscribers, m);
        if (r < 0)
                return r;
        if (r == 0)
                return sd_bus_error_set(error, "org.freedesktop.systemd1.AlreadySubscribed",
                                        "Client is already subscribed.");
        return sd_bus_reply_method_return(m, NULL);
}

static int method_unsubscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Fake *f = userdata;

        if (!f->subscribers || sd_bus_track_remove_sender(f->subscribers, m) <= 0)
                return sd_bus_error_set(error, "org.freedesktop.systemd1.NotSubscribed",
                                        "Client is not subscribed.");
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("ReloadOrRestartUnit", "ss", "o", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Subscribe", "", "", method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Unsubscribe", "", "", method_unsubscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

static int bus_connect(const char *address, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (!address)
                return sd_bus_open_system(ret);
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

int main(int argc, char *argv[]) {
        Fake f = {};
        sigset_t ss;
        int r;

        if (argc < 2 || argc > 3) {
                fprintf(stderr, "usage: %s LOGFILE [BUS-ADDRESS]\n", argv[0]);
                return 2;
        }
        f.log_path = argv[1];

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        r = sd_event_new(&f.event);
        if (r >= 0)
                r = sd_event_add_signal(f.event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(f.event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = bus_connect(argc > 2 ? argv[2] : NULL, &f.bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(f.bus, NULL, "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", manager_vtable, &f);
        if (r >= 0)
                r = sd_bus_request_name(f.bus, "org.freedesktop.systemd1", 0);
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(f.bus, true);
        if (r >= 0)
                r = sd_bus_attach_event(f.bus, f.event, 0);
        if (r < 0) {
                fprintf(stderr, "fake-systemd: setup failed: %s\n", strerror(-r));
                return 1;
        }

        printf("READY\n");
        fflush(stdout);

        r = sd_event_loop(f.event);
        sd_bus_track_unref(f.subscribers);
        sd_bus_flush_close_unref(f.bus);
        sd_event_unref(f.event);
        return r < 0 ? 1 : 0;
}
