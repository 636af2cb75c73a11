/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "store.h"
#include "test.h"

char *test_tmpdir(void) {
        char *t = NULL;

        if (asprintf(&t, "/tmp/%s-XXXXXX", program_invocation_short_name) < 0)
                return NULL;
        if (!mkdtemp(t)) {
                int e = errno;

                free(t);
                errno = e;
                return NULL;
        }
        return t;
}

int test_rm_rf(int dir_fd, const char *path) {
        DIR *d;
        struct dirent *de;
        int fd, r = 0, k;

        if (unlinkat(dir_fd, path, 0) >= 0)
                return 0;
        if (errno != EISDIR)
                return -errno;
        fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        k = test_rm_rf(dirfd(d), de->d_name);
                        if (k < 0 && r == 0)
                                r = k;
                }
        closedir(d);
        if (unlinkat(dir_fd, path, AT_REMOVEDIR) < 0 && r == 0)
                r = -errno;
        return r;
}

void test_tmpdir_freep(char **path) {
        if (*path)
                (void) test_rm_rf(AT_FDCWD, *path);
        free(*path);
        *path = NULL;
}

bool test_store_setup(TestStore *f) {
        *f = (TestStore) { .fd = -EBADF };
        f->tmp = test_tmpdir();
        if (!f->tmp)
                return false;
        snprintf(f->state, sizeof(f->state), "%s/state", f->tmp);
        if (store_open(f->state, &f->store) < 0)
                return false;
        f->fd = store_dir_fd(f->store);
        return f->fd >= 0;
}

void test_store_done(TestStore *f) {
        f->store = store_free(f->store);
        if (f->tmp)
                (void) test_rm_rf(AT_FDCWD, f->tmp);
        f->tmp = mfree(f->tmp);
}

char *test_path_join(const char *a, const char *b) {
        char *p = NULL;
        return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

char *test_read_file(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf;
        size_t n;

        if (!f)
                return NULL;
        buf = calloc(1, 65536);
        if (buf) {
                n = fread(buf, 1, 65535, f);
                buf[n] = 0;
        }
        fclose(f);
        return buf;
}
