/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"
#include "key.h"
#include "ssl-util.h"
#include "store.h"
#include "test.h"

#define FREE(p)             \
        do {                \
                free(p);    \
                (p) = NULL; \
        } while (0)


static EVP_PKEY *make_key(void) {
        return EVP_EC_gen("P-256");
}

/* A self-signed certificate for key with the given CN, as PEM. */
static char *make_cert_pem(EVP_PKEY *key, const char *cn) {
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
        char *data = NULL, *out;
        long n;

        if (!x || !bio || !X509_set_version(x, X509_VERSION_3) ||
            !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), 90L * 24 * 3600) ||
            !X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName, MBSTRING_ASC,
                                        (const unsigned char *) cn, -1, -1, 0) ||
            !X509_set_issuer_name(x, X509_get_subject_name(x)) || !X509_set_pubkey(x, key) ||
            !X509_sign(x, key, EVP_sha256()) || !PEM_write_bio_X509(bio, x))
                return NULL;

        n = BIO_get_mem_data(bio, &data);
        if (n <= 0 || !(out = malloc((size_t) n + 1)))
                return NULL;
        memcpy(out, data, (size_t) n);
        out[n] = 0;
        return out;
}

/* One version's worth of material. */
typedef struct Material {
        EVP_PKEY *key;
        char *cert, *chain;
} Material;

static bool material_make(Material *m, const char *cn) {
        EVP_PKEY *ca_key = NULL;

        *m = (Material) {};
        m->key = make_key();
        ca_key = make_key();
        if (!m->key || !ca_key) {
                EVP_PKEY_free(ca_key);
                return false;
        }
        m->cert = make_cert_pem(m->key, cn);
        /* Any certificate will do as "chain" for the store. */
        m->chain = make_cert_pem(ca_key, "Test CA");
        EVP_PKEY_free(ca_key);
        return m->cert && m->chain;
}

static void material_done(Material *m) {
        EVP_PKEY_free(m->key);
        free(m->cert);
        free(m->chain);
        *m = (Material) {};
}

static mode_t mode_at(int dir_fd, const char *path) {
        struct stat st;
        if (fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return (mode_t) -1;
        return st.st_mode & 07777;
}

static bool exists_at(int dir_fd, const char *path) {
        struct stat st;
        return fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) >= 0;
}

/* The target of live/<name>, in a static buffer ("" if none). */
static const char *live_target(TestStore *f, const char *name) {
        static char buf[PATH_MAX];
        char p[256];
        ssize_t k;

        snprintf(p, sizeof(p), "live/%s", name);
        k = readlinkat(f->fd, p, buf, sizeof(buf) - 1);
        buf[k < 0 ? 0 : k] = 0;
        return buf;
}

static bool file_equals(int dir_fd, const char *path, const char *want) {
        _cleanup_free_ char *buf = NULL;
        if (read_file_at(dir_fd, path, 1 << 20, &buf, NULL) < 0)
                return false;
        return streq(buf, want);
}

/* Whether dir_fd/path has an entry starting with prefix. */
static bool has_entry_prefix(int dir_fd, const char *path, const char *prefix) {
        DIR *d;
        struct dirent *de;
        bool found = false;
        int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return false;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return false;
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        found = true;
        closedir(d);
        return found;
}

TEST(open_layout) {
        TestStore f;
        Store *again = NULL;
        char deep[192];
        int r;

        REQUIRE(test_store_setup(&f));
        CHECK_INT(mode_at(f.fd, "accounts"), 0700);
        CHECK_INT(mode_at(f.fd, "archive"), 0755);
        CHECK_INT(mode_at(f.fd, "live"), 0755);
        CHECK_INT(mode_at(AT_FDCWD, f.state), 0755);

        /* Opening an existing one, and creating a nested one. */
        CHECK_INT(store_open(f.state, &again), 0);
        again = store_free(again);
        snprintf(deep, sizeof(deep), "%s/a/b/state", f.tmp);
        CHECK_INT(store_open(deep, &again), 0);
        again = store_free(again);
        CHECK_INT(mode_at(AT_FDCWD, deep), 0755);

        /* A symlink in place of live/ is refused. */
        snprintf(deep, sizeof(deep), "%s/odd", f.tmp);
        REQUIRE(mkdir(deep, 0755) == 0);
        snprintf(deep, sizeof(deep), "%s/odd/live", f.tmp);
        REQUIRE(symlink("/tmp", deep) == 0);
        snprintf(deep, sizeof(deep), "%s/odd", f.tmp);
        r = store_open(deep, &again);
        CHECK(r == -ENOTDIR || r == -ELOOP);
        CHECK(again == NULL);

        CHECK_INT(store_open("", &again), -EINVAL);
        test_store_done(&f);
}

TEST(install_and_swap) {
        TestStore f;
        Material m1, m2;
        _cleanup_free_ char *full = NULL, *key_pem = NULL, *live = NULL;
        struct stat st;
        int fd;

        REQUIRE(test_store_setup(&f));
        REQUIRE(material_make(&m1, "one.example"));
        REQUIRE(material_make(&m2, "two.example"));

        CHECK_INT(store_install(f.store, "www", m1.key, m1.cert, m1.chain, (gid_t) -1, 0), 1);
        CHECK_STR(live_target(&f, "www"), "../archive/www/1");
        CHECK_INT(mode_at(f.fd, "archive/www"), 0755);
        CHECK_INT(mode_at(f.fd, "archive/www/1"), 0755);
        CHECK_INT(mode_at(f.fd, "archive/www/1/privkey.pem"), 0600);
        CHECK_INT(mode_at(f.fd, "archive/www/1/cert.pem"), 0644);
        CHECK_INT(mode_at(f.fd, "archive/www/1/chain.pem"), 0644);
        CHECK_INT(mode_at(f.fd, "archive/www/1/fullchain.pem"), 0644);

        /* Contents, read through the live link. */
        CHECK(file_equals(f.fd, "live/www/cert.pem", m1.cert));
        CHECK(file_equals(f.fd, "live/www/chain.pem", m1.chain));
        REQUIRE(asprintf(&full, "%s%s", m1.cert, m1.chain) > 0);
        CHECK(file_equals(f.fd, "live/www/fullchain.pem", full));
        REQUIRE(key_to_pem(m1.key, &key_pem, NULL) == 0);
        CHECK(file_equals(f.fd, "live/www/privkey.pem", key_pem));

        /* Nothing else lying around. */
        CHECK(!has_entry_prefix(f.fd, "archive/www", "."));
        CHECK(!has_entry_prefix(f.fd, "archive/www/1", "."));
        CHECK(!has_entry_prefix(f.fd, "live", "."));

        /* Second install: version 2, link swapped, version 1 kept (keep 0 = all). */
        CHECK_INT(store_install(f.store, "www", m2.key, m2.cert, m2.chain, (gid_t) -1, 0), 2);
        CHECK_STR(live_target(&f, "www"), "../archive/www/2");
        CHECK(file_equals(f.fd, "live/www/cert.pem", m2.cert));
        CHECK(file_equals(f.fd, "archive/www/1/cert.pem", m1.cert));
        CHECK(!has_entry_prefix(f.fd, "live", "."));

        /* With a group for the key: 0640 and that group. */
        CHECK_INT(store_install(f.store, "www", m2.key, m2.cert, NULL, 4242, 0), 3);
        CHECK_INT(mode_at(f.fd, "archive/www/3/privkey.pem"), 0640);
        REQUIRE(fstatat(f.fd, "archive/www/3/privkey.pem", &st, 0) == 0);
        CHECK_INT(st.st_gid, 4242);
        /* No chain: chain.pem empty, fullchain.pem the certificate. */
        CHECK(file_equals(f.fd, "archive/www/3/chain.pem", ""));
        CHECK(file_equals(f.fd, "archive/www/3/fullchain.pem", m2.cert));

        /* The path the daemon hands out. */
        CHECK_INT(store_live_path(f.store, "www", &live), 0);
        REQUIRE(live);
        fd = open(live, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        if (fd >= 0)
                close(fd);
        CHECK(strstr(live, "/state/live/www") != NULL);

        material_done(&m1);
        material_done(&m2);
        test_store_done(&f);
}

TEST(keep_versions) {
        TestStore f;
        Material m;

        REQUIRE(test_store_setup(&f));
        REQUIRE(material_make(&m, "keep.example"));

        /* Things that are not versions are neither counted nor pruned. */
        REQUIRE(mkdirat(f.fd, "archive/keep", 0755) == 0);
        REQUIRE(mkdirat(f.fd, "archive/keep/notes", 0755) == 0);
        REQUIRE(mkdirat(f.fd, "archive/keep/007", 0755) == 0);
        REQUIRE(mkdirat(f.fd, "archive/keep/0", 0755) == 0);

        for (int i = 1; i <= 5; i++)
                CHECK_INT(store_install(f.store, "keep", m.key, m.cert, m.chain, (gid_t) -1, 2), i);

        CHECK_STR(live_target(&f, "keep"), "../archive/keep/5");
        CHECK(!exists_at(f.fd, "archive/keep/1"));
        CHECK(!exists_at(f.fd, "archive/keep/2"));
        CHECK(!exists_at(f.fd, "archive/keep/3"));
        CHECK(exists_at(f.fd, "archive/keep/4"));
        CHECK(exists_at(f.fd, "archive/keep/5"));
        CHECK(exists_at(f.fd, "archive/keep/notes"));
        CHECK(exists_at(f.fd, "archive/keep/007"));
        CHECK(exists_at(f.fd, "archive/keep/0"));

        /* keep 1: only the new one remains. */
        CHECK_INT(store_install(f.store, "keep", m.key, m.cert, m.chain, (gid_t) -1, 1), 6);
        CHECK(!exists_at(f.fd, "archive/keep/4"));
        CHECK(!exists_at(f.fd, "archive/keep/5"));
        CHECK(exists_at(f.fd, "archive/keep/6"));

        /* Numbering continues from the highest version, also after a gap. */
        REQUIRE(mkdirat(f.fd, "archive/keep/41", 0755) == 0);
        CHECK_INT(store_install(f.store, "keep", m.key, m.cert, m.chain, (gid_t) -1, 0), 42);
        CHECK_STR(live_target(&f, "keep"), "../archive/keep/42");

        material_done(&m);
        test_store_done(&f);
}

/* Leftovers of an install interrupted by a crash do not get in the way. */
TEST(crash_leftovers) {
        TestStore f;
        Material m;
        int fd;

        REQUIRE(test_store_setup(&f));
        REQUIRE(material_make(&m, "crash.example"));
        CHECK_INT(store_install(f.store, "c", m.key, m.cert, m.chain, (gid_t) -1, 0), 1);

        /* A half-written version 2 and a link that was never renamed into place. */
        REQUIRE(mkdirat(f.fd, "archive/c/.new-2", 0755) == 0);
        fd = openat(f.fd, "archive/c/.new-2/privkey.pem", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        close(fd);
        REQUIRE(mkdirat(f.fd, "archive/c/.new-7", 0755) == 0);
        REQUIRE(symlinkat("../archive/c/2", f.fd, "live/.live-c.tmp") == 0);

        CHECK_INT(store_install(f.store, "c", m.key, m.cert, m.chain, (gid_t) -1, 0), 2);
        CHECK_STR(live_target(&f, "c"), "../archive/c/2");
        CHECK(!has_entry_prefix(f.fd, "archive/c", ".new-"));
        CHECK(!has_entry_prefix(f.fd, "live", "."));
        CHECK(file_equals(f.fd, "live/c/cert.pem", m.cert));

        /* A crash right after a hand-placed live directory was exchanged for the link
         * leaves that directory under the temporary name: it is moved to the archive. */
        REQUIRE(mkdirat(f.fd, "live/.live-c.tmp", 0755) == 0);
        REQUIRE(write_file_atomic(f.fd, "live/.live-c.tmp/cert.pem", "hand", 4, 0644, (gid_t) -1) == 0);
        CHECK_INT(store_install(f.store, "c", m.key, m.cert, m.chain, (gid_t) -1, 0), 3);
        CHECK_STR(live_target(&f, "c"), "../archive/c/3");
        CHECK(!has_entry_prefix(f.fd, "live", "."));
        CHECK(file_equals(f.fd, "archive/c/hand-placed-3/cert.pem", "hand"));

        material_done(&m);
        test_store_done(&f);
}

/* Failures in the middle of an install leave live/ alone and no partial version. Tests run
 * as root, where mode bits do not stop writes; the file size limit does: with RLIMIT_FSIZE
 * just above the key's size, privkey.pem is written and cert.pem fails with EFBIG, so the
 * install fails with a partial .new-<N> directory that has to be cleaned up. */
TEST(install_failure) {
        TestStore f;
        Material m1, m2;
        _cleanup_free_ char *key_pem = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *empty = NULL;
        size_t key_len = 0;
        struct rlimit old, lim;
        void (*old_handler)(int);
        int r;

        REQUIRE(test_store_setup(&f));
        REQUIRE(material_make(&m1, "old.example"));
        REQUIRE(material_make(&m2, "new.example"));
        CHECK_INT(store_install(f.store, "fail", m1.key, m1.cert, m1.chain, (gid_t) -1, 0), 1);

        REQUIRE(key_to_pem(m2.key, &key_pem, &key_len) == 0);
        REQUIRE(strlen(m2.cert) > key_len + 16);

        REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
        lim = old;
        lim.rlim_cur = key_len + 16;
        old_handler = signal(SIGXFSZ, SIG_IGN);
        REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
        r = store_install(f.store, "fail", m2.key, m2.cert, m2.chain, (gid_t) -1, 1);
        REQUIRE(setrlimit(RLIMIT_FSIZE, &old) == 0);
        signal(SIGXFSZ, old_handler);

        CHECK_INT(r, -EFBIG);
        CHECK_STR(live_target(&f, "fail"), "../archive/fail/1");
        CHECK(file_equals(f.fd, "live/fail/cert.pem", m1.cert));
        CHECK(!exists_at(f.fd, "archive/fail/2"));
        CHECK(!has_entry_prefix(f.fd, "archive/fail", "."));
        CHECK(!has_entry_prefix(f.fd, "live", "."));
        /* keep_versions was 1, but nothing is pruned by a failed install. */
        CHECK(exists_at(f.fd, "archive/fail/1"));

        /* A key that cannot be serialised fails before anything is touched. */
        empty = EVP_PKEY_new();
        REQUIRE(empty);
        CHECK(store_install(f.store, "fail", empty, m2.cert, m2.chain, (gid_t) -1, 0) < 0);
        CHECK(store_install(f.store, "fresh", empty, m2.cert, m2.chain, (gid_t) -1, 0) < 0);
        CHECK(!exists_at(f.fd, "archive/fresh"));
        CHECK(!exists_at(f.fd, "live/fresh"));

        /* Bad arguments. */
        CHECK_INT(store_install(f.store, "fail", m2.key, NULL, m2.chain, (gid_t) -1, 0), -EINVAL);
        CHECK_INT(store_install(f.store, "fail", m2.key, "", m2.chain, (gid_t) -1, 0), -EINVAL);
        CHECK_INT(store_install(f.store, "fail", NULL, m2.cert, m2.chain, (gid_t) -1, 0), -EINVAL);

        CHECK_STR(live_target(&f, "fail"), "../archive/fail/1");

        /* And the next install works and takes version 2. */
        CHECK_INT(store_install(f.store, "fail", m2.key, m2.cert, m2.chain, (gid_t) -1, 1), 2);
        CHECK_STR(live_target(&f, "fail"), "../archive/fail/2");
        CHECK(!exists_at(f.fd, "archive/fail/1"));

        material_done(&m1);
        material_done(&m2);
        test_store_done(&f);
}

TEST(load_live) {
        TestStore f;
        Material m1, m2;
        X509 *cert = NULL;
        EVP_PKEY *key = NULL;
        unsigned version = 77;
        _cleanup_(X509_freep) X509 *want1 = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;

        REQUIRE(test_store_setup(&f));
        REQUIRE(material_make(&m1, "load1.example"));
        REQUIRE(material_make(&m2, "load2.example"));

        /* Nothing live yet; outputs untouched. */
        CHECK_INT(store_load_live(f.store, "site", &cert, &key, &version), -ENOENT);
        CHECK(cert == NULL && key == NULL && version == 77);

        CHECK_INT(store_install(f.store, "site", m1.key, m1.cert, m1.chain, (gid_t) -1, 0), 1);
        CHECK_INT(store_load_live(f.store, "site", &cert, &key, &version), 0);
        CHECK_INT(version, 1);
        REQUIRE(cert && key);
        bio = BIO_new_mem_buf(m1.cert, -1);
        REQUIRE(bio);
        want1 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        REQUIRE(want1);
        CHECK_INT(X509_cmp(cert, want1), 0);
        CHECK_INT(EVP_PKEY_eq(key, m1.key), 1);
        CHECK_INT(X509_check_private_key(cert, key), 1);
        X509_free(cert);
        EVP_PKEY_free(key);
        cert = NULL;
        key = NULL;

        CHECK_INT(store_install(f.store, "site", m2.key, m2.cert, m2.chain, (gid_t) -1, 0), 2);
        /* Any output may be NULL. */
        CHECK_INT(store_load_live(f.store, "site", NULL, NULL, &version), 0);
        CHECK_INT(version, 2);
        CHECK_INT(store_load_live(f.store, "site", NULL, &key, NULL), 0);
        CHECK(key && EVP_PKEY_eq(key, m2.key) == 1);
        EVP_PKEY_free(key);
        key = NULL;
        CHECK_INT(store_load_live(f.store, "site", &cert, NULL, NULL), 0);
        CHECK(cert && X509_cmp(cert, want1) != 0);
        X509_free(cert);
        cert = NULL;

        /* A live version whose certificate is garbage. */
        REQUIRE(write_file_atomic(f.fd, "archive/site/2/cert.pem", "junk\n", 5, 0644, (gid_t) -1) == 0);
        CHECK(store_load_live(f.store, "site", &cert, NULL, &version) < 0);
        CHECK(cert == NULL);
        /* A dangling link. */
        (void) test_rm_rf(f.fd, "archive/site/2");
        CHECK_INT(store_load_live(f.store, "site", &cert, &key, &version), -ENOENT);

        material_done(&m1);
        material_done(&m2);
        test_store_done(&f);
}

/* DESIGN.md: certificates placed in live/ by hand are watched (version 0), and the first
 * install replaces them, keeping the hand-placed files in the archive. */
TEST(hand_placed) {
        TestStore f;
        Material m1, m2;
        _cleanup_free_ char *key_pem = NULL;
        X509 *cert = NULL;
        EVP_PKEY *key = NULL;
        unsigned version = 77;

        REQUIRE(test_store_setup(&f));
        REQUIRE(material_make(&m1, "hand.example"));
        REQUIRE(material_make(&m2, "managed.example"));
        REQUIRE(key_to_pem(m1.key, &key_pem, NULL) == 0);

        REQUIRE(mkdirat(f.fd, "live/hand", 0755) == 0);
        REQUIRE(write_file_atomic(f.fd, "live/hand/cert.pem", m1.cert, strlen(m1.cert), 0644, (gid_t) -1) == 0);
        REQUIRE(write_file_atomic(f.fd, "live/hand/privkey.pem", key_pem, strlen(key_pem), 0600, (gid_t) -1) == 0);

        CHECK_INT(store_load_live(f.store, "hand", &cert, &key, &version), 0);
        CHECK_INT(version, 0);
        CHECK(cert && key && X509_check_private_key(cert, key) == 1);
        X509_free(cert);
        EVP_PKEY_free(key);
        cert = NULL;
        key = NULL;

        /* Only a fullchain.pem: its first certificate is the one. */
        REQUIRE(mkdirat(f.fd, "live/full", 0755) == 0);
        REQUIRE(write_file_atomic(f.fd, "live/full/fullchain.pem", m1.cert, strlen(m1.cert), 0644, (gid_t) -1) == 0);
        CHECK_INT(store_load_live(f.store, "full", &cert, NULL, &version), 0);
        CHECK_INT(version, 0);
        CHECK(cert != NULL);
        X509_free(cert);
        cert = NULL;

        /* A hand-made symlink elsewhere is also version 0. */
        REQUIRE(symlinkat("hand", f.fd, "live/alias") == 0);
        version = 77;
        CHECK_INT(store_load_live(f.store, "alias", NULL, &key, &version), 0);
        CHECK_INT(version, 0);
        EVP_PKEY_free(key);
        key = NULL;

        /* The first install swaps the directory out in one step and keeps it. */
        CHECK_INT(store_install(f.store, "hand", m2.key, m2.cert, m2.chain, (gid_t) -1, 1), 1);
        CHECK_STR(live_target(&f, "hand"), "../archive/hand/1");
        CHECK(file_equals(f.fd, "archive/hand/hand-placed-1/cert.pem", m1.cert));
        CHECK(!has_entry_prefix(f.fd, "live", "."));
        CHECK_INT(store_load_live(f.store, "hand", &cert, &key, &version), 0);
        CHECK_INT(version, 1);
        CHECK(key && EVP_PKEY_eq(key, m2.key) == 1);
        X509_free(cert);
        EVP_PKEY_free(key);
        cert = NULL;
        key = NULL;

        /* Pruning leaves the hand-placed files alone. */
        CHECK_INT(store_install(f.store, "hand", m2.key, m2.cert, m2.chain, (gid_t) -1, 1), 2);
        CHECK(!exists_at(f.fd, "archive/hand/1"));
        CHECK(exists_at(f.fd, "archive/hand/hand-placed-1"));

        material_done(&m1);
        material_done(&m2);
        test_store_done(&f);
}

/* A reader never sees the key of one version with the certificate of another, while a
 * second process installs and prunes versions as fast as it can. */
TEST(concurrent_reader) {
        TestStore f;
        Material m[2];
        X509 *want[2] = {};
        unsigned loads = 0, failures = 0, mismatches = 0, last = 0, backwards = 0;
        int status = 0;
        pid_t pid;

        REQUIRE(test_store_setup(&f));
        REQUIRE(material_make(&m[0], "odd.example"));
        REQUIRE(material_make(&m[1], "even.example"));
        for (int i = 0; i < 2; i++) {
                _cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(m[i].cert, -1);
                REQUIRE(bio);
                want[i] = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                CHECK(want[i]);
        }
        REQUIRE(want[0] && want[1]);
        REQUIRE(store_install(f.store, "busy", m[0].key, m[0].cert, m[0].chain, (gid_t) -1, 1) == 1);

        fflush(NULL);
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
                Store *s = NULL;
                int bad = 0;

                if (store_open(f.state, &s) < 0)
                        _exit(2);
                /* Version v carries m[(v - 1) % 2]. */
                for (unsigned v = 2; v <= 40; v++) {
                        Material *x = &m[(v - 1) % 2];
                        if (store_install(s, "busy", x->key, x->cert, x->chain, (gid_t) -1, 1) != (int) v)
                                bad = 1;
                }
                store_free(s);
                _exit(bad);
        }

        for (;;) {
                X509 *cert = NULL;
                EVP_PKEY *key = NULL;
                unsigned v = 0;
                pid_t w = waitpid(pid, &status, WNOHANG);

                if (store_load_live(f.store, "busy", &cert, &key, &v) < 0)
                        failures++;
                else {
                        loads++;
                        if (X509_check_private_key(cert, key) != 1 || X509_cmp(cert, want[(v - 1) % 2]) != 0 ||
                            EVP_PKEY_eq(key, m[(v - 1) % 2].key) != 1)
                                mismatches++;
                        if (v < last)
                                backwards++;
                        last = v;
                }
                X509_free(cert);
                EVP_PKEY_free(key);
                if (w != 0)
                        break;
        }

        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(loads > 0);
        CHECK_INT(failures, 0);
        CHECK_INT(mismatches, 0);
        CHECK_INT(backwards, 0);
        CHECK_INT(last, 40);
        CHECK_STR(live_target(&f, "busy"), "../archive/busy/40");
        CHECK(!exists_at(f.fd, "archive/busy/39"));
        CHECK(exists_at(f.fd, "archive/busy/40"));

        X509_free(want[0]);
        X509_free(want[1]);
        material_done(&m[0]);
        material_done(&m[1]);
        test_store_done(&f);
}

TEST(bad_names) {
        static const char *const bad[] = {
                "", ".", "..", ".hidden", "a/b", "/abs", "a b", "caf\xc3\xa9", "x\n", "a\\b",
                "12345678901234567890123456789012345678901234567890123456789012345", /* 65 */
        };
        static const char *const good[] = {
                "a", "www.example.com", "A-b_c.9", "0", "a..b", "x-",
                "1234567890123456789012345678901234567890123456789012345678901234", /* 64 */
        };
        TestStore f;
        Material m;
        EVP_PKEY *key = NULL;
        char *s = NULL;

        REQUIRE(test_store_setup(&f));
        REQUIRE(material_make(&m, "names.example"));

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CHECK(!store_name_is_valid(bad[i]));
                CHECK_INT(store_install(f.store, bad[i], m.key, m.cert, m.chain, (gid_t) -1, 0), -EINVAL);
                CHECK_INT(store_load_live(f.store, bad[i], NULL, NULL, NULL), -EINVAL);
                CHECK_INT(store_live_path(f.store, bad[i], &s), -EINVAL);
                CHECK_INT(store_save_account_key(f.store, bad[i], m.key), -EINVAL);
                CHECK_INT(store_load_account_key(f.store, bad[i], &key), -EINVAL);
                CHECK_INT(store_save_account_json(f.store, bad[i], "{}"), -EINVAL);
                CHECK_INT(store_load_account_json(f.store, bad[i], &s), -EINVAL);
        }
        CHECK(!store_name_is_valid(NULL));
        CHECK(s == NULL && key == NULL);
        /* Nothing was created for them. */
        CHECK(!has_entry_prefix(f.fd, "archive", ""));
        CHECK(!has_entry_prefix(f.fd, "live", ""));

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                CHECK(store_name_is_valid(good[i]));
                CHECK_INT(store_install(f.store, good[i], m.key, m.cert, m.chain, (gid_t) -1, 0), 1);
        }

        material_done(&m);
        test_store_done(&f);
}

TEST(accounts) {
        TestStore f;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = make_key(), *key2 = make_key();
        EVP_PKEY *loaded = NULL;
        char *json = NULL;

        REQUIRE(test_store_setup(&f));
        REQUIRE(key && key2);

        CHECK_INT(store_load_account_key(f.store, "le", &loaded), -ENOENT);
        CHECK_INT(store_load_account_json(f.store, "le", &json), -ENOENT);
        CHECK(loaded == NULL && json == NULL);

        CHECK_INT(store_save_account_key(f.store, "le", key), 0);
        CHECK_INT(mode_at(f.fd, "accounts/le"), 0700);
        CHECK_INT(mode_at(f.fd, "accounts/le/key.pem"), 0600);
        CHECK_INT(store_load_account_key(f.store, "le", &loaded), 0);
        CHECK(loaded && EVP_PKEY_eq(loaded, key) == 1);
        EVP_PKEY_free(loaded);
        loaded = NULL;

        /* Replaced. */
        CHECK_INT(store_save_account_key(f.store, "le", key2), 0);
        CHECK_INT(store_load_account_key(f.store, "le", &loaded), 0);
        CHECK(loaded && EVP_PKEY_eq(loaded, key2) == 1);
        EVP_PKEY_free(loaded);
        loaded = NULL;

        CHECK_INT(store_save_account_json(f.store, "le", "{\"url\":\"https://ca/acct/1\"}\n"), 0);
        CHECK_INT(mode_at(f.fd, "accounts/le/account.json"), 0600);
        CHECK_INT(store_load_account_json(f.store, "le", &json), 0);
        CHECK_STR(json, "{\"url\":\"https://ca/acct/1\"}\n");
        FREE(json);
        CHECK_INT(store_save_account_json(f.store, "le", "{}"), 0);
        CHECK_INT(store_load_account_json(f.store, "le", &json), 0);
        CHECK_STR(json, "{}");
        FREE(json);

        /* A second CA, json first. */
        CHECK_INT(store_save_account_json(f.store, "staging", "{}"), 0);
        CHECK_INT(mode_at(f.fd, "accounts/staging"), 0700);
        CHECK_INT(store_load_account_key(f.store, "staging", &loaded), -ENOENT);

        /* A corrupt key file. */
        REQUIRE(write_file_atomic(f.fd, "accounts/staging/key.pem", "nope", 4, 0600, (gid_t) -1) == 0);
        CHECK(store_load_account_key(f.store, "staging", &loaded) < 0);
        CHECK(loaded == NULL);

        CHECK(!has_entry_prefix(f.fd, "accounts/le", "."));
        test_store_done(&f);
}

TEST_MAIN(T(open_layout), T(install_and_swap), T(keep_versions), T(crash_leftovers), T(install_failure),
          T(load_live), T(hand_placed), T(concurrent_reader), T(bad_names), T(accounts))
