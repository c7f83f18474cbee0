/* epoll_echo.c: a single-threaded, edge-triggered epoll echo server, written the way a careful
 * production server is: non-blocking sockets, every read loop runs until EAGAIN (an edge is
 * only reported once), partial writes keep the rest in a per-connection buffer and wait for
 * EPOLLOUT, EINTR is retried everywhere, a peer that resets or vanishes costs only its own
 * connection, and a connection whose output backs up stops being read (back-pressure) until it
 * drains, then resumes without waiting for an edge that will not come.
 *
 * usage: epoll_echo FAMILY CLIENTS [IDLE_MS]
 *   FAMILY   ipv4 (127.0.0.1), ipv6 (::1) or unix:PATH (a Unix-domain stream socket)
 *   CLIENTS  exit 0 once this many connections are over (closed by the peer, reset, failed, or
 *            reported aborted by accept)
 *   IDLE_MS  exit 3 when nothing at all happens for this long (default 30000)
 * stdout line 1: the port (or the socket path), flushed at once; line 2 at exit: the counts.
 * When the family is not available here (no ::1), line 1 is "skip" and the exit status 77. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define EVENTS_MAX 64
#define READ_CHUNK 16384
#define OUTPUT_LIMIT (32 * 1024) /* stop reading a connection whose echo backs up past this */
#define ACCEPT_RETRY_MS 10       /* after EMFILE: no new edge will come for what is queued */

struct connection {
    int fd;
    int watching_out; /* EPOLLOUT is in the interest set */
    int paused;       /* reading stopped before EAGAIN, because the output backed up */
    int peer_done;    /* the peer sent FIN: flush what is left, then close */
    unsigned char *out;
    size_t out_start, out_end, out_size;
};

static struct {
    long accepted, aborted, gone, reset, failed, eof;
    long long bytes_in, bytes_out;
    long eagain_writes, pauses, eintr, accept_retries;
} counts;

static int epoll_fd;
static int listener;
static const char listener_tag; /* epoll data of the listener: its address, never a connection */

static void die(const char *what) {
    fprintf(stderr, "epoll_echo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void set_interest(struct connection *c, int operation) {
    struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (c->watching_out) event.events |= EPOLLOUT;
    if (epoll_ctl(epoll_fd, operation, c->fd, &event) != 0) die("epoll_ctl");
}

static void finish(struct connection *c) {
    close(c->fd); /* also leaves the epoll set: the descriptor was never duplicated */
    free(c->out);
    free(c);
    counts.gone++;
}

static void fail(struct connection *c, int error) {
    if (error == ECONNRESET || error == EPIPE) counts.reset++;
    else {
        counts.failed++;
        fprintf(stderr, "epoll_echo: connection %d: %s\n", c->fd, strerror(error));
    }
    finish(c);
}

static size_t pending(const struct connection *c) { return c->out_end - c->out_start; }

static void append(struct connection *c, const unsigned char *bytes, size_t length) {
    if (c->out_start > 0 && c->out_start == c->out_end) c->out_start = c->out_end = 0;
    if (c->out_end + length > c->out_size) {
        /* Compact first; grow only when the live part itself needs more room. */
        memmove(c->out, c->out + c->out_start, pending(c));
        c->out_end -= c->out_start;
        c->out_start = 0;
        if (c->out_end + length > c->out_size) {
            size_t size = c->out_size ? c->out_size : 4096;
            while (size < c->out_end + length) size *= 2;
            unsigned char *grown = realloc(c->out, size);
            if (!grown) die("realloc");
            c->out = grown;
            c->out_size = size;
        }
    }
    memcpy(c->out + c->out_end, bytes, length);
    c->out_end += length;
}

/* Sends what is buffered. 0 when the connection lives on, -1 when it was closed. */
static int flush(struct connection *c) {
    while (pending(c) > 0) {
        ssize_t sent = send(c->fd, c->out + c->out_start, pending(c), MSG_NOSIGNAL);
        if (sent > 0) {
            c->out_start += (size_t)sent;
            counts.bytes_out += sent;
            continue; /* a partial write: try the rest, the kernel says when it is full */
        }
        if (sent < 0 && errno == EINTR) {
            counts.eintr++;
            continue;
        }
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            counts.eagain_writes++;
            if (!c->watching_out) {
                c->watching_out = 1;
                set_interest(c, EPOLL_CTL_MOD); /* MOD re-arms: a ready socket reports at once */
            }
            return 0;
        }
        fail(c, sent < 0 ? errno : EIO);
        return -1;
    }
    c->out_start = c->out_end = 0;
    if (c->watching_out) {
        c->watching_out = 0;
        set_interest(c, EPOLL_CTL_MOD);
    }
    return 0;
}

/* Reads until EAGAIN (or until the output backs up). 0 when the connection lives on. */
static int drain_input(struct connection *c) {
    unsigned char buffer[READ_CHUNK];
    while (!c->peer_done) {
        if (pending(c) >= OUTPUT_LIMIT) {
            if (flush(c) != 0) return -1;
            if (pending(c) >= OUTPUT_LIMIT) {
                /* Stop before EAGAIN: no edge will tell us to go on, so the drain will. */
                if (!c->paused) counts.pauses++;
                c->paused = 1;
                return 0;
            }
        }
        ssize_t got = recv(c->fd, buffer, sizeof(buffer), 0);
        if (got > 0) {
            counts.bytes_in += got;
            append(c, buffer, (size_t)got);
            continue; /* a short read says nothing about what is left: read until EAGAIN */
        }
        if (got == 0) {
            c->peer_done = 1;
            counts.eof++;
            break;
        }
        if (errno == EINTR) {
            counts.eintr++;
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        fail(c, errno);
        return -1;
    }
    return 0;
}

/* Everything an event on a connection can lead to, until it waits for the next edge. */
static void service(struct connection *c, uint32_t events) {
    int read_now = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    for (;;) {
        if (read_now && !c->paused && drain_input(c) != 0) return;
        if (flush(c) != 0) return;
        if (c->paused && pending(c) < OUTPUT_LIMIT) {
            c->paused = 0; /* drained below the limit: read what the missed edges brought */
            read_now = 1;
            continue;
        }
        break;
    }
    if (c->peer_done && pending(c) == 0) finish(c); /* the peer's FIN, every echo sent */
}

static void accept_all(int *retry) {
    *retry = 0;
    for (;;) {
        int fd = accept4(listener, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) {
                counts.eintr++;
                continue;
            }
            if (errno == ECONNABORTED) {
                /* The connection was taken off the queue and is over: its client is gone. */
                counts.aborted++;
                counts.gone++;
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* What is queued stays queued, and the listener's edge has been spent. */
                counts.accept_retries++;
                *retry = 1;
                return;
            }
            die("accept4");
        }
        /* A small send buffer makes the kernel say EAGAIN often: the EPOLLOUT path is the
         * common path here, not the rare one. Failure is harmless. */
        int size = 4096;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        struct connection *c = calloc(1, sizeof(*c));
        if (!c) die("calloc");
        c->fd = fd;
        counts.accepted++;
        set_interest(c, EPOLL_CTL_ADD); /* ADD reports data that is already there */
    }
}

static int listen_on(const char *family) {
    int fd;
    if (strcmp(family, "ipv4") == 0) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        struct sockaddr_in address = {.sin_family = AF_INET};
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0) die("bind 127.0.0.1");
    } else if (strcmp(family, "ipv6") == 0) {
        fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_in6 address = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        int only = 1;
        if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof(only)) != 0 ||
            bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
            fprintf(stderr, "epoll_echo: no IPv6 loopback here: %s\n", strerror(errno));
            printf("skip\n");
            fflush(stdout);
            exit(77);
        }
    } else if (strncmp(family, "unix:", 5) == 0) {
        struct sockaddr_un address = {.sun_family = AF_UNIX};
        if (strlen(family + 5) >= sizeof(address.sun_path)) {
            fprintf(stderr, "epoll_echo: socket path too long\n");
            exit(2);
        }
        strcpy(address.sun_path, family + 5);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        unlink(address.sun_path);
        if (bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0) die("bind");
    } else {
        fprintf(stderr, "epoll_echo: unknown family '%s' (ipv4, ipv6, unix:PATH)\n", family);
        exit(2);
    }
    if (listen(fd, 128) != 0) die("listen");
    return fd;
}

static void print_endpoint(const char *family) {
    if (strncmp(family, "unix:", 5) == 0) {
        printf("%s\n", family + 5);
    } else {
        struct sockaddr_storage address;
        socklen_t length = sizeof(address);
        if (getsockname(listener, (struct sockaddr *)&address, &length) != 0) die("getsockname");
        unsigned port = address.ss_family == AF_INET6
                            ? ntohs(((struct sockaddr_in6 *)&address)->sin6_port)
                            : ntohs(((struct sockaddr_in *)&address)->sin_port);
        printf("%u\n", port);
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: epoll_echo ipv4|ipv6|unix:PATH CLIENTS [IDLE_MS]\n");
        return 2;
    }
    long clients = strtol(argv[2], 0, 10);
    int idle_ms = argc > 3 ? atoi(argv[3]) : 30000;
    if (clients < 1 || idle_ms < 1) {
        fprintf(stderr, "epoll_echo: CLIENTS and IDLE_MS must be positive\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* MSG_NOSIGNAL covers send; this covers anything else */
    listener = listen_on(argv[1]);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) die("epoll_create1");
    struct epoll_event event = {.events = EPOLLIN | EPOLLET, .data.ptr = (void *)&listener_tag};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event) != 0) die("epoll_ctl listener");
    print_endpoint(argv[1]);

    int retry_accept = 0, status = 0;
    while (counts.gone < clients) {
        struct epoll_event events[EVENTS_MAX];
        int ready = epoll_wait(epoll_fd, events, EVENTS_MAX, retry_accept ? ACCEPT_RETRY_MS : idle_ms);
        if (ready < 0) {
            if (errno == EINTR) {
                counts.eintr++;
                continue;
            }
            die("epoll_wait");
        }
        if (ready == 0) {
            if (retry_accept) {
                accept_all(&retry_accept);
                continue;
            }
            fprintf(stderr, "epoll_echo: idle for %d ms with %ld of %ld clients over\n", idle_ms,
                    counts.gone, clients);
            status = 3;
            break;
        }
        /* Events carry the connection itself, and epoll reports a descriptor at most once per
         * batch: one freed here has no later event in this batch. New connections come last. */
        int listener_ready = 0;
        for (int i = 0; i < ready; i++) {
            if (events[i].data.ptr == &listener_tag) listener_ready = 1;
            else service(events[i].data.ptr, events[i].events);
        }
        if (listener_ready || retry_accept) accept_all(&retry_accept);
    }
    printf("clients %ld accepted %ld aborted %ld eof %ld reset %ld failed %ld in %lld out %lld "
           "eagain_writes %ld pauses %ld eintr %ld accept_retries %ld\n",
           counts.gone, counts.accepted, counts.aborted, counts.eof, counts.reset, counts.failed,
           counts.bytes_in, counts.bytes_out, counts.eagain_writes, counts.pauses, counts.eintr,
           counts.accept_retries);
    fflush(stdout);
    close(epoll_fd);
    close(listener);
    if (strncmp(argv[1], "unix:", 5) == 0) unlink(argv[1] + 5);
    return status;
}
