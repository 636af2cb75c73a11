/* SPDX-License-Identifier: MIT */
/* renewctl: the control client. The control socket arrives with the daemon mode
 * (issue "Control socket and renewctl"); until then this says so plainly. */

#include <stdio.h>
#include <string.h>

#include "renewd-config.h"

int main(int argc, char **argv) {
        if (argc > 1 && strcmp(argv[1], "--version") == 0) {
                printf("renewctl %s\n", RENEWD_VERSION);
                return 0;
        }
        fprintf(stderr, "renewctl: not yet: the control socket is not implemented in this version; "
                        "use 'renewd --once' to renew certificates.\n");
        return 2;
}
