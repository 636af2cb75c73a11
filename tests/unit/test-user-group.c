/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "test.h"
#include "user-group.h"

TEST(groups) {
        gid_t g = 12345;

        CHECK_INT(group_to_gid("0", &g), 0);
        CHECK_INT(g, 0);
        CHECK_INT(group_to_gid("33", &g), 0);
        CHECK_INT(g, 33);
        CHECK_INT(group_to_gid("root", &g), 0);
        CHECK_INT(g, 0);
        g = 7;
        CHECK_INT(group_to_gid("no-such-group-renewd", &g), -ESRCH);
        CHECK_INT(group_to_gid("", &g), -EINVAL);
        CHECK_INT(group_to_gid(NULL, &g), -EINVAL);
        CHECK_INT(group_to_gid("4294967295", &g), -EINVAL); /* (gid_t) -1 means "no change" */
        CHECK_INT(group_to_gid("99999999999999999999", &g), -EINVAL);
        CHECK_INT(group_to_gid("12x", &g), -EINVAL);
        CHECK_INT(g, 7); /* untouched on failure */
}

TEST(users) {
        uid_t u = 12345;

        CHECK_INT(user_to_uid("0", &u), 0);
        CHECK_INT(u, 0);
        CHECK_INT(user_to_uid("root", &u), 0);
        CHECK_INT(u, 0);
        CHECK_INT(user_to_uid("65534", &u), 0);
        CHECK_INT(u, 65534);
        u = 7;
        CHECK_INT(user_to_uid("no-such-user-renewd", &u), -ESRCH);
        CHECK_INT(user_to_uid("", &u), -EINVAL);
        CHECK_INT(user_to_uid("-1", &u), -ESRCH); /* a name (not a number), which nobody has */
        CHECK_INT(u, 7);
}

TEST_MAIN(T(groups), T(users))
