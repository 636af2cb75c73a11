/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "challenge-http01.h"
#include "challenge-journal.h"
#include "fileio.h"
#include "macro.h"
#include "test.h"

typedef struct Dirs {
        char *base;
        char state[128];
        char webroot[128];
        int state_fd;
} Dirs;

static void dirs_setup(Dirs *d) {
        d->base = test_tmpdir();
        if (!d->base)
                abort();
        snprintf(d->state, sizeof d->state, "%s/state", d->base);
        snprintf(d->webroot, sizeof d->webroot, "%s/www", d->base);
        if (mkdir(d->state, 0700) < 0 || mkdir(d->webroot, 0755) < 0)
                abort();
        d->state_fd = open(d->state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->state_fd < 0)
                abort();
}

static void dirs_teardown(Dirs *d) {
        close(d->state_fd);
        if (test_rm_rf(AT_FDCWD, d->base) < 0)
                abort();
        d->base = mfree(d->base);
}

static bool challenge_exists(const Dirs *d, const char *token) {
        char p[256];
        snprintf(p, sizeof p, "%s/.well-known/acme-challenge/%s", d->webroot, token);
        return access(p, F_OK) == 0;
}

static bool record_exists(const Dirs *d, const char *token) {
        char p[256];
        snprintf(p, sizeof p, "%s/pending/%s", d->state, token);
        return access(p, F_OK) == 0;
}

TEST(sweep_removes_leftovers) {
        Dirs d;
        dirs_setup(&d);

        CHECK_INT(challenge_journal_sweep(d.state_fd), 0); /* no journal yet */
        CHECK_INT(challenge_journal_add(d.state_fd, d.webroot, "tokenA"), 0);
        CHECK_INT(http01_webroot_deploy(d.webroot, "tokenA", "tokenA.thumb"), 0);
        CHECK_INT(challenge_journal_add(d.state_fd, d.webroot, "tokenB"), 0);
        CHECK_INT(http01_webroot_deploy(d.webroot, "tokenB", "tokenB.thumb"), 0);
        /* A record whose file never got written (crash in between) is fine too. */
        CHECK_INT(challenge_journal_add(d.state_fd, d.webroot, "tokenC"), 0);
        CHECK(record_exists(&d, "tokenA"));

        CHECK_INT(challenge_journal_sweep(d.state_fd), 3);
        CHECK(!challenge_exists(&d, "tokenA"));
        CHECK(!challenge_exists(&d, "tokenB"));
        CHECK(!record_exists(&d, "tokenA"));
        CHECK(!record_exists(&d, "tokenB"));
        CHECK(!record_exists(&d, "tokenC"));
        CHECK_INT(challenge_journal_sweep(d.state_fd), 0);
        dirs_teardown(&d);
}

TEST(remove_forgets) {
        Dirs d;
        dirs_setup(&d);

        CHECK_INT(challenge_journal_remove(d.state_fd, "tokenA"), 0); /* nothing recorded */
        CHECK_INT(challenge_journal_add(d.state_fd, d.webroot, "tokenA"), 0);
        CHECK_INT(http01_webroot_deploy(d.webroot, "tokenA", "k"), 0);
        CHECK_INT(challenge_journal_remove(d.state_fd, "tokenA"), 0);
        CHECK(!record_exists(&d, "tokenA"));
        /* Forgotten: the sweep no longer touches the file. */
        CHECK_INT(challenge_journal_sweep(d.state_fd), 0);
        CHECK(challenge_exists(&d, "tokenA"));
        dirs_teardown(&d);
}

TEST(bad_input) {
        Dirs d;
        dirs_setup(&d);

        CHECK_INT(challenge_journal_add(d.state_fd, d.webroot, "../x"), -EINVAL);
        CHECK_INT(challenge_journal_add(d.state_fd, d.webroot, ""), -EINVAL);
        CHECK_INT(challenge_journal_add(d.state_fd, "relative/www", "tok"), -EINVAL);
        CHECK_INT(challenge_journal_remove(d.state_fd, "a/b"), -EINVAL);

        /* Hostile records are dropped without touching anything. */
        CHECK_INT(mkdirat(d.state_fd, "pending", 0700), 0);
        int pfd = openat(d.state_fd, "pending", O_RDONLY | O_DIRECTORY);
        REQUIRE(pfd >= 0);
        CHECK_INT(write_file_atomic(pfd, "not-a-token!", "/etc", 4, 0600, (gid_t) -1), 0);
        CHECK_INT(write_file_atomic(pfd, "tokenR", "relative", 8, 0600, (gid_t) -1), 0);
        CHECK_INT(challenge_journal_sweep(d.state_fd), 0);
        CHECK(faccessat(pfd, "not-a-token!", F_OK, 0) < 0);
        CHECK(faccessat(pfd, "tokenR", F_OK, 0) < 0);
        close(pfd);
        dirs_teardown(&d);
}

TEST_MAIN(T(sweep_removes_leftovers), T(remove_forgets), T(bad_input))
