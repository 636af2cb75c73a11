/* SPDX-License-Identifier: MIT */
/* renewctl's connection to renewd: connect, send a call, wait for its replies. Blocking in
 * spirit (one call at a time, nothing else to do meanwhile) but every wait goes through
 * poll(2) with a deadline, and the socket is non-blocking so no read or write can outlast
 * it. */

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>

#include "client.h"

struct Client {
        int fd;
        VarlinkReader *reader;
        bool more;              /* the last call asked for more */
};

uint64_t client_now(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

/* Milliseconds left until deadline for poll(2), rounded up, at least 0. */
static int remaining_msec(uint64_t deadline) {
        uint64_t now = client_now(), left;

        if (now >= deadline)
                return 0;
        left = (deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
        return left > INT32_MAX ? INT32_MAX : (int) left;
}

/* Wait until fd is ready for events or deadline passes. Returns 0, -ETIMEDOUT, -EINTR. */
static int wait_fd(int fd, short events, uint64_t deadline) {
        struct pollfd p = { .fd = fd, .events = events };
        int n;

        for (;;) {
                int timeout = remaining_msec(deadline);

                if (timeout == 0 && client_now() >= deadline)
                        return -ETIMEDOUT;
                n = poll(&p, 1, timeout);
                if (n < 0)
                        return negative_errno();
                if (n > 0)
                        return 0;       /* readable, writable, or POLLHUP/POLLERR: let I/O tell */
        }
}

/* Fill *sa from path: a file system path, or "@name" for the abstract namespace. Returns
 * the address length, or -ENAMETOOLONG / -EINVAL. */
static int sockaddr_from_path(const char *path, struct sockaddr_un *sa) {
        size_t n = strlen(path);

        if (n == 0)
                return -EINVAL;
        if (n >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        memcpy(sa->sun_path, path, n);
        if (path[0] == '@') {
                sa->sun_path[0] = '\0';
                return (int) (offsetof(struct sockaddr_un, sun_path) + n);
        }
        return (int) (offsetof(struct sockaddr_un, sun_path) + n + 1);
}

int client_connect(const char *path, uint64_t deadline, Client **ret) {
        _cleanup_(varlink_reader_freep) VarlinkReader *reader = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa;
        struct timeval tv;
        uint64_t now, left;
        Client *c;
        int salen, r, flags;

        if (!path || !ret)
                return -EINVAL;
        salen = sockaddr_from_path(path, &sa);
        if (salen < 0)
                return salen;

        r = varlink_reader_new(VARLINK_MESSAGE_SIZE_LIMIT, &reader);
        if (r < 0)
                return r;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();

        /* A blocking connect to a Unix socket waits while the listen queue is full, bounded
         * by SO_SNDTIMEO (a non-blocking one would fail with EAGAIN at once instead). */
        now = client_now();
        if (now >= deadline)
                return -ETIMEDOUT;
        left = deadline - now;
        tv = (struct timeval) { .tv_sec = (time_t) (left / USEC_PER_SEC),
                                .tv_usec = (suseconds_t) (left % USEC_PER_SEC) };
        if (tv.tv_sec == 0 && tv.tv_usec == 0)
                tv.tv_usec = 1;         /* zero would mean "forever" */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return negative_errno();

        if (connect(fd, (const struct sockaddr *) &sa, (socklen_t) salen) < 0)
                return errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : negative_errno();

        /* From here on every wait is a poll(2) with the deadline. */
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return negative_errno();

        c = malloc(sizeof(*c));
        if (!c)
                return -ENOMEM;
        *c = (Client) { .fd = TAKE_FD(fd), .reader = TAKE_PTR(reader) };
        *ret = c;
        return 0;
}

Client *client_free(Client *c) {
        if (!c)
                return NULL;
        safe_close(c->fd);
        varlink_reader_free(c->reader);
        return mfree(c);
}

/* Write all of buf. Returns 0 or a negative errno. */
static int write_all(Client *c, const char *buf, size_t len, uint64_t deadline) {
        while (len > 0) {
                ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

                if (n < 0) {
                        int r;

                        if (errno != EAGAIN && errno != EINTR)
                                return negative_errno();
                        r = wait_fd(c->fd, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

int client_call(Client *c, const char *method, const cJSON *parameters, bool more, bool oneway,
                uint64_t deadline) {
        _cleanup_free_ char *msg = NULL;
        size_t len;
        int r;

        if (!c || !method)
                return -EINVAL;
        r = varlink_call_build(method, parameters, more, oneway, &msg, &len);
        if (r < 0)
                return r;
        r = write_all(c, msg, len, deadline);
        if (r < 0)
                return r;
        c->more = more;
        return 0;
}

int client_read_reply(Client *c, uint64_t deadline, VarlinkReply *ret) {
        char buf[64 * 1024];
        int r;

        if (!c || !ret)
                return -EINVAL;

        for (;;) {
                _cleanup_json_ cJSON *message = NULL;
                ssize_t n;

                r = varlink_reader_next(c->reader, &message);
                if (r < 0)
                        return r;
                if (r > 0)
                        return varlink_reply_parse(message, c->more, ret);

                n = recv(c->fd, buf, sizeof(buf), 0);
                if (n < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                return negative_errno();
                        r = wait_fd(c->fd, POLLIN, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (n == 0)
                        return -ECONNRESET;     /* closed before a complete reply */
                r = varlink_reader_feed(c->reader, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
}
