/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fileio.h"
#include "macro.h"
#include "test.h"

#define FREE(p)            \
        do {               \
                free(p);   \
                (p) = NULL; \
        } while (0)

/* A fresh directory under /tmp (test_tmpdir()); returns its fd and writes its path to path. */
static int make_tmpdir(char path[static 64]) {
        _cleanup_free_ char *t = test_tmpdir();

        if (!t)
                return -errno;
        if (snprintf(path, 64, "%s", t) >= 64) {
                (void) test_rm_rf(AT_FDCWD, t);
                return -ENAMETOOLONG;
        }
        return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void remove_tmpdir(const char *path, int fd) {
        if (fd >= 0)
                close(fd);
        (void) test_rm_rf(AT_FDCWD, path);
}

/* Number of entries in dir_fd/path other than . and .., or -1. */
static int count_entries(int dir_fd, const char *path) {
        DIR *d;
        struct dirent *de;
        int fd, n = 0;

        fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -1;
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static mode_t file_mode(int dir_fd, const char *path) {
        struct stat st;
        if (fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return (mode_t) -1;
        return st.st_mode & 07777;
}

TEST(write_exact_mode) {
        static const mode_t modes[] = { 0600, 0640, 0644, 0400 };
        static const mode_t masks[] = { 0, 022, 077 };
        char path[64];
        int dfd = make_tmpdir(path);
        mode_t old = umask(0);

        REQUIRE(dfd >= 0);
        for (size_t m = 0; m < ELEMENTSOF(masks); m++) {
                umask(masks[m]);
                for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                        char name[32];
                        snprintf(name, sizeof(name), "f-%zu-%zu", m, i);
                        CHECK_INT(write_file_atomic(dfd, name, "x", 1, modes[i], (gid_t) -1), 0);
                        CHECK_INT(file_mode(dfd, name), modes[i]);
                }
        }
        umask(old);
        /* Nothing but the targets. */
        CHECK_INT(count_entries(dfd, "."), (int) (ELEMENTSOF(masks) * ELEMENTSOF(modes)));
        remove_tmpdir(path, dfd);
}

TEST(write_content_and_overwrite) {
        char path[64];
        int dfd = make_tmpdir(path);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct stat st1, st2;
        char big[100000];

        REQUIRE(dfd >= 0);

        CHECK_INT(write_file_atomic(dfd, "a", "hello\n", 6, 0644, (gid_t) -1), 0);
        CHECK_INT(read_file_at(dfd, "a", 1024, &buf, &len), 0);
        CHECK_INT(len, 6);
        CHECK_STR(buf, "hello\n");
        FREE(buf);
        REQUIRE(fstatat(dfd, "a", &st1, 0) == 0);

        /* Overwrite, with a different mode: the new file replaces the old inode. */
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (char) ('a' + i % 26);
        CHECK_INT(write_file_atomic(dfd, "a", big, sizeof(big), 0600, (gid_t) -1), 0);
        REQUIRE(fstatat(dfd, "a", &st2, 0) == 0);
        CHECK(st1.st_ino != st2.st_ino);
        CHECK_INT(st2.st_mode & 07777, 0600);
        CHECK_INT(read_file_at(dfd, "a", sizeof(big), &buf, &len), 0);
        CHECK_INT(len, sizeof(big));
        CHECK(buf && memcmp(buf, big, sizeof(big)) == 0);
        CHECK(buf && buf[len] == 0);
        FREE(buf);

        /* Empty content. */
        CHECK_INT(write_file_atomic(dfd, "empty", NULL, 0, 0644, (gid_t) -1), 0);
        CHECK_INT(read_file_at(dfd, "empty", 0, &buf, &len), 0);
        CHECK_INT(len, 0);
        CHECK_STR(buf, "");
        FREE(buf);

        CHECK_INT(count_entries(dfd, "."), 2);
        remove_tmpdir(path, dfd);
}

TEST(write_new_never_replaces) {
        char path[64];
        int dfd = make_tmpdir(path);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        REQUIRE(dfd >= 0);
        CHECK_INT(write_file_atomic_new(dfd, "f.conf", "first\n", 6, 0644, (gid_t) -1), 0);
        CHECK_INT(write_file_atomic_new(dfd, "f.conf", "second\n", 7, 0644, (gid_t) -1), -EEXIST);
        CHECK_INT(read_file_at(dfd, "f.conf", 1024, &buf, &len), 0);
        CHECK_STR(buf, "first\n");
        /* The refused attempt left no temporary file behind. */
        CHECK_INT(count_entries(dfd, "."), 1);
        remove_tmpdir(path, dfd);
}

TEST(write_paths) {
        char path[64], abs[128];
        int dfd = make_tmpdir(path);
        _cleanup_free_ char *buf = NULL;

        REQUIRE(dfd >= 0);
        REQUIRE(mkdirat(dfd, "sub", 0755) == 0);

        /* Relative to dir_fd, through a subdirectory. */
        CHECK_INT(write_file_atomic(dfd, "sub/f", "1", 1, 0600, (gid_t) -1), 0);
        CHECK_INT(read_file_at(dfd, "sub/f", 16, &buf, NULL), 0);
        CHECK_STR(buf, "1");
        FREE(buf);
        CHECK_INT(count_entries(dfd, "sub"), 1);

        /* Absolute, dir_fd ignored. */
        snprintf(abs, sizeof(abs), "%s/sub/g", path);
        CHECK_INT(write_file_atomic(AT_FDCWD, abs, "2", 1, 0600, (gid_t) -1), 0);
        CHECK_INT(read_file_at(AT_FDCWD, abs, 16, &buf, NULL), 0);
        CHECK_STR(buf, "2");
        FREE(buf);

        /* Bad arguments and missing directories. */
        CHECK_INT(write_file_atomic(dfd, "", "x", 1, 0600, (gid_t) -1), -EINVAL);
        CHECK_INT(write_file_atomic(dfd, NULL, "x", 1, 0600, (gid_t) -1), -EINVAL);
        CHECK_INT(write_file_atomic(dfd, "sub/", "x", 1, 0600, (gid_t) -1), -EINVAL);
        CHECK_INT(write_file_atomic(dfd, "sub/..", "x", 1, 0600, (gid_t) -1), -EINVAL);
        CHECK_INT(write_file_atomic(dfd, "f", NULL, 1, 0600, (gid_t) -1), -EINVAL);
        CHECK_INT(write_file_atomic(dfd, "missing/f", "x", 1, 0600, (gid_t) -1), -ENOENT);
        /* A directory in the way: the rename fails and the temporary file goes away. */
        CHECK_INT(write_file_atomic(dfd, "sub", "x", 1, 0600, (gid_t) -1), -EISDIR);

        CHECK_INT(count_entries(dfd, "."), 1);
        CHECK_INT(count_entries(dfd, "sub"), 2);
        remove_tmpdir(path, dfd);
}

TEST(write_group) {
        char path[64];
        int dfd = make_tmpdir(path);
        struct stat st;

        REQUIRE(dfd >= 0);
        if (geteuid() != 0) {
                /* Only root may give a file an arbitrary group. */
                CHECK_INT(write_file_atomic(dfd, "k", "s", 1, 0640, getegid()), 0);
                remove_tmpdir(path, dfd);
                return;
        }

        CHECK_INT(write_file_atomic(dfd, "k", "secret", 6, 0640, 4242), 0);
        REQUIRE(fstatat(dfd, "k", &st, 0) == 0);
        CHECK_INT(st.st_gid, 4242);
        CHECK_INT(st.st_mode & 07777, 0640);

        /* No group change asked: the creator's group. */
        CHECK_INT(write_file_atomic(dfd, "k", "secret", 6, 0600, (gid_t) -1), 0);
        REQUIRE(fstatat(dfd, "k", &st, 0) == 0);
        CHECK_INT(st.st_gid, getegid());
        CHECK_INT(st.st_mode & 07777, 0600);

        remove_tmpdir(path, dfd);
}

/* A write that fails half way (the file size limit works for root too) leaves the old
 * file untouched and no temporary file behind. */
TEST(write_failure_cleans_up) {
        char path[64];
        int dfd = make_tmpdir(path);
        _cleanup_free_ char *buf = NULL;
        struct rlimit old, small;
        void (*old_handler)(int);
        char data[4096];

        REQUIRE(dfd >= 0);
        CHECK_INT(write_file_atomic(dfd, "f", "old", 3, 0644, (gid_t) -1), 0);

        memset(data, 'z', sizeof(data));
        REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
        small = old;
        small.rlim_cur = 100;
        old_handler = signal(SIGXFSZ, SIG_IGN);
        REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);

        CHECK_INT(write_file_atomic(dfd, "f", data, sizeof(data), 0644, (gid_t) -1), -EFBIG);

        REQUIRE(setrlimit(RLIMIT_FSIZE, &old) == 0);
        signal(SIGXFSZ, old_handler);

        CHECK_INT(read_file_at(dfd, "f", 1024, &buf, NULL), 0);
        CHECK_STR(buf, "old");
        CHECK_INT(count_entries(dfd, "."), 1);
        remove_tmpdir(path, dfd);
}

TEST(read_limits_and_types) {
        char path[64];
        int dfd = make_tmpdir(path);
        char *buf = NULL;
        size_t len = 12345;
        char data[100];

        REQUIRE(dfd >= 0);
        memset(data, 'q', sizeof(data));
        CHECK_INT(write_file_atomic(dfd, "f", data, sizeof(data), 0644, (gid_t) -1), 0);

        /* One byte too many; outputs untouched. */
        CHECK_INT(read_file_at(dfd, "f", 99, &buf, &len), -EFBIG);
        CHECK(buf == NULL);
        CHECK_INT(len, 12345);

        CHECK_INT(read_file_at(dfd, "f", 100, &buf, &len), 0);
        CHECK_INT(len, 100);
        CHECK(buf && buf[100] == 0);
        FREE(buf);

        /* Not regular files. */
        REQUIRE(mkdirat(dfd, "d", 0755) == 0);
        CHECK_INT(read_file_at(dfd, "d", 1024, &buf, &len), -EISDIR);
        REQUIRE(mkfifoat(dfd, "fifo", 0600) == 0);
        CHECK_INT(read_file_at(dfd, "fifo", 1024, &buf, &len), -EBADFD); /* and no hang */
        CHECK_INT(read_file_at(dfd, "missing", 1024, &buf, &len), -ENOENT);
        CHECK_INT(read_file_at(dfd, "", 1024, &buf, &len), -EINVAL);
        CHECK(buf == NULL);

        /* A file whose size stat() does not know (procfs reports 0). */
        CHECK_INT(read_file_at(AT_FDCWD, "/proc/self/status", 1024 * 1024, &buf, &len), 0);
        CHECK(len > 0 && buf && strlen(buf) == len && strncmp(buf, "Name:", 5) == 0);
        FREE(buf);
        CHECK_INT(read_file_at(AT_FDCWD, "/proc/self/status", 10, &buf, &len), -EFBIG);
        CHECK(buf == NULL);

        /* Through a symlink (O_NOFOLLOW is not promised by read_file_at). */
        REQUIRE(symlinkat("f", dfd, "link") == 0);
        CHECK_INT(read_file_at(dfd, "link", 100, &buf, &len), 0);
        CHECK_INT(len, 100);
        FREE(buf);

        remove_tmpdir(path, dfd);
}

TEST(mkdir_p) {
        char path[64], abs[128];
        int dfd = make_tmpdir(path);
        mode_t old;
        int fd;

        REQUIRE(dfd >= 0);

        old = umask(077);
        CHECK_INT(mkdir_p_at(dfd, "a/b//c/", 0750), 0);
        umask(old);
        CHECK_INT(file_mode(dfd, "a"), 0750);
        CHECK_INT(file_mode(dfd, "a/b"), 0750);
        CHECK_INT(file_mode(dfd, "a/b/c"), 0750);

        /* Existing directories are fine and keep their modes. */
        REQUIRE(fchmodat(dfd, "a", 0711, 0) == 0);
        CHECK_INT(mkdir_p_at(dfd, "a/b/c/d", 0700), 0);
        CHECK_INT(file_mode(dfd, "a"), 0711);
        CHECK_INT(file_mode(dfd, "a/b/c/d"), 0700);
        CHECK_INT(mkdir_p_at(dfd, "a", 0700), 0);

        /* Through a symlink to a directory, as mkdir -p does. */
        REQUIRE(symlinkat("a/b", dfd, "l") == 0);
        CHECK_INT(mkdir_p_at(dfd, "l/e", 0755), 0);
        CHECK_INT(file_mode(dfd, "a/b/e"), 0755);

        /* A file in the way. */
        fd = openat(dfd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        close(fd);
        CHECK_INT(mkdir_p_at(dfd, "file", 0755), -ENOTDIR);
        CHECK_INT(mkdir_p_at(dfd, "file/x", 0755), -ENOTDIR);
        CHECK_INT(mkdir_p_at(dfd, "", 0755), -EINVAL);

        /* Absolute. */
        snprintf(abs, sizeof(abs), "%s/x/y", path);
        CHECK_INT(mkdir_p_at(AT_FDCWD, abs, 0700), 0);
        CHECK_INT(file_mode(dfd, "x/y"), 0700);

        remove_tmpdir(path, dfd);
}

TEST(fsync_dir) {
        char path[64];
        int dfd = make_tmpdir(path);

        REQUIRE(dfd >= 0);
        CHECK_INT(fsync_dir_at(dfd, NULL), 0);
        CHECK_INT(fsync_dir_at(dfd, "."), 0);
        CHECK_INT(fsync_dir_at(AT_FDCWD, path), 0);
        CHECK_INT(write_file_atomic(dfd, "f", "x", 1, 0644, (gid_t) -1), 0);
        CHECK_INT(fsync_dir_at(dfd, "f"), -ENOTDIR);
        CHECK_INT(fsync_dir_at(dfd, "missing"), -ENOENT);
        remove_tmpdir(path, dfd);
}

TEST_MAIN(T(write_exact_mode), T(write_content_and_overwrite), T(write_new_never_replaces), T(write_paths), T(write_group),
          T(write_failure_cleans_up), T(read_limits_and_types), T(mkdir_p), T(fsync_dir))
