/* SPDX-License-Identifier: MIT */
/* renewd: command line, then hand over to the manager. */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "manager.h"
#include "renewd-config.h"

static void help(void) {
        printf("Usage: renewd [OPTIONS]\n\n"
               "ACME certificate renewal daemon. Without --once it runs until stopped, renewing each\n"
               "certificate when it is due.\n\n"
               "  -c, --config FILE   main configuration file (default %s)\n"
               "      --once          renew what is due, then exit (0 only if all succeeded)\n"
               "      --check-config  validate the configuration and print it as understood\n"
               "  -v, --verbose       log debug messages\n"
               "      --version       print the version\n"
               "  -h, --help          print this help\n",
               RENEWD_DEFAULT_CONFIG);
}

enum {
        ARG_ONCE = 0x100,
        ARG_CHECK_CONFIG,
        ARG_VERSION,
};

typedef struct Args {
        const char *config;
        bool once;
        bool check_config;
} Args;

/* Returns 1 to go on, 0 to exit successfully (--help), negative on bad usage. */
static int parse_args(int argc, char **argv, Args *a) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "once", no_argument, NULL, ARG_ONCE },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        a->config = optarg;
                        break;
                case ARG_ONCE:
                        a->once = true;
                        break;
                case ARG_CHECK_CONFIG:
                        a->check_config = true;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case ARG_VERSION:
                        printf("renewd %s\n", RENEWD_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "renewd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int load_config(const char *path, Config **ret) {
        _cleanup_free_ char *errors = NULL;
        int k = config_load(path, ret, &errors);

        if (k < 0) {
                if (errors)
                        fprintf(stderr, "%s\n", errors);
                else
                        log_error_errno(k, "Failed to load %s: %m", path);
        }
        return k;
}

int main(int argc, char **argv) {
        Args args = { .config = RENEWD_DEFAULT_CONFIG };
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        int k;

        k = parse_args(argc, argv, &args);
        if (k <= 0)
                return k < 0 ? 2 : 0;

        if (load_config(args.config, &config) < 0)
                return 1;

        if (args.check_config) {
                _cleanup_free_ char *text = NULL;
                k = config_dump(config, &text);
                if (k < 0) {
                        log_error_errno(k, "Failed to print the configuration: %m");
                        return 1;
                }
                fputs(text, stdout);
                return 0;
        }

        {
                /* Block the signals we handle on the loop before any thread (curl's resolver)
                 * exists, so that none of them is delivered elsewhere. SIGCHLD is for hooks,
                 * reaped by the loop, in both modes. */
                sigset_t mask;
                sigemptyset(&mask);
                sigaddset(&mask, SIGCHLD);
                if (!args.once) {
                        sigaddset(&mask, SIGTERM);
                        sigaddset(&mask, SIGINT);
                        sigaddset(&mask, SIGHUP);
                }
                if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                        log_error_errno(-errno, "Failed to block signals: %m");
                        return 1;
                }
        }

        k = manager_new(args.config, TAKE_PTR(config), args.once, &m);
        if (k < 0)
                return 1;
        k = args.once ? manager_run_once(m) : manager_run_daemon(m);
        return k < 0 ? 1 : 0;
}
