/* SPDX-License-Identifier: MIT */
#pragma once

/* What renewctl's parts share: the parsed command line, the exit statuses, and the call
 * helpers that turn every way a call can fail into one message on stderr and an exit
 * status (renewctl.c); the commands themselves are in query.c (status, list, show) and
 * actions.c (renew, reload). */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "json.h"

#define RENEWCTL_DEFAULT_SOCKET "/run/renewd/control"
#define RENEWCTL_DEFAULT_TIMEOUT_SEC 30
/* How long renew without --no-wait follows the progress at most. */
#define RENEWCTL_RENEW_WAIT_SEC (15 * 60)

enum {
        EXIT_OK = 0,
        EXIT_ATTENTION = 1,     /* a call failed, or a certificate needs attention */
        EXIT_USAGE = 2,
        EXIT_UNREACHABLE = 3,   /* no daemon at the socket, or no answer in time */
        EXIT_DENIED = 4,        /* permission denied */
        EXIT_INTERRUPTED = 130, /* SIGINT while waiting (128 + the signal: 143 for SIGTERM) */
};

typedef struct Args {
        const char *socket;
        bool socket_given;      /* --socket was given (else import-certbot uses control_socket) */
        bool json;
        uint64_t timeout_usec;
        const char *command;
        char **args;            /* the command's arguments, borrowed from argv, NULL-terminated */
        bool all, force, no_wait;
        const char *webroot, *ca, *key_type, *challenge;   /* add */
        const char *reason;                                /* revoke */
        const char *config, *dns_hook;                     /* import-certbot */
        bool dry_run;                                      /* import-certbot */
} Args;

/* Set by the SIGINT/SIGTERM handler. */
extern volatile sig_atomic_t renewctl_interrupted;

/* Connect to the daemon and send one call (parameters may be NULL). Returns 0 with the
 * connection in *ret, or prints why not and returns the exit status (> 0). */
int ctl_call(const Args *a, const char *method, const cJSON *parameters, bool more, bool oneway,
             Client **ret);

/* Read the next reply to the call made with ctl_call(), waiting until deadline
 * (client_now() based). Returns 0 with a successful reply in *ret (free it with
 * varlink_reply_done()), or prints why the call failed (an error reply from the daemon
 * named in words, a broken connection, a timeout) and returns the exit status (> 0). */
int ctl_read_reply(const Args *a, Client *c, uint64_t deadline, VarlinkReply *ret);

/* Make one call and read its single reply: ctl_call() then ctl_read_reply(), each with the
 * whole timeout. Returns 0 with a successful reply in *ret (free it with
 * varlink_reply_done()), or prints why not and returns the exit status (> 0). */
int ctl_call_simple(const Args *a, const char *method, const cJSON *parameters, VarlinkReply *ret);

/* Report a reply whose parameters are not what docs/io.renewd.varlink promises. Returns
 * EXIT_ATTENTION. */
int ctl_unexpected_reply(const Args *a, const char *what);

/* Say that memory ran out. Returns EXIT_ATTENTION. */
int ctl_oom(void);

/* Print parameters as one JSON document on stdout: indented, or on one line when compact
 * (for streams). Returns 0 or an exit status. */
int ctl_print_json(const cJSON *parameters, bool compact);

/* The commands; each returns the exit status. */
int cmd_status(const Args *a);
int cmd_list(const Args *a);
int cmd_show(const Args *a);
int cmd_renew(const Args *a);
int cmd_reload(const Args *a);
int cmd_add(const Args *a);
int cmd_remove(const Args *a);
int cmd_events(const Args *a);
int cmd_revoke(const Args *a);
/* import.c */
int cmd_import_certbot(const Args *a);
