/* pingpong.c: two threads exchange 64-byte messages over a TCP loopback connection, timed from
 * outside by bench/run.sh (the net table).
 *
 * Usage: pingpong N
 *   The main thread listens on 127.0.0.1 (port chosen by the kernel, or by the shim) and
 *   accept()s; the partner thread connect()s. Both set TCP_NODELAY. Then N round trips: main
 *   send()s a 64-byte message, the partner recv()s all 64 bytes and send()s them back with every
 *   byte incremented, main recv()s the reply. Blocking sockets, no poll.
 *
 * The program never times itself: under the shim every clock is virtual. N = 0 still creates the
 * thread and the connection, so subtracting the N = 0 time removes set-up from the per-round
 * cost. It prints one line, "pingpong N checksum C", where C is a sum over the bytes of every
 * reply (the same for the same N natively and under the shim), and fails (exit 1) if a call
 * fails, the connection closes early or a reply is wrong. Usage errors exit 2. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MSG = 64 };

static uint64_t rounds;
static struct sockaddr_in server_addr;

static void fail(const char *what) {
    fprintf(stderr, "pingpong: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void send_all(int fd, const unsigned char *buf) {
    size_t done = 0;
    while (done < MSG) {
        ssize_t n = send(fd, buf + done, MSG - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("send");
        done += (size_t)n;
    }
}

static void recv_all(int fd, unsigned char *buf) {
    size_t done = 0;
    while (done < MSG) {
        ssize_t n = recv(fd, buf + done, MSG - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            errno = ECONNRESET;
            fail("recv: connection closed early");
        }
        if (n < 0) fail("recv");
        done += (size_t)n;
    }
}

static void nodelay(int fd) {
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) fail("setsockopt");
}

/* The partner: connect, then echo every message back with each byte incremented. */
static void *partner(void *arg) {
    (void)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket (partner)");
    while (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) != 0)
        if (errno != EINTR) fail("connect");
    nodelay(fd);
    unsigned char buf[MSG];
    for (uint64_t i = 0; i < rounds; i++) {
        recv_all(fd, buf);
        for (int j = 0; j < MSG; j++) buf[j]++;
        send_all(fd, buf);
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    char *end;
    if (argc != 2 || argv[1][0] == '\0' || argv[1][0] == '-') {
        fprintf(stderr, "usage: pingpong N\n");
        return 2;
    }
    errno = 0;
    rounds = strtoull(argv[1], &end, 10);
    if (errno != 0 || *end != '\0') {
        fprintf(stderr, "pingpong: N must be a non-negative integer, not '%s'\n", argv[1]);
        return 2;
    }

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) fail("socket");
    int one = 1;
    if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) fail("setsockopt");
    server_addr.sin_family = AF_INET;
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_addr.sin_port = 0;
    if (bind(lfd, (struct sockaddr *)&server_addr, sizeof server_addr) != 0) fail("bind");
    socklen_t len = sizeof server_addr;
    if (getsockname(lfd, (struct sockaddr *)&server_addr, &len) != 0) fail("getsockname");
    if (listen(lfd, 1) != 0) fail("listen");

    pthread_t thread;
    int error = pthread_create(&thread, NULL, partner, NULL);
    if (error != 0) {
        errno = error;
        fail("pthread_create");
    }
    int fd;
    while ((fd = accept(lfd, NULL, NULL)) < 0)
        if (errno != EINTR) fail("accept");
    nodelay(fd);

    unsigned char buf[MSG], reply[MSG];
    uint64_t checksum = 0;
    for (uint64_t i = 0; i < rounds; i++) {
        for (int j = 0; j < MSG; j++) buf[j] = (unsigned char)(i * 31 + (uint64_t)j);
        send_all(fd, buf);
        recv_all(fd, reply);
        for (int j = 0; j < MSG; j++) {
            if (reply[j] != (unsigned char)(buf[j] + 1)) {
                fprintf(stderr, "pingpong: round %" PRIu64 ": wrong reply byte %d\n", i, j);
                return 1;
            }
            checksum += reply[j];
        }
    }
    error = pthread_join(thread, NULL);
    if (error != 0) {
        errno = error;
        fail("pthread_join");
    }
    close(fd);
    close(lfd);
    printf("pingpong %" PRIu64 " checksum %" PRIu64 "\n", rounds, checksum);
    return 0;
}
