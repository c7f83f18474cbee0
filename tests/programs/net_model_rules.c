/* net_model_rules.c: what the network model must never do, with every fault at full strength.
 *   net_model_rules pair      a socketpair between threads is a channel inside the node: 200
 *                             messages arrive whole and in order, no fault touches them
 *   net_model_rules nonblock  a non-blocking recv/send on a TCP connection never fails with EINTR
 *                             (a call that does not block cannot be interrupted)
 *   net_model_rules edge      a connection registered edge-triggered is never cut short: one read
 *                             after each edge gets everything that arrived
 *   net_model_rules writev    writev on a TCP connection is modelled: with short transfers on it
 *                             may write less, and the program's retry loop still delivers it all
 *   net_model_rules msg       sendmsg/recvmsg are modelled like writev: a short transfer cuts the
 *                             scatter/gather list, and the program's retry loops still deliver it
 *   net_model_rules spurious  a non-blocking, level-triggered reader (poll, then recv) may be told
 *                             EAGAIN after poll said ready; it polls again and gets everything
 * Run with network faults on (the test sets them); exits 1 on any broken rule. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

#define MESSAGES 200

static int pair[2];

static void *pair_writer(void *unused) {
    (void)unused;
    for (int i = 0; i < MESSAGES; i++) {
        char message[32];
        int length = snprintf(message, sizeof(message), "message %03d\n", i);
        CHECK(write(pair[1], message, (size_t)length) == length); /* never short, never EINTR */
    }
    return 0;
}

static void test_pair(void) {
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, 0, pair_writer, 0) == 0);
    char expected[MESSAGES * 16], got[MESSAGES * 16];
    size_t total = 0, want = 0;
    for (int i = 0; i < MESSAGES; i++)
        want += (size_t)snprintf(expected + want, sizeof(expected) - want, "message %03d\n", i);
    while (total < want) {
        ssize_t n = read(pair[0], got + total, want - total);
        CHECK(n > 0); /* no EOF, no reset, no EINTR */
        total += (size_t)n;
    }
    CHECK(memcmp(expected, got, want) == 0);
    CHECK(pthread_join(thread, 0) == 0);
    printf("pair: %d messages whole and in order\n", MESSAGES);
}

/* A connected TCP pair on loopback: *client and *server. */
static void tcp_pair(int *client, int *server) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0); /* nothing here blocks */
    CHECK(listener >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof(address);
    CHECK(bind(listener, (struct sockaddr *)&address, sizeof(address)) == 0);
    CHECK(getsockname(listener, (struct sockaddr *)&address, &length) == 0);
    CHECK(listen(listener, 1) == 0);
    *client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(*client >= 0);
    int connected = connect(*client, (struct sockaddr *)&address, sizeof(address));
    CHECK(connected == 0 || errno == EINPROGRESS);
    do *server = accept4(listener, 0, 0, SOCK_NONBLOCK);
    while (*server < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED));
    CHECK(*server >= 0);
    close(listener);
}

static void test_nonblock(void) {
    int client, server;
    tcp_pair(&client, &server);
    char byte = 'x';
    int sent = 0, eagain = 0;
    for (int i = 0; i < 200; i++) {
        ssize_t n = send(client, &byte, 1, MSG_DONTWAIT);
        CHECK(n == 1 || (n < 0 && errno != EINTR));
        if (n == 1) sent++;
        char in;
        n = recv(server, &in, 1, MSG_DONTWAIT);
        CHECK(n >= 0 || errno != EINTR);
        if (n < 0 && errno == EAGAIN) eagain++;
    }
    CHECK(sent > 0);
    printf("nonblock: no EINTR from 400 calls that cannot block\n");
    close(client);
    close(server);
}

static void test_edge(void) {
    int client, server;
    tcp_pair(&client, &server);
    int epoll = epoll_create1(0);
    CHECK(epoll >= 0);
    struct epoll_event event = {.events = EPOLLIN | EPOLLET, .data.fd = server};
    CHECK(epoll_ctl(epoll, EPOLL_CTL_ADD, server, &event) == 0);
    int whole = 0;
    for (int i = 0; i < 50; i++) {
        char message[64];
        int length = snprintf(message, sizeof(message), "edge-triggered message number %03d", i);
        /* The client is not edge-triggered: its sends may be cut short; it finishes them. */
        for (int sent = 0; sent < length;) {
            ssize_t n = send(client, message + sent, (size_t)(length - sent), 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            CHECK(n > 0);
            sent += (int)n;
        }
        struct epoll_event ready;
        int count;
        do count = epoll_wait(epoll, &ready, 1, 1000);
        while (count < 0 && errno == EINTR);
        CHECK(count == 1);
        char got[128];
        ssize_t n;
        do n = recv(server, got, sizeof(got), 0);
        while (n < 0 && errno == EINTR);
        CHECK(n == length); /* one read after the edge gets it all */
        whole++;
    }
    printf("edge: %d reads after an edge, each whole\n", whole);
    close(epoll);
    close(client);
    close(server);
}

/* What is left of `vector` after `done` bytes went: into `rest`; returns its count. */
static int remaining(const struct iovec *vector, int count, size_t done, struct iovec *rest) {
    int left = 0;
    for (int i = 0; i < count; i++) {
        if (done >= vector[i].iov_len) {
            done -= vector[i].iov_len;
            continue;
        }
        rest[left].iov_base = (char *)vector[i].iov_base + done;
        rest[left++].iov_len = vector[i].iov_len - done;
        done = 0;
    }
    return left;
}

static void test_writev(void) {
    int client, server;
    tcp_pair(&client, &server);
    int flags = fcntl(client, F_GETFL);
    CHECK(fcntl(client, F_SETFL, flags & ~O_NONBLOCK) == 0);
    char head[] = "head-", body[] = "body-body-body-", tail[] = "tail";
    size_t total = strlen(head) + strlen(body) + strlen(tail);
    int short_writes = 0;
    for (int round = 0; round < 20; round++) {
        struct iovec vector[3] = {{head, strlen(head)}, {body, strlen(body)}, {tail, strlen(tail)}};
        size_t done = 0;
        while (done < total) { /* the usual retry loop over a partial writev */
            struct iovec rest[3];
            int count = remaining(vector, 3, done, rest);
            ssize_t n = writev(client, rest, count);
            if (n < 0 && errno == EINTR) continue;
            CHECK(n > 0);
            if ((size_t)n < total - done) short_writes++; /* the model cut the vector */
            done += (size_t)n;
        }
        char got[64];
        size_t have = 0;
        while (have < total) {
            ssize_t n = recv(server, got + have, sizeof(got) - have, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            CHECK(n > 0);
            have += (size_t)n;
        }
        CHECK(have == total && memcmp(got, "head-body-body-body-tail", total) == 0);
    }
    printf("writev: 20 vectors delivered whole through the retry loop (%d short writes)\n",
           short_writes);
    close(client);
    close(server);
}

static void test_msg(void) {
    int client, server;
    tcp_pair(&client, &server);
    int flags = fcntl(client, F_GETFL);
    CHECK(fcntl(client, F_SETFL, flags & ~O_NONBLOCK) == 0);
    char part1[] = "scatter-", part2[] = "gather-", part3[] = "list";
    const char whole[] = "scatter-gather-list";
    size_t total = strlen(whole);
    for (int round = 0; round < 20; round++) {
        struct iovec vector[3] = {{part1, strlen(part1)}, {part2, strlen(part2)}, {part3, strlen(part3)}};
        size_t done = 0;
        while (done < total) {
            struct iovec rest[3];
            int count = remaining(vector, 3, done, rest);
            struct msghdr message = {.msg_iov = rest, .msg_iovlen = (size_t)count};
            ssize_t n = sendmsg(client, &message, 0);
            if (n < 0 && errno == EINTR) continue;
            CHECK(n > 0);
            done += (size_t)n;
        }
        char got[64] = {0};
        size_t have = 0;
        while (have < total) {
            char first[8], second[56];
            struct iovec into[2] = {{first, sizeof(first)}, {second, sizeof(second)}};
            struct msghdr message = {.msg_iov = into, .msg_iovlen = 2};
            ssize_t n = recvmsg(server, &message, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            CHECK(n > 0);
            size_t in_first = (size_t)n < sizeof(first) ? (size_t)n : sizeof(first);
            memcpy(got + have, first, in_first);
            memcpy(got + have + in_first, second, (size_t)n - in_first);
            have += (size_t)n;
        }
        CHECK(have == total && memcmp(got, whole, total) == 0);
    }
    printf("msg: 20 scatter/gather messages delivered whole through the retry loops\n");
    close(client);
    close(server);
}

static void test_spurious(void) {
    int client, server;
    tcp_pair(&client, &server);
    int flags = fcntl(client, F_GETFL);
    CHECK(fcntl(client, F_SETFL, flags & ~O_NONBLOCK) == 0);
    int spurious = 0;
    for (int i = 0; i < 100; i++) {
        char message[32];
        int length = snprintf(message, sizeof(message), "level %03d", i);
        CHECK(send(client, message, (size_t)length, 0) == length);
        char got[32];
        int have = 0;
        while (have < length) {
            struct pollfd readable = {.fd = server, .events = POLLIN};
            int ready = poll(&readable, 1, 1000);
            if (ready < 0 && errno == EINTR) continue;
            CHECK(ready == 1);
            ssize_t n = recv(server, got + have, sizeof(got) - (size_t)have, 0);
            if (n < 0 && errno == EAGAIN) { /* ready, then not: poll again (level-triggered) */
                spurious++;
                continue;
            }
            CHECK(n > 0);
            have += (int)n;
        }
        CHECK(have == length && memcmp(got, message, (size_t)length) == 0);
    }
    printf("spurious: 100 messages whole (%d spurious EAGAIN after a ready poll)\n", spurious);
    close(client);
    close(server);
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IOLBF, 0);
    CHECK(argc == 2);
    if (strcmp(argv[1], "pair") == 0) test_pair();
    else if (strcmp(argv[1], "nonblock") == 0) test_nonblock();
    else if (strcmp(argv[1], "edge") == 0) test_edge();
    else if (strcmp(argv[1], "writev") == 0) test_writev();
    else if (strcmp(argv[1], "spurious") == 0) test_spurious();
    else if (strcmp(argv[1], "msg") == 0) test_msg();
    else CHECK(!"unknown mode");
    return 0;
}
