/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fileio.h"
#include "install-copy.h"
#include "macro.h"
#include "test.h"

#define _cleanup_tmpdir_ _cleanup_(test_tmpdir_freep)

#define CHAIN "-----BEGIN CERTIFICATE-----\nMIIleaf\n-----END CERTIFICATE-----\n" \
              "-----BEGIN CERTIFICATE-----\nMIIintermediate\n-----END CERTIFICATE-----\n"
#define KEY "-----BEGIN PRIVATE KEY-----\nMIIsecret\n-----END PRIVATE KEY-----\n"

/* The three destinations in a fresh directory. */
typedef struct Dest {
        char *dir;
        char *fullchain, *key, *combined;
} Dest;

static void dest_done(Dest *d) {
        free(d->fullchain);
        free(d->key);
        free(d->combined);
        test_tmpdir_freep(&d->dir);
        *d = (Dest) {};
}


static bool dest_setup(Dest *d) {
        *d = (Dest) {};
        d->dir = test_tmpdir();
        if (!d->dir)
                return false;
        d->fullchain = test_path_join(d->dir, "fullchain.pem");
        d->key = test_path_join(d->dir, "key.pem");
        d->combined = test_path_join(d->dir, "haproxy.pem");
        return d->fullchain && d->key && d->combined;
}

static InstallCopy dest_copy(const Dest *d, mode_t mode) {
        return (InstallCopy) {
                .fullchain_path = d->fullchain,
                .key_path = d->key,
                .combined_path = d->combined,
                .uid = (uid_t) -1,
                .gid = (gid_t) -1,
                .mode = mode,
        };
}

static char *read_text(const char *path) {
        char *buf = NULL;
        return read_file_at(AT_FDCWD, path, 1 << 20, &buf, NULL) < 0 ? NULL : buf;
}

static mode_t mode_of(const char *path) {
        struct stat st;
        return lstat(path, &st) < 0 ? (mode_t) -1 : st.st_mode & 07777;
}

/* Number of entries in a directory (without . and ..), -1 if it cannot be read. */
static int dir_entries(const char *path) {
        DIR *dir = opendir(path);
        struct dirent *de;
        int n = 0;

        if (!dir)
                return -1;
        while ((de = readdir(dir)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(dir);
        return n;
}

static int write_plain(const char *path, const char *content, mode_t mode) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        size_t n = strlen(content);

        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode) < 0)
                return -errno;
        return write(fd, content, n) == (ssize_t) n ? 0 : -EIO;
}

TEST(contents_and_modes) {
        _cleanup_(dest_done) Dest d = {};
        _cleanup_free_ char *fc = NULL, *k = NULL, *comb = NULL, *error = NULL;
        InstallCopy c;
        mode_t old;
        struct stat st;

        REQUIRE(dest_setup(&d));
        c = dest_copy(&d, 0644);

        /* The umask does not narrow (or widen) what was asked for. */
        old = umask(077);
        CHECK_INT(install_copy_write(&c, CHAIN, KEY, &error), 0);
        umask(old);
        CHECK(error == NULL);

        fc = read_text(d.fullchain);
        k = read_text(d.key);
        comb = read_text(d.combined);
        CHECK_STR(fc, CHAIN);
        CHECK_STR(k, KEY);
        /* HAProxy's order: the chain, then the key. */
        CHECK_STR(comb, CHAIN KEY);

        CHECK_INT(mode_of(d.fullchain), 0644);
        CHECK_INT(mode_of(d.key), 0640);
        CHECK_INT(mode_of(d.combined), 0640);
        REQUIRE(lstat(d.key, &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_INT(st.st_uid, geteuid());
        CHECK_INT(st.st_gid, getegid());

        /* Exactly the three files: no temporary file left behind. */
        CHECK_INT(dir_entries(d.dir), 3);
}

TEST(combined_gets_missing_newline) {
        _cleanup_(dest_done) Dest d = {};
        _cleanup_free_ char *comb = NULL, *fc = NULL;
        InstallCopy c;

        REQUIRE(dest_setup(&d));
        c = dest_copy(&d, 0600);
        c.key_path = NULL;
        CHECK_INT(install_copy_write(&c, "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----", KEY, NULL), 0);
        comb = read_text(d.combined);
        fc = read_text(d.fullchain);
        CHECK_STR(comb, "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n" KEY);
        /* The full chain copy itself is written as given. */
        CHECK_STR(fc, "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----");
        CHECK_INT(mode_of(d.combined), 0600);
        CHECK(access(d.key, F_OK) < 0 && errno == ENOENT);
}

/* Whatever mode is asked for, the key and combined files are never accessible to others. */
TEST(key_never_world_readable) {
        static const struct {
                mode_t mode, fullchain, key;
        } cases[] = {
                { 0644, 0644, 0640 }, { 0666, 0666, 0640 }, { 0777, 0777, 0640 }, { 0604, 0604, 0600 },
                { 0600, 0600, 0600 }, { 0444, 0444, 0440 }, { 0440, 0440, 0440 }, { 0400, 0400, 0400 },
                { 0, 0644, 0640 }, /* 0 = the default */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(dest_done) Dest d = {};
                InstallCopy c;

                CHECK_INT(install_copy_key_mode(cases[i].mode), cases[i].key);
                REQUIRE(dest_setup(&d));
                c = dest_copy(&d, cases[i].mode);
                CHECK_INT(install_copy_write(&c, CHAIN, KEY, NULL), 0);
                CHECK_INT(mode_of(d.fullchain), cases[i].fullchain);
                CHECK_INT(mode_of(d.key), cases[i].key);
                CHECK_INT(mode_of(d.combined), cases[i].key);
                CHECK_INT(mode_of(d.key) & 0007, 0);
                CHECK_INT(mode_of(d.combined) & 0027, 0);
        }
}

static bool lookup_nobody(uid_t *ret_uid, gid_t *ret_gid) {
        struct passwd *pw = getpwnam("nobody");
        struct group *gr = getgrnam("nogroup");

        if (!pw)
                return false;
        *ret_uid = pw->pw_uid;
        *ret_gid = gr ? gr->gr_gid : pw->pw_gid;
        return true;
}

TEST(owner_changes) {
        _cleanup_(dest_done) Dest d = {};
        _cleanup_free_ char *error = NULL, *k = NULL;
        const char *paths[3];
        InstallCopy c;
        uid_t uid;
        gid_t gid;
        struct stat st;

        REQUIRE(dest_setup(&d));
        if (!lookup_nobody(&uid, &gid)) {
                fprintf(stderr, "note: no user nobody, owner test skipped\n");
                return;
        }
        c = dest_copy(&d, 0640);
        c.uid = uid;
        c.gid = gid;

        if (geteuid() != 0) {
                /* Only root may give files away: the reason names the file. */
                CHECK_INT(install_copy_write(&c, CHAIN, KEY, &error), -EPERM);
                CHECK(error && strstr(error, d.key) && strstr(error, "privileges"));
                CHECK_INT(dir_entries(d.dir), 0);
                return;
        }

        CHECK_INT(install_copy_write(&c, CHAIN, KEY, &error), 0);
        CHECK(error == NULL);
        paths[0] = d.fullchain;
        paths[1] = d.key;
        paths[2] = d.combined;
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                REQUIRE(lstat(paths[i], &st) == 0);
                CHECK_INT(st.st_uid, uid);
                CHECK_INT(st.st_gid, gid);
                CHECK_INT(st.st_mode & 07777, 0640);
        }
        k = read_text(d.key);
        CHECK_STR(k, KEY);

        /* Only the group. */
        c.uid = (uid_t) -1;
        CHECK_INT(install_copy_write(&c, CHAIN, KEY, NULL), 0);
        REQUIRE(lstat(d.key, &st) == 0);
        CHECK_INT(st.st_uid, 0);
        CHECK_INT(st.st_gid, gid);
        CHECK_INT(st.st_mode & 07777, 0640);
        CHECK_INT(dir_entries(d.dir), 3);
}

/* Drop capabilities from the effective set of this process. Returns 0 or -errno. */
static int drop_effective_caps(const int *caps, size_t n) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = {};

        if (syscall(SYS_capget, &h, data) < 0)
                return -errno;
        for (size_t i = 0; i < n; i++)
                data[caps[i] / 32].effective &= ~(1U << (caps[i] % 32));
        if (syscall(SYS_capset, &h, data) < 0)
                return -errno;
        return 0;
}

/* renewd's unit keeps CAP_CHOWN but not CAP_FOWNER nor CAP_DAC_OVERRIDE: giving a copy to
 * another user must work with that alone (no fchmod of someone else's file, no hard link
 * of someone else's inode). Checked in a child that dropped those capabilities. */
TEST(owner_changes_without_fowner) {
        static const int caps[] = { CAP_FOWNER, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FSETID };
        _cleanup_(dest_done) Dest d = {};
        struct stat st;
        uid_t uid;
        gid_t gid;
        pid_t pid;
        int status;

        REQUIRE(dest_setup(&d));
        if (geteuid() != 0 || !lookup_nobody(&uid, &gid)) {
                fprintf(stderr, "note: not root, capability test skipped\n");
                return;
        }

        /* A root-owned existing file to replace, as after a previous run. */
        REQUIRE(write_plain(d.key, "old", 0600) == 0);

        fflush(NULL);
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
                InstallCopy c = dest_copy(&d, 0640);
                char *error = NULL;
                int r;

                c.uid = uid;
                c.gid = gid;
                if (drop_effective_caps(caps, ELEMENTSOF(caps)) < 0)
                        _exit(77);
                r = install_copy_write(&c, CHAIN, KEY, &error);
                if (r < 0)
                        fprintf(stderr, "install_copy_write: %s\n", strna(error));
                free(error);
                _exit(r < 0 ? 1 : 0);
        }
        while (waitpid(pid, &status, 0) < 0)
                REQUIRE(errno == EINTR);
        REQUIRE(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                fprintf(stderr, "note: cannot drop capabilities, test skipped\n");
                return;
        }
        CHECK_INT(WEXITSTATUS(status), 0);

        REQUIRE(lstat(d.key, &st) == 0);
        CHECK_INT(st.st_uid, uid);
        CHECK_INT(st.st_gid, gid);
        CHECK_INT(st.st_mode & 07777, 0640);
        REQUIRE(lstat(d.combined, &st) == 0);
        CHECK_INT(st.st_uid, uid);
        CHECK_INT(st.st_mode & 07777, 0640);
        REQUIRE(lstat(d.fullchain, &st) == 0);
        CHECK_INT(st.st_mode & 07777, 0640);
        CHECK_INT(dir_entries(d.dir), 3);
}

TEST(missing_directory) {
        _cleanup_(dest_done) Dest d = {};
        _cleanup_free_ char *error = NULL, *gone = NULL, *in_gone = NULL, *file = NULL, *under_file = NULL;
        InstallCopy c;

        REQUIRE(dest_setup(&d));
        gone = test_path_join(d.dir, "gone");
        in_gone = test_path_join(d.dir, "gone/haproxy.pem");
        file = test_path_join(d.dir, "file");
        under_file = test_path_join(d.dir, "file/key.pem");
        REQUIRE(gone && in_gone && file && under_file);

        c = dest_copy(&d, 0644);
        c.combined_path = in_gone;
        CHECK_INT(install_copy_write(&c, CHAIN, KEY, &error), -ENOENT);
        REQUIRE(error);
        CHECK(strstr(error, in_gone));
        CHECK(strstr(error, "directory"));
        CHECK(strstr(error, strerror(ENOENT)));
        CHECK(strstr(error, "combined"));
        /* Checked before anything was written: the two good destinations are untouched. */
        CHECK_INT(dir_entries(d.dir), 0);

        /* A file where the directory should be. */
        REQUIRE(write_plain(file, "x", 0644) == 0);
        free(error);
        error = NULL;
        c = dest_copy(&d, 0644);
        c.key_path = under_file;
        CHECK_INT(install_copy_write(&c, CHAIN, KEY, &error), -ENOTDIR);
        CHECK(error && strstr(error, under_file));
        CHECK_INT(dir_entries(d.dir), 1);
}

/* The old file is replaced by a new inode in one rename: someone holding the old file (a
 * hard link here, an open fd in real life) keeps the complete old content. */
TEST(existing_destination_replaced) {
        _cleanup_(dest_done) Dest d = {};
        _cleanup_free_ char *link_path = NULL, *old = NULL, *now = NULL;
        InstallCopy c;
        struct stat before, after;

        REQUIRE(dest_setup(&d));
        link_path = test_path_join(d.dir, "old-link");
        REQUIRE(link_path);
        REQUIRE(write_plain(d.fullchain, "old chain\n", 0600) == 0);
        REQUIRE(link(d.fullchain, link_path) == 0);
        REQUIRE(write_plain(d.key, "old key\n", 0644) == 0);
        REQUIRE(lstat(d.fullchain, &before) == 0);

        c = dest_copy(&d, 0644);
        c.combined_path = NULL;
        CHECK_INT(install_copy_write(&c, CHAIN, KEY, NULL), 0);

        REQUIRE(lstat(d.fullchain, &after) == 0);
        CHECK(before.st_ino != after.st_ino);
        now = read_text(d.fullchain);
        old = read_text(link_path);
        CHECK_STR(now, CHAIN);
        CHECK_STR(old, "old chain\n");
        CHECK_INT(mode_of(d.fullchain), 0644);
        /* The key's old, too wide mode is not kept. */
        CHECK_INT(mode_of(d.key), 0640);
        free(now);
        now = read_text(d.key);
        CHECK_STR(now, KEY);

        /* And again: idempotent. */
        CHECK_INT(install_copy_write(&c, CHAIN, KEY, NULL), 0);
        CHECK_INT(dir_entries(d.dir), 3);
}

/* A destination that is a symlink is replaced by a regular file; its target is untouched,
 * so a link planted to /etc/shadow (say) cannot redirect the write. */
TEST(symlink_destination_replaced) {
        _cleanup_(dest_done) Dest d = {};
        _cleanup_tmpdir_ char *elsewhere = test_tmpdir();
        _cleanup_free_ char *target = NULL, *content = NULL, *dangling = NULL;
        InstallCopy c;
        struct stat st;

        REQUIRE(dest_setup(&d) && elsewhere);
        target = test_path_join(elsewhere, "victim");
        dangling = test_path_join(elsewhere, "nothing-here");
        REQUIRE(target && dangling);
        REQUIRE(write_plain(target, "precious\n", 0644) == 0);
        REQUIRE(symlink(target, d.key) == 0);
        REQUIRE(symlink(dangling, d.combined) == 0);

        c = dest_copy(&d, 0644);
        CHECK_INT(install_copy_write(&c, CHAIN, KEY, NULL), 0);

        REQUIRE(lstat(d.key, &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_INT(st.st_mode & 07777, 0640);
        content = read_text(d.key);
        CHECK_STR(content, KEY);
        free(content);
        content = read_text(target);
        CHECK_STR(content, "precious\n");
        CHECK_INT(mode_of(target), 0644);

        REQUIRE(lstat(d.combined, &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK(access(dangling, F_OK) < 0 && errno == ENOENT);
        CHECK_INT(dir_entries(elsewhere), 1);
}

/* Symlinks in the directory part are followed, like any path. */
TEST(symlinked_directory_followed) {
        _cleanup_(dest_done) Dest d = {};
        _cleanup_tmpdir_ char *real = test_tmpdir();
        _cleanup_free_ char *via = NULL, *dest = NULL, *in_real = NULL, *content = NULL;
        InstallCopy c = { .uid = (uid_t) -1, .gid = (gid_t) -1, .mode = 0644 };

        REQUIRE(dest_setup(&d) && real);
        via = test_path_join(d.dir, "via");
        dest = test_path_join(d.dir, "via/fullchain.pem");
        in_real = test_path_join(real, "fullchain.pem");
        REQUIRE(via && dest && in_real);
        REQUIRE(symlink(real, via) == 0);

        c.fullchain_path = dest;
        CHECK_INT(install_copy_write(&c, CHAIN, NULL, NULL), 0);
        content = read_text(in_real);
        CHECK_STR(content, CHAIN);
}

TEST(destination_is_directory) {
        _cleanup_(dest_done) Dest d = {};
        _cleanup_free_ char *error = NULL;
        InstallCopy c;

        REQUIRE(dest_setup(&d));
        REQUIRE(mkdir(d.fullchain, 0755) == 0);
        c = dest_copy(&d, 0644);
        c.key_path = c.combined_path = NULL;
        CHECK(install_copy_write(&c, CHAIN, KEY, &error) < 0);
        CHECK(error && strstr(error, d.fullchain));
        CHECK_INT(dir_entries(d.dir), 1);
}

TEST(bad_arguments) {
        _cleanup_(dest_done) Dest d = {};
        InstallCopy c;
        struct {
                const char *fullchain, *key, *combined;
                mode_t mode;
                const char *chain_pem, *key_pem;
                const char *in_text;
        } cases[] = {
                { "relative.pem", NULL, NULL, 0644, CHAIN, KEY, "relative.pem" },
                { "", NULL, NULL, 0644, CHAIN, KEY, "absolute" },
                { "/", NULL, NULL, 0644, CHAIN, KEY, "absolute" },
                { "/tmp/", NULL, NULL, 0644, CHAIN, KEY, "/tmp/" },
                { "/tmp/..", NULL, NULL, 0644, CHAIN, KEY, "/tmp/.." },
                { "/tmp/.", NULL, NULL, 0644, CHAIN, KEY, "/tmp/." },
                { NULL, "key.pem", NULL, 0644, CHAIN, KEY, "key" },
                { "/tmp/a.pem", "/tmp/a.pem", NULL, 0644, CHAIN, KEY, "both" },
                { NULL, "/tmp/a.pem", "/tmp/a.pem", 0644, CHAIN, KEY, "both" },
                { "/tmp/a.pem", NULL, NULL, 04644, CHAIN, KEY, "04644" },
                { "/tmp/a.pem", NULL, NULL, 01644, CHAIN, KEY, "mode" },
                { "/tmp/a.pem", NULL, NULL, 0644, NULL, KEY, "chain" },
                { "/tmp/a.pem", NULL, NULL, 0644, "", KEY, "chain" },
                { NULL, "/tmp/a.pem", NULL, 0644, CHAIN, NULL, "key" },
                { NULL, NULL, "/tmp/a.pem", 0644, CHAIN, "", "key" },
                { NULL, NULL, "/tmp/a.pem", 0644, NULL, KEY, "chain" },
        };

        REQUIRE(dest_setup(&d));
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;

                c = (InstallCopy) {
                        .fullchain_path = cases[i].fullchain,
                        .key_path = cases[i].key,
                        .combined_path = cases[i].combined,
                        .uid = (uid_t) -1,
                        .gid = (gid_t) -1,
                        .mode = cases[i].mode,
                };
                CHECK_INT(install_copy_write(&c, cases[i].chain_pem, cases[i].key_pem, &error), -EINVAL);
                if (!error || !strstr(error, cases[i].in_text)) {
                        fprintf(stderr, "case %zu: error text \"%s\"\n", i, strna(error));
                        CHECK(false);
                }
                /* Without a place for the text. */
                CHECK_INT(install_copy_write(&c, cases[i].chain_pem, cases[i].key_pem, NULL), -EINVAL);
        }
        CHECK(access("/tmp/a.pem", F_OK) < 0);

        CHECK_INT(install_copy_write(NULL, CHAIN, KEY, NULL), -EINVAL);

        /* Nothing asked for: nothing to do, nothing needed. */
        c = (InstallCopy) { .uid = (uid_t) -1, .gid = (gid_t) -1 };
        CHECK_INT(install_copy_write(&c, NULL, NULL, NULL), 0);
        CHECK_INT(dir_entries(d.dir), 0);
}

TEST_MAIN(T(contents_and_modes), T(combined_gets_missing_newline), T(key_never_world_readable), T(owner_changes),
          T(owner_changes_without_fowner), T(missing_directory), T(existing_destination_replaced),
          T(symlink_destination_replaced), T(symlinked_directory_followed), T(destination_is_directory),
          T(bad_arguments))
