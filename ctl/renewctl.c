/* SPDX-License-Identifier: MIT */
/* renewctl: the command line, the table of commands, and what every failure of a call
 * means to the user (one message, one exit status). The commands are in query.c,
 * actions.c and import.c, the connection in client.c. renewctl knows renewd only through
 * the Varlink protocol (lib/varlink.h) and the interface in docs/io.renewd.varlink. */

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "format.h"
#include "renewctl.h"
#include "renewd-config.h"
#include "strv.h"

volatile sig_atomic_t renewctl_interrupted = 0;

typedef struct Command {
        const char *name;
        int (*run)(const Args *a);      /* NULL: not supported yet */
        size_t min_args, max_args;
        bool read_only;                 /* allowed to the control group, not only root */
} Command;

static const Command commands[] = {
        { "status", cmd_status, 0, 0, true },
        { "list", cmd_list, 0, 0, true },
        { "show", cmd_show, 1, 1, true },
        { "renew", cmd_renew, 0, SIZE_MAX, false },
        { "reload", cmd_reload, 0, 0, false },
        { "add", cmd_add, 2, SIZE_MAX, false },
        { "remove", cmd_remove, 1, 1, false },
        { "revoke", cmd_revoke, 1, 1, false },
        { "events", cmd_events, 0, 0, true },
        { "import-certbot", cmd_import_certbot, 0, 1, false },
};

static const Command *command_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

static void help(void) {
        printf("Usage: renewctl [OPTIONS] COMMAND [ARGS]\n\n"
               "Query and control renewd, the ACME certificate renewal daemon, over its control socket.\n\n"
               "Commands:\n"
               "  status                   the daemon: version, uptime, certificates by state,\n"
               "                           next renewal\n"
               "  list                     every certificate: domains, state, expiry, next renewal,\n"
               "                           last error\n"
               "  show NAME                one certificate in full\n"
               "  renew NAME...|--all      renew now those that are due, showing the progress until\n"
               "                           every renewal has ended\n"
               "      --force              renew even if not due\n"
               "      --no-wait            only ask for the renewal and exit\n"
               "  reload                   make renewd re-read its configuration\n"
               "  add NAME DOMAIN...       manage a new certificate (written as certs_dir/NAME.conf)\n"
               "      --webroot DIR        http-01 through this web root\n"
               "      --ca NAME, --key-type TYPE, --challenge TYPE\n"
               "                           instead of the [defaults]\n"
               "  remove NAME              stop managing a certificate added with add (its files stay)\n"
               "  events                   follow every renewal event as it happens (Ctrl-C stops)\n"
               "  revoke NAME              revoke the certificate at the CA (renewd does not replace\n"
               "                           it: renew --force NAME, or remove NAME)\n"
               "      --reason R           unspecified (default), keyCompromise, affiliationChanged,\n"
               "                           superseded, cessationOfOperation, privilegeWithdrawn\n"
               "  import-certbot [DIR]     take over certbot's certificates (DIR: /etc/letsencrypt) without\n"
               "                           issuing new ones: writes certs_dir/NAME.conf for each lineage,\n"
               "                           installs its certificate, then asks renewd to reload\n"
               "      --config PATH        renewd's configuration (default %s)\n"
               "      --dns-hook PROGRAM   the dns_hook of lineages certbot validates with dns-01\n"
               "      --dry-run            print the drop-ins, change nothing\n\n"
               "Options:\n"
               "      --socket PATH        the control socket (default %s;\n"
               "                           @NAME for an abstract socket)\n"
               "      --json               print renewd's replies as JSON: one document per reply,\n"
               "                           one line per progress event for renew\n"
               "      --timeout SECONDS    give up when renewd has not answered within SECONDS\n"
               "                           (default %d; renew follows its progress for up to %d min)\n"
               "      --version            print the version\n"
               "  -h, --help               print this help\n\n"
               "Exit status:\n"
               "  0    all fine\n"
               "  1    a call failed; or, for status and list, a certificate is failing, due,\n"
               "       missing, expired or inside its renewal window (needs attention); for\n"
               "       import-certbot, a certificate was skipped\n"
               "  2    usage error, or a command this version does not support yet\n"
               "  3    renewd cannot be reached at the socket, or did not answer in time\n"
               "  4    permission denied: renew and reload need root; status, list and show need\n"
               "       root or membership in renewd's control_group\n"
               "  130  interrupted by SIGINT (143: SIGTERM); a renewal already started goes on\n",
               RENEWD_DEFAULT_CONFIG, RENEWCTL_DEFAULT_SOCKET, RENEWCTL_DEFAULT_TIMEOUT_SEC,
               RENEWCTL_RENEW_WAIT_SEC / 60);
}

enum {
        ARG_SOCKET = 0x100,
        ARG_JSON,
        ARG_TIMEOUT,
        ARG_VERSION,
        ARG_ALL,
        ARG_FORCE,
        ARG_NO_WAIT,
        ARG_WEBROOT,
        ARG_CA,
        ARG_KEY_TYPE,
        ARG_CHALLENGE,
        ARG_REASON,
        ARG_CONFIG,
        ARG_DNS_HOOK,
        ARG_DRY_RUN,
};

static int parse_timeout(const char *s, uint64_t *ret) {
        char *end = NULL;
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !isfinite(d) || d <= 0 || d > 7 * 24 * 3600)
                return -EINVAL;
        *ret = (uint64_t) (d * (double) USEC_PER_SEC);
        return 0;
}

/* Returns 1 to run a command, 0 to exit successfully (--help, --version), or an exit
 * status as a negative number after printing why the command line is wrong. Options may
 * come before or after the command (getopt permutes); a bad one is reported only once the
 * command is known, so "renewctl revoke NAME --reason R" says that revoke is not
 * supported yet rather than that --reason is unknown. */
static int parse_args(int argc, char **argv, Args *a) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "json", no_argument, NULL, ARG_JSON },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                { "all", no_argument, NULL, ARG_ALL },
                { "force", no_argument, NULL, ARG_FORCE },
                { "no-wait", no_argument, NULL, ARG_NO_WAIT },
                { "webroot", required_argument, NULL, ARG_WEBROOT },
                { "ca", required_argument, NULL, ARG_CA },
                { "key-type", required_argument, NULL, ARG_KEY_TYPE },
                { "challenge", required_argument, NULL, ARG_CHALLENGE },
                { "reason", required_argument, NULL, ARG_REASON },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "dns-hook", required_argument, NULL, ARG_DNS_HOOK },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                {},
        };
        char bad[256] = "";
        const char *renew_only = NULL, *add_only = NULL, *revoke_only = NULL, *import_only = NULL;
        const Command *cmd;
        size_t n;
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case ARG_SOCKET:
                        if (isempty(optarg)) {
                                snprintf(bad, sizeof(bad), "--socket needs a path");
                                break;
                        }
                        a->socket = optarg;
                        a->socket_given = true;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case ARG_TIMEOUT:
                        if (parse_timeout(optarg, &a->timeout_usec) < 0)
                                snprintf(bad, sizeof(bad), "invalid --timeout '%s' (seconds, more than 0)", optarg);
                        break;
                case ARG_VERSION:
                        printf("renewctl %s\n", RENEWD_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                case ARG_ALL:
                        a->all = true;
                        renew_only = "--all";
                        break;
                case ARG_FORCE:
                        a->force = true;
                        renew_only = "--force";
                        break;
                case ARG_NO_WAIT:
                        a->no_wait = true;
                        renew_only = "--no-wait";
                        break;
                case ARG_WEBROOT:
                        a->webroot = optarg;
                        add_only = "--webroot";
                        break;
                case ARG_CA:
                        a->ca = optarg;
                        add_only = "--ca";
                        break;
                case ARG_KEY_TYPE:
                        a->key_type = optarg;
                        add_only = "--key-type";
                        break;
                case ARG_CHALLENGE:
                        a->challenge = optarg;
                        add_only = "--challenge";
                        break;
                case ARG_REASON:
                        a->reason = optarg;
                        revoke_only = "--reason";
                        break;
                case ARG_CONFIG:
                        if (isempty(optarg)) {
                                snprintf(bad, sizeof(bad), "--config needs a path");
                                break;
                        }
                        a->config = optarg;
                        import_only = "--config";
                        break;
                case ARG_DNS_HOOK:
                        if (isempty(optarg)) {
                                snprintf(bad, sizeof(bad), "--dns-hook needs a program");
                                break;
                        }
                        a->dns_hook = optarg;
                        import_only = "--dns-hook";
                        break;
                case ARG_DRY_RUN:
                        a->dry_run = true;
                        import_only = "--dry-run";
                        break;
                case ':':
                        snprintf(bad, sizeof(bad), "option '%s' needs an argument", argv[optind - 1]);
                        break;
                default:
                        if (optopt != 0)
                                snprintf(bad, sizeof(bad), "unknown option '-%c'", optopt);
                        else
                                snprintf(bad, sizeof(bad), "unknown option '%s'", argv[optind - 1]);
                        break;
                }
        }

        if (optind >= argc) {
                fprintf(stderr, "renewctl: %s\n", bad[0] ? bad : "no command given; see 'renewctl --help'");
                return -EXIT_USAGE;
        }
        a->command = argv[optind];
        a->args = argv + optind + 1;

        cmd = command_find(a->command);
        if (!cmd) {
                fprintf(stderr, "renewctl: unknown command '%s'; see 'renewctl --help'\n", a->command);
                return -EXIT_USAGE;
        }
        if (!cmd->run) {
                fprintf(stderr, "renewctl: %s: not supported by this version of renewd yet\n", cmd->name);
                return -EXIT_USAGE;
        }
        if (bad[0]) {
                fprintf(stderr, "renewctl: %s\n", bad);
                return -EXIT_USAGE;
        }
        if (renew_only && !streq(cmd->name, "renew")) {
                fprintf(stderr, "renewctl: %s applies only to renew\n", renew_only);
                return -EXIT_USAGE;
        }
        if (revoke_only && !streq(cmd->name, "revoke")) {
                fprintf(stderr, "renewctl: %s applies only to revoke\n", revoke_only);
                return -EXIT_USAGE;
        }
        if (import_only && !streq(cmd->name, "import-certbot")) {
                fprintf(stderr, "renewctl: %s applies only to import-certbot\n", import_only);
                return -EXIT_USAGE;
        }
        if (add_only && !streq(cmd->name, "add")) {
                fprintf(stderr, "renewctl: %s applies only to add\n", add_only);
                return -EXIT_USAGE;
        }

        n = strv_length(a->args);
        if (n < cmd->min_args) {
                fprintf(stderr, "renewctl: %s: missing %s\n", cmd->name,
                        n == 0 ? "certificate name" : "domain names");
                return -EXIT_USAGE;
        }
        if (n > cmd->max_args) {
                fprintf(stderr, "renewctl: %s: unexpected argument '%s'\n", cmd->name, a->args[cmd->max_args]);
                return -EXIT_USAGE;
        }
        if (streq(cmd->name, "renew")) {
                if (n == 0 && !a->all) {
                        fprintf(stderr, "renewctl: renew: name the certificates to renew, or --all\n");
                        return -EXIT_USAGE;
                }
                if (n > 0 && a->all) {
                        fprintf(stderr, "renewctl: renew: certificate names and --all exclude each other\n");
                        return -EXIT_USAGE;
                }
        }
        for (size_t i = 0; i < n; i++)
                if (isempty(a->args[i])) {
                        fprintf(stderr, "renewctl: %s: empty %s\n", cmd->name,
                                streq(cmd->name, "import-certbot") ? "directory name" : "certificate name");
                        return -EXIT_USAGE;
                }
        return 1;
}

static bool command_is_read_only(const char *name) {
        const Command *cmd = command_find(name);

        return cmd && cmd->read_only;
}

static int report_denied(const Args *a) {
        if (command_is_read_only(a->command))
                fprintf(stderr, "renewctl: permission denied: renewctl %s needs root or membership in "
                                "renewd's control group\n", a->command);
        else
                fprintf(stderr, "renewctl: permission denied: renewctl %s needs root\n", a->command);
        return EXIT_DENIED;
}

/* The exit status for a failure to connect, send or receive, after saying what happened. */
static int report_transport_error(const Args *a, int r) {
        switch (r) {
        case -ENOENT:
        case -ECONNREFUSED:
        case -ENOTSOCK:
                fprintf(stderr, "renewctl: cannot reach renewd at %s: %s; is it running?\n", a->socket,
                        strerror(-r));
                return EXIT_UNREACHABLE;
        case -EACCES:
        case -EPERM:
                fprintf(stderr, "renewctl: cannot connect to %s: %s\n", a->socket, strerror(-r));
                return report_denied(a);
        case -ETIMEDOUT:
                fprintf(stderr, "renewctl: renewd at %s did not answer in time; is it stuck? "
                                "(--timeout sets how long to wait)\n", a->socket);
                return EXIT_UNREACHABLE;
        case -ECONNRESET:
        case -EPIPE:
                fprintf(stderr, "renewctl: renewd at %s closed the connection without an answer\n", a->socket);
                return EXIT_UNREACHABLE;
        case -EINTR:
                fprintf(stderr, "renewctl: interrupted\n");
                return renewctl_interrupted > 0 ? 128 + renewctl_interrupted : EXIT_INTERRUPTED;
        case -EBADMSG:
                fprintf(stderr, "renewctl: renewd at %s sent a reply that breaks the Varlink protocol\n", a->socket);
                return EXIT_ATTENTION;
        case -E2BIG:
                fprintf(stderr, "renewctl: renewd at %s sent a reply larger than %u MiB\n", a->socket,
                        VARLINK_MESSAGE_SIZE_LIMIT / 1024U / 1024U);
                return EXIT_ATTENTION;
        case -ENAMETOOLONG:
                fprintf(stderr, "renewctl: socket path too long: %s\n", a->socket);
                return EXIT_USAGE;
        default:
                fprintf(stderr, "renewctl: talking to renewd at %s: %s\n", a->socket, strerror(-r));
                return EXIT_ATTENTION;
        }
}

/* s made safe for the terminal in *buf (freeing what *buf held), or "?" on ENOMEM. */
static const char *clean(char **buf, const char *s) {
        free(*buf);
        *buf = text_sanitize(s);
        return *buf ? *buf : "?";
}

/* The exit status for an error reply, after naming the cause in words. Text from the daemon
 * is sanitised (text_sanitize()) before it reaches the terminal. */
static int report_daemon_error(const Args *a, const VarlinkReply *reply) {
        const char *e = reply->error, *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *json = NULL, *c1 = NULL, *c2 = NULL;

        if (streq(e, VARLINK_ERROR_PERMISSION_DENIED) || streq(e, "io.renewd.PermissionDenied"))
                return report_denied(a);

        if (streq(e, "io.renewd.NoSuchCertificate")) {
                if (json_get_string(reply->parameters, "name", &s) < 0)
                        s = a->args[0] ? a->args[0] : "?";
                fprintf(stderr, "renewctl: no certificate named %s\n", clean(&c1, s));
                return EXIT_ATTENTION;
        }
        if (streq(e, "io.renewd.ReloadFailed")) {
                (void) json_get_string(reply->parameters, "message", &s);
                fprintf(stderr, "renewctl: reload failed: %s\n"
                                "renewctl: renewd goes on with the configuration it had\n",
                        s ? clean(&c1, s) : "(no reason given)");
                return EXIT_ATTENTION;
        }
        if (streq(e, "io.renewd.CertificateExists")) {
                (void) json_get_string(reply->parameters, "name", &s);
                fprintf(stderr, "renewctl: a certificate named %s exists already\n", clean(&c1, s ? s : a->args[0]));
                return EXIT_ATTENTION;
        }
        if (streq(e, "io.renewd.AddFailed") || streq(e, "io.renewd.RemoveFailed")) {
                (void) json_get_string(reply->parameters, "message", &s);
                fprintf(stderr, "renewctl: %s failed: %s\n", a->command, s ? clean(&c1, s) : "(no reason given)");
                return EXIT_ATTENTION;
        }
        if (streq(e, "io.renewd.RevokeFailed")) {
                (void) json_get_string(reply->parameters, "message", &s);
                fprintf(stderr, "renewctl: revoke failed: %s\n", s ? clean(&c1, s) : "(no reason given)");
                return EXIT_ATTENTION;
        }
        if (streq(e, "io.renewd.NotAddedByRenewd")) {
                (void) json_get_string(reply->parameters, "file", &s);
                fprintf(stderr, "renewctl: %s is defined in %s, which renewctl add did not write: remove it there\n",
                        a->args[0], s ? clean(&c1, s) : "a file of the configuration");
                return EXIT_ATTENTION;
        }
        if (streq(e, "io.renewd.RenewalFailed")) {
                _cleanup_free_ char *joined = NULL;

                (void) json_get_string(reply->parameters, "message", &s);
                if (json_get_strv(reply->parameters, "names", &names) >= 0 && !strv_isempty(names))
                        joined = strv_join(names, ", ");
                /* The reason of each failure came with its "failed" event; the message
                 * is worth a word only when it says more than the error's name. */
                if (s && strcasecmp(s, "renewal failed") == 0)
                        s = NULL;
                fprintf(stderr, "renewctl: renewal failed%s%s%s%s\n", joined ? " for " : "",
                        joined ? clean(&c1, joined) : "", s ? ": " : "", s ? clean(&c2, s) : "");
                return EXIT_ATTENTION;
        }
        if (streq(e, VARLINK_ERROR_METHOD_NOT_FOUND) || streq(e, VARLINK_ERROR_METHOD_NOT_IMPLEMENTED) ||
            streq(e, VARLINK_ERROR_INTERFACE_NOT_FOUND)) {
                fprintf(stderr, "renewctl: %s: not supported by the renewd at %s (%s)\n", a->command, a->socket,
                        clean(&c1, e));
                return EXIT_ATTENTION;
        }
        if (streq(e, VARLINK_ERROR_INVALID_PARAMETER)) {
                (void) json_get_string(reply->parameters, "parameter", &s);
                fprintf(stderr, "renewctl: %s: renewd refused the parameter '%s'\n", a->command, clean(&c1, s));
                return EXIT_ATTENTION;
        }

        json = json_print(reply->parameters);
        fprintf(stderr, "renewctl: %s failed: %s %s\n", a->command, clean(&c1, e), json ? json : "");
        return EXIT_ATTENTION;
}

int ctl_call(const Args *a, const char *method, const cJSON *parameters, bool more, bool oneway,
             Client **ret) {
        _cleanup_(client_freep) Client *c = NULL;
        uint64_t deadline = client_now() + a->timeout_usec;
        int r;

        r = client_connect(a->socket, deadline, &c);
        if (r >= 0)
                r = client_call(c, method, parameters, more, oneway, deadline);
        if (r < 0)
                return report_transport_error(a, r);
        *ret = TAKE_PTR(c);
        return 0;
}

int ctl_read_reply(const Args *a, Client *c, uint64_t deadline, VarlinkReply *ret) {
        VarlinkReply reply = {};
        int r;

        r = client_read_reply(c, deadline, &reply);
        if (r < 0)
                return report_transport_error(a, r);
        if (reply.error) {
                r = report_daemon_error(a, &reply);
                varlink_reply_done(&reply);
                return r;
        }
        *ret = reply;
        return 0;
}

int ctl_call_simple(const Args *a, const char *method, const cJSON *parameters, VarlinkReply *ret) {
        _cleanup_(client_freep) Client *c = NULL;
        int r;

        r = ctl_call(a, method, parameters, false, false, &c);
        if (r > 0)
                return r;
        return ctl_read_reply(a, c, client_now() + a->timeout_usec, ret);
}

int ctl_unexpected_reply(const Args *a, const char *what) {
        fprintf(stderr, "renewctl: %s: unexpected reply from renewd: %s\n", a->command, what);
        return EXIT_ATTENTION;
}

int ctl_oom(void) {
        fprintf(stderr, "renewctl: out of memory\n");
        return EXIT_ATTENTION;
}

int ctl_print_json(const cJSON *parameters, bool compact) {
        _cleanup_free_ char *s = compact ? json_print(parameters) : cJSON_Print(parameters);

        if (!s)
                return ctl_oom();
        puts(s);
        if (fflush(stdout) != 0) {
                fprintf(stderr, "renewctl: writing to stdout: %m\n");
                return EXIT_ATTENTION;
        }
        return 0;
}

static void on_signal(int sig) {
        renewctl_interrupted = sig;
}

/* SIGINT and SIGTERM interrupt a wait (no SA_RESTART: poll(2) returns EINTR) so renewctl
 * can say what happens to the renewal in flight; a second one kills as usual
 * (SA_RESETHAND). A signal the caller ignores (SIGINT of a background job) stays ignored. */
static void install_signal_handlers(void) {
        static const int signals[] = { SIGINT, SIGTERM };
        struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND }, old;

        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (sigaction(signals[i], NULL, &old) >= 0 && old.sa_handler != SIG_IGN)
                        (void) sigaction(signals[i], &sa, NULL);
}

int main(int argc, char **argv) {
        Args a = {
                .socket = RENEWCTL_DEFAULT_SOCKET,
                .timeout_usec = RENEWCTL_DEFAULT_TIMEOUT_SEC * USEC_PER_SEC,
        };
        const Command *cmd;
        int r;

        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return -r;

        install_signal_handlers();
        cmd = command_find(a.command);
        r = cmd->run(&a);
        if (fflush(stdout) != 0 && r == EXIT_OK) {
                fprintf(stderr, "renewctl: writing to stdout: %m\n");
                r = EXIT_ATTENTION;
        }
        return r;
}
