/* udp_echo.c: a UDP echo server thread and client threads on 127.0.0.1 (or ::1 with "ipv6"),
 * checksummed datagrams, client timeouts through poll. Prints the counts; exits 1 when a
 * datagram was accepted wrong or, without "faults", when any datagram failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define CLIENTS 2
#define DATAGRAMS 25

static int server;
static struct sockaddr_storage server_address;
static socklen_t server_length;
static int family = AF_INET;
static int counts[3]; /* ok, bad, timeout */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned checksum(const unsigned char *bytes, size_t length) {
    unsigned sum = 2166136261u;
    for (size_t i = 0; i < length; i++) sum = (sum ^ bytes[i]) * 16777619u;
    return sum;
}

static void *serve(void *argument) {
    (void)argument;
    for (;;) {
        unsigned char buffer[2048];
        struct sockaddr_storage from;
        socklen_t length = sizeof(from);
        ssize_t got = recvfrom(server, buffer, sizeof(buffer), 0, (struct sockaddr *)&from, &length);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) continue;
        sendto(server, buffer, (size_t)got, 0, (struct sockaddr *)&from, length);
    }
    return 0;
}

static void *client(void *argument) {
    int me = (int)(long)argument;
    int fd = socket(family, SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    for (int i = 0; i < DATAGRAMS; i++) {
        unsigned char message[256], reply[2048];
        size_t size = 16 + (size_t)((me * 37 + i * 11) % 240);
        for (size_t b = 0; b < size - 4; b++) message[b] = (unsigned char)(me + i * 3 + b);
        unsigned sum = checksum(message, size - 4);
        memcpy(message + size - 4, &sum, 4);
        while (sendto(fd, message, size, 0, (struct sockaddr *)&server_address, server_length) < 0 &&
               errno == EINTR) {}
        struct pollfd ready = {.fd = fd, .events = POLLIN};
        int outcome = 2;
        while (poll(&ready, 1, 1000) == 1) {
            ssize_t got = recv(fd, reply, sizeof(reply), 0);
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            outcome = got == (ssize_t)size && memcmp(reply, message, size) == 0 ? 0 : 1;
            if (outcome == 1 && got == (ssize_t)size) {
                unsigned seen;
                memcpy(&seen, reply + size - 4, 4);
                CHECK(seen != checksum(reply, size - 4) || memcmp(reply, message, size) == 0);
            }
            break;
        }
        pthread_mutex_lock(&lock);
        counts[outcome]++;
        pthread_mutex_unlock(&lock);
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    int faults = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "ipv6") == 0) family = AF_INET6;
        if (strcmp(argv[i], "faults") == 0) faults = 1;
    }
    server = socket(family, SOCK_DGRAM, 0);
    CHECK(server >= 0);
    memset(&server_address, 0, sizeof(server_address));
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&server_address;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        server_length = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&server_address;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        server_length = sizeof(*in6);
    }
    if (bind(server, (struct sockaddr *)&server_address, server_length) != 0) {
        printf("skip: no loopback for this family\n");
        return 77;
    }
    CHECK(getsockname(server, (struct sockaddr *)&server_address, &server_length) == 0);
    pthread_t server_thread, clients[CLIENTS];
    CHECK(pthread_create(&server_thread, 0, serve, 0) == 0);
    pthread_detach(server_thread);
    for (long c = 0; c < CLIENTS; c++) CHECK(pthread_create(&clients[c], 0, client, (void *)c) == 0);
    for (int c = 0; c < CLIENTS; c++) CHECK(pthread_join(clients[c], 0) == 0);
    printf("ok %d bad %d timeout %d\n", counts[0], counts[1], counts[2]);
    CHECK(counts[0] + counts[1] + counts[2] == CLIENTS * DATAGRAMS);
    if (!faults) CHECK(counts[0] == CLIENTS * DATAGRAMS);
    else CHECK(counts[2] == 0); /* flips damage datagrams, they do not lose them */
    return 0;
}
