/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "challenge-http01.h"
#include "macro.h"
#include "test.h"

#define TOKEN "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

#define _cleanup_tmpdir_ _cleanup_(test_tmpdir_freep)



static int write_file(const char *path, const char *content, mode_t mode) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        size_t n = strlen(content);
        return write(fd, content, n) == (ssize_t) n ? 0 : -EIO;
}

/* Number of entries in a directory (without . and ..), -1 if it cannot be read. */
static int dir_entries(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static char *challenge_path(const char *webroot, const char *token) {
        char *p = NULL;
        return asprintf(&p, "%s/.well-known/acme-challenge/%s", webroot, token) < 0 ? NULL : p;
}

TEST(deploy_and_remove) {
        _cleanup_tmpdir_ char *root = test_tmpdir();
        _cleanup_free_ char *file = NULL, *content = NULL, *wk = NULL, *ac = NULL;
        struct stat st;
        mode_t old_umask;
        int r;

        REQUIRE(root);
        file = challenge_path(root, TOKEN);
        wk = test_path_join(root, ".well-known");
        ac = test_path_join(root, ".well-known/acme-challenge");
        REQUIRE(file && wk && ac);

        /* A strict umask must not make the file unreadable for the web server. */
        old_umask = umask(077);
        r = http01_webroot_deploy(root, TOKEN, KEYAUTH);
        umask(old_umask);
        CHECK_INT(r, 0);

        content = test_read_file(file);
        CHECK_STR(content, KEYAUTH);
        REQUIRE(lstat(file, &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_INT(st.st_mode & 07777, 0644);
        CHECK_INT(st.st_size, strlen(KEYAUTH));

        /* The directories it made are traversable by the web server too. */
        REQUIRE(lstat(wk, &st) == 0);
        CHECK(S_ISDIR(st.st_mode));
        CHECK_INT(st.st_mode & 07777, 0755);
        REQUIRE(lstat(ac, &st) == 0);
        CHECK(S_ISDIR(st.st_mode));
        CHECK_INT(st.st_mode & 07777, 0755);

        /* Deploying again (same token) replaces the file. */
        CHECK_INT(http01_webroot_deploy(root, TOKEN, "other"), 0);
        free(content);
        content = test_read_file(file);
        CHECK_STR(content, "other");
        CHECK_INT(dir_entries(ac), 1);

        CHECK_INT(http01_webroot_remove(root, TOKEN), 0);
        CHECK(lstat(file, &st) < 0 && errno == ENOENT);
        CHECK_INT(http01_webroot_remove(root, TOKEN), 0);
        /* The directories stay. */
        CHECK_INT(dir_entries(ac), 0);
}

TEST(preexisting_dirs_kept) {
        _cleanup_tmpdir_ char *root = test_tmpdir();
        _cleanup_free_ char *wk = NULL, *ac = NULL, *file = NULL;
        struct stat st;

        REQUIRE(root);
        wk = test_path_join(root, ".well-known");
        ac = test_path_join(root, ".well-known/acme-challenge");
        file = challenge_path(root, "tok");
        REQUIRE(wk && ac && file);
        REQUIRE(mkdir(wk, 0750) == 0 && chmod(wk, 0750) == 0);
        REQUIRE(mkdir(ac, 0700) == 0 && chmod(ac, 0700) == 0);

        CHECK_INT(http01_webroot_deploy(root, "tok", "x"), 0);
        /* The administrator's modes on existing directories are left alone. */
        REQUIRE(stat(wk, &st) == 0);
        CHECK_INT(st.st_mode & 07777, 0750);
        REQUIRE(stat(ac, &st) == 0);
        CHECK_INT(st.st_mode & 07777, 0700);
        REQUIRE(stat(file, &st) == 0);
        CHECK_INT(st.st_mode & 07777, 0644);
        CHECK_INT(http01_webroot_remove(root, "tok"), 0);
}

TEST(remove_without_dirs) {
        _cleanup_tmpdir_ char *root = test_tmpdir();

        REQUIRE(root);
        CHECK_INT(http01_webroot_remove(root, TOKEN), 0);
        CHECK_INT(dir_entries(root), 0);
}

TEST(missing_webroot) {
        _cleanup_tmpdir_ char *root = test_tmpdir();
        _cleanup_free_ char *gone = NULL;

        REQUIRE(root);
        gone = test_path_join(root, "does-not-exist");
        REQUIRE(gone);
        CHECK_INT(http01_webroot_deploy(gone, TOKEN, KEYAUTH), -ENOENT);
        CHECK_INT(dir_entries(root), 0);
}

TEST(hostile_tokens) {
        _cleanup_tmpdir_ char *root = test_tmpdir();
        char long_token[300];
        static const char *const bad[] = {
                "../x", "/x", "", "a/b", "a.b", ".", "..", "$(x)", "a b", " ab", "ab ", "a\tb",
                "a\nb", "a\\b", "a=b", "ab==", "a+b", "~", "*", "a%2fb", "\xc3\xa9", "-\x7f",
                "../../../../../../tmp/pwned", ".well-known", "..%2f..%2fetc",
        };

        REQUIRE(root);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CHECK(!http01_token_is_valid(bad[i]));
                CHECK_INT(http01_webroot_deploy(root, bad[i], KEYAUTH), -EINVAL);
                CHECK_INT(http01_webroot_remove(root, bad[i]), -EINVAL);
        }
        CHECK(!http01_token_is_valid(NULL));
        CHECK_INT(http01_webroot_deploy(root, NULL, KEYAUTH), -EINVAL);
        CHECK_INT(http01_webroot_remove(root, NULL), -EINVAL);

        /* 257 and 256 characters are too many: a token is a file name, at most NAME_MAX
         * (255) bytes, and a token that is valid must be deployable. */
        CHECK_INT(HTTP01_TOKEN_MAX, 255);
        memset(long_token, 'A', 257);
        long_token[257] = 0;
        CHECK_INT(strlen(long_token), 257);
        CHECK(!http01_token_is_valid(long_token));
        CHECK_INT(http01_webroot_deploy(root, long_token, KEYAUTH), -EINVAL);
        long_token[256] = 0;
        CHECK(!http01_token_is_valid(long_token));
        CHECK_INT(http01_webroot_deploy(root, long_token, KEYAUTH), -EINVAL);

        /* Nothing at all was created, not even the directories. */
        CHECK_INT(dir_entries(root), 0);

        long_token[255] = 0;
        CHECK(http01_token_is_valid(long_token));
        CHECK_INT(http01_webroot_deploy(root, long_token, KEYAUTH), 0);
        CHECK_INT(http01_webroot_remove(root, long_token), 0);
}

TEST(token_with_nul) {
        _cleanup_tmpdir_ char *root = test_tmpdir();
        _cleanup_free_ char *ac = NULL, *file = NULL, *content = NULL;
        static const char token[] = "ab\0cd";

        REQUIRE(root);
        /* A C string ends at the NUL: the token is "ab", and only that file appears. */
        CHECK(http01_token_is_valid(token));
        CHECK_INT(http01_webroot_deploy(root, token, "ab.thumb"), 0);
        ac = test_path_join(root, ".well-known/acme-challenge");
        file = challenge_path(root, "ab");
        REQUIRE(ac && file);
        CHECK_INT(dir_entries(ac), 1);
        content = test_read_file(file);
        CHECK_STR(content, "ab.thumb");
        CHECK_INT(http01_webroot_remove(root, token), 0);
        CHECK_INT(dir_entries(ac), 0);
}

/* Set up webroot and an "outside" directory, with `link` (relative to the webroot)
 * a symlink to outside. */
static void symlinked_dir(const char *mkdirs, const char *link) {
        _cleanup_tmpdir_ char *root = test_tmpdir(), *outside = test_tmpdir();
        _cleanup_free_ char *lpath = NULL, *victim = NULL, *content = NULL, *dpath = NULL;
        int r;

        REQUIRE(root && outside);
        if (mkdirs) {
                dpath = test_path_join(root, mkdirs);
                REQUIRE(dpath && mkdir(dpath, 0755) == 0);
        }
        lpath = test_path_join(root, link);
        REQUIRE(lpath && symlink(outside, lpath) == 0);

        r = http01_webroot_deploy(root, TOKEN, KEYAUTH);
        if (r != -ELOOP && r != -ENOTDIR)
                fprintf(stderr, "deploy through %s: %d\n", link, r);
        CHECK(r == -ELOOP || r == -ENOTDIR);
        /* Nothing was written through the link. */
        CHECK_INT(dir_entries(outside), 0);

        /* Nor is anything removed through it. */
        victim = test_path_join(outside, TOKEN);
        REQUIRE(victim && write_file(victim, "precious", 0600) == 0);
        r = http01_webroot_remove(root, TOKEN);
        CHECK(r == -ELOOP || r == -ENOTDIR);
        content = test_read_file(victim);
        CHECK_STR(content, "precious");
}

TEST(symlinked_well_known) {
        symlinked_dir(NULL, ".well-known");
}

TEST(symlinked_acme_challenge) {
        symlinked_dir(".well-known", ".well-known/acme-challenge");
}

TEST(dangling_symlinked_dir) {
        _cleanup_tmpdir_ char *root = test_tmpdir(), *outside = test_tmpdir();
        _cleanup_free_ char *lpath = NULL, *target = NULL;
        struct stat st;
        int r;

        REQUIRE(root && outside);
        target = test_path_join(outside, "not-yet");
        lpath = test_path_join(root, ".well-known");
        REQUIRE(target && lpath && symlink(target, lpath) == 0);

        r = http01_webroot_deploy(root, TOKEN, KEYAUTH);
        CHECK(r == -ELOOP || r == -ENOTDIR);
        /* mkdir did not follow the dangling link either. */
        CHECK(lstat(target, &st) < 0 && errno == ENOENT);
        CHECK_INT(dir_entries(outside), 0);
}

TEST(symlink_at_token_path) {
        _cleanup_tmpdir_ char *root = test_tmpdir(), *outside = test_tmpdir();
        _cleanup_free_ char *ac = NULL, *file = NULL, *victim = NULL, *content = NULL, *vcontent = NULL;
        struct stat st;

        REQUIRE(root && outside);
        ac = test_path_join(root, ".well-known/acme-challenge");
        REQUIRE(ac);
        REQUIRE(http01_webroot_deploy(root, "setup", "x") == 0); /* creates the directories */
        REQUIRE(http01_webroot_remove(root, "setup") == 0);

        victim = test_path_join(outside, "victim");
        file = challenge_path(root, TOKEN);
        REQUIRE(victim && file);
        REQUIRE(write_file(victim, "precious", 0600) == 0);
        REQUIRE(symlink(victim, file) == 0);

        CHECK_INT(http01_webroot_deploy(root, TOKEN, KEYAUTH), 0);
        /* The link was replaced by a regular file; its target is untouched. */
        REQUIRE(lstat(file, &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_INT(st.st_mode & 07777, 0644);
        content = test_read_file(file);
        CHECK_STR(content, KEYAUTH);
        vcontent = test_read_file(victim);
        CHECK_STR(vcontent, "precious");
        REQUIRE(stat(victim, &st) == 0);
        CHECK_INT(st.st_mode & 07777, 0600);

        /* Removing a symlink at the token path removes the link, not its target. */
        CHECK_INT(http01_webroot_remove(root, TOKEN), 0);
        REQUIRE(symlink(victim, file) == 0);
        CHECK_INT(http01_webroot_remove(root, TOKEN), 0);
        CHECK(lstat(file, &st) < 0 && errno == ENOENT);
        free(vcontent);
        vcontent = test_read_file(victim);
        CHECK_STR(vcontent, "precious");
}

TEST(stale_file_replaced) {
        _cleanup_tmpdir_ char *root = test_tmpdir();
        _cleanup_free_ char *file = NULL, *content = NULL, *ac = NULL;
        struct stat st;

        REQUIRE(root);
        REQUIRE(http01_webroot_deploy(root, "setup", "x") == 0);
        REQUIRE(http01_webroot_remove(root, "setup") == 0);
        file = challenge_path(root, TOKEN);
        ac = test_path_join(root, ".well-known/acme-challenge");
        REQUIRE(file && ac);

        /* Left over from a killed run: longer than the new content, mode 0600. */
        REQUIRE(write_file(file, "stale stale stale stale stale stale stale stale stale stale stale stale", 0600) == 0);
        REQUIRE(chmod(file, 0600) == 0);

        CHECK_INT(http01_webroot_deploy(root, TOKEN, "fresh"), 0);
        content = test_read_file(file);
        CHECK_STR(content, "fresh");
        REQUIRE(lstat(file, &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_INT(st.st_mode & 07777, 0644);
        CHECK_INT(dir_entries(ac), 1);
        CHECK_INT(http01_webroot_remove(root, TOKEN), 0);
}

TEST(empty_key_authorization) {
        _cleanup_tmpdir_ char *root = test_tmpdir();
        _cleanup_free_ char *file = NULL, *content = NULL;

        REQUIRE(root);
        file = challenge_path(root, TOKEN);
        REQUIRE(file);
        CHECK_INT(http01_webroot_deploy(root, TOKEN, ""), 0);
        content = test_read_file(file);
        CHECK_STR(content, "");
        CHECK_INT(http01_webroot_remove(root, TOKEN), 0);
}

TEST_MAIN(T(deploy_and_remove), T(preexisting_dirs_kept), T(remove_without_dirs), T(missing_webroot),
          T(hostile_tokens), T(token_with_nul), T(symlinked_well_known), T(symlinked_acme_challenge),
          T(dangling_symlinked_dir), T(symlink_at_token_path), T(stale_file_replaced), T(empty_key_authorization))
