/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>

#include "user-group.h"

#define NSS_BUFFER_SIZE 16384

/* A decimal id below (id_t) -1, which means "no change" to chown(). */
static int parse_id(const char *s, unsigned long *ret) {
        char *end = NULL;
        unsigned long v;

        if (s[0] < '0' || s[0] > '9')
                return -ENOENT; /* not a number: a name */
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end || v >= (unsigned long) (id_t) -1)
                return -EINVAL;
        *ret = v;
        return 0;
}

int group_to_gid(const char *s, gid_t *ret) {
        struct group grp, *res = NULL;
        char buf[NSS_BUFFER_SIZE];
        unsigned long v;
        int r;

        if (!s || !*s)
                return -EINVAL;
        r = parse_id(s, &v);
        if (r == 0) {
                *ret = (gid_t) v;
                return 0;
        }
        if (r != -ENOENT)
                return r;
        r = getgrnam_r(s, &grp, buf, sizeof buf, &res);
        if (r != 0)
                return -r;
        if (!res)
                return -ESRCH;
        *ret = res->gr_gid;
        return 0;
}

int user_to_uid(const char *s, uid_t *ret) {
        struct passwd pw, *res = NULL;
        char buf[NSS_BUFFER_SIZE];
        unsigned long v;
        int r;

        if (!s || !*s)
                return -EINVAL;
        r = parse_id(s, &v);
        if (r == 0) {
                *ret = (uid_t) v;
                return 0;
        }
        if (r != -ENOENT)
                return r;
        r = getpwnam_r(s, &pw, buf, sizeof buf, &res);
        if (r != 0)
                return -r;
        if (!res)
                return -ESRCH;
        *ret = res->pw_uid;
        return 0;
}
