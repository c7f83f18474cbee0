/* echo_client.c: one connection to an echo server, MESSAGES checksummed messages over it, and an
 * account of what came back.
 *
 * usage: echo_client TARGET MESSAGES [ID [TIMEOUT_MS]]
 *   TARGET      127.0.0.1:PORT, [::1]:PORT or unix:PATH
 *   ID          names this client (default 1): it is in every message, and picks the sizes
 *   TIMEOUT_MS  the longest wait for any progress (default 2000): then every message not yet
 *               back counts as a timeout
 *
 * A message is a 12-byte header (client id, sequence number, payload length), a payload of 1 to
 * 4096 bytes (sizes and bytes drawn from the id and sequence number) and a 4-byte FNV-1a checksum
 * of header and payload. The client sends and reads at once (poll), keeping at most WINDOW bytes
 * unanswered, so a server that echoes slowly makes it wait, and one that stops reading makes it
 * stop sending. Echoes are read by the length the client knows it sent, so damage inside a
 * message never loses the framing of the next one.
 *
 * Each message ends up as exactly one of:
 *   ok       the echo is the message, byte for byte
 *   bad      the echo differs and its checksum says so (damage detected)
 *   eof      the connection ended (FIN) before the echo was complete
 *   error    a call failed (a reset, a refused connection, ...) before the echo was complete
 *   timeout  no progress for TIMEOUT_MS before the echo was complete
 *   wrong    the echo differs from the message and yet its checksum holds: accepted wrong
 * Bytes the client never sent coming back ("stray": more echo than message, or anything after
 * the last echo, when the server must send nothing but its FIN) are wrong too.
 * stdout: the counts, then "verdict: pass|detected|WRONG".
 * exit: 0 every message ok, 2 some failed and every failure was detected, 1 something wrong. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HEADER 12
#define TRAILER 4
#define PAYLOAD_MAX 4096
#define MESSAGE_MAX (HEADER + PAYLOAD_MAX + TRAILER)
#define WINDOW (64 * 1024)
#define CONNECT_ATTEMPTS 20

enum outcome { OK, BAD, END_OF_FILE, ERROR, TIMEOUT, WRONG, OUTCOMES };
static const char *const outcome_names[OUTCOMES] = {"ok", "bad", "eof", "error", "timeout", "wrong"};
static long counts[OUTCOMES];

static uint32_t client_id;
static int timeout_ms;

static uint32_t fnv1a(const unsigned char *bytes, size_t length) {
    uint32_t sum = 2166136261u;
    for (size_t i = 0; i < length; i++) sum = (sum ^ bytes[i]) * 16777619u;
    return sum;
}

/* splitmix64: sizes and bytes as a pure function of (id, sequence number, index). */
static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static size_t payload_length(uint32_t sequence) {
    uint64_t r = mix(((uint64_t)client_id << 32) | sequence);
    /* A quarter tiny (1..16 bytes), the rest anywhere in 1..4096. */
    if ((r & 3) == 0) return 1 + (size_t)((r >> 8) % 16);
    return 1 + (size_t)((r >> 8) % PAYLOAD_MAX);
}

static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes message `sequence` into `out`; its total length. */
static size_t build(uint32_t sequence, unsigned char *out) {
    size_t length = payload_length(sequence);
    put32(out, client_id);
    put32(out + 4, sequence);
    put32(out + 8, (uint32_t)length);
    uint64_t state = mix(((uint64_t)sequence << 32) ^ client_id ^ 0x5eed);
    for (size_t i = 0; i < length; i++) {
        if (i % 8 == 0) state = mix(state);
        out[HEADER + i] = (unsigned char)(state >> (8 * (i % 8)));
    }
    put32(out + HEADER + length, fnv1a(out, HEADER + length));
    return HEADER + length + TRAILER;
}

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits for `events` on fd; 1 ready, 0 timed out, -1 failed (errno). EINTR restarts the wait. */
static int wait_for(int fd, short events, int milliseconds) {
    int64_t deadline = now_ms() + milliseconds;
    for (;;) {
        int64_t left = deadline - now_ms();
        struct pollfd one = {.fd = fd, .events = events};
        int ready = poll(&one, 1, left < 0 ? 0 : (int)left);
        if (ready > 0) return 1;
        if (ready == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

/* Connects (non-blocking, bounded by the timeout). The descriptor, or -1 with errno set.
 * A refusal is retried: no connection exists, so no server ever saw this one. */
static int connect_to(const char *target) {
    struct sockaddr_storage address;
    socklen_t length;
    memset(&address, 0, sizeof(address));
    if (strncmp(target, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&address;
        un->sun_family = AF_UNIX;
        if (strlen(target + 5) >= sizeof(un->sun_path)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        strcpy(un->sun_path, target + 5);
        length = sizeof(*un);
    } else {
        char host[64];
        const char *colon = strrchr(target, ':');
        if (!colon || (size_t)(colon - target) >= sizeof(host)) {
            errno = EINVAL;
            return -1;
        }
        memcpy(host, target, (size_t)(colon - target));
        host[colon - target] = 0;
        char *h = host;
        if (h[0] == '[' && h[strlen(h) - 1] == ']') {
            h[strlen(h) - 1] = 0;
            h++;
        }
        unsigned port = (unsigned)strtoul(colon + 1, 0, 10);
        struct sockaddr_in *in4 = (struct sockaddr_in *)&address;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address;
        if (inet_pton(AF_INET, h, &in4->sin_addr) == 1) {
            in4->sin_family = AF_INET;
            in4->sin_port = htons((uint16_t)port);
            length = sizeof(*in4);
        } else if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)port);
            length = sizeof(*in6);
        } else {
            errno = EINVAL;
            return -1;
        }
    }
    for (int attempt = 1;; attempt++) {
        int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        int error = 0;
        if (connect(fd, (struct sockaddr *)&address, length) != 0) {
            error = errno;
            if (error == EINPROGRESS || error == EINTR) {
                /* EINTR: the connection goes on in the background, as with EINPROGRESS. */
                int ready = wait_for(fd, POLLOUT, timeout_ms);
                socklen_t size = sizeof(error);
                if (ready == 0) error = ETIMEDOUT;
                else if (ready < 0) error = errno;
                else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
            }
        }
        if (error == 0) return fd;
        close(fd);
        if (error != ECONNREFUSED || attempt == CONNECT_ATTEMPTS) {
            errno = error;
            return -1;
        }
        usleep(20000);
    }
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: echo_client TARGET MESSAGES [ID [TIMEOUT_MS]]\n");
        return 2;
    }
    long messages = strtol(argv[2], 0, 10);
    client_id = argc > 3 ? (uint32_t)strtoul(argv[3], 0, 10) : 1;
    timeout_ms = argc > 4 ? atoi(argv[4]) : 2000;
    if (messages < 1 || messages > 1000000 || timeout_ms < 1) {
        fprintf(stderr, "echo_client: MESSAGES must be 1..1000000 and TIMEOUT_MS positive\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    uint32_t sent_count = 0, checked = 0; /* messages fully sent; messages judged */
    long long bytes_sent = 0, bytes_received = 0;
    unsigned char out[MESSAGE_MAX], expected[MESSAGE_MAX], in[MESSAGE_MAX];
    size_t out_length = 0, out_done = 0;     /* the message being sent */
    size_t in_length = 0, in_done = 0;       /* the echo being read */
    long long unanswered = 0;                /* bytes sent and not yet echoed */
    enum outcome end = OK;                   /* why the rest failed, when it did */
    const char *tail = "none";
    long stray = 0;                          /* echoes of bytes never sent */

    int fd = connect_to(argv[1]);
    if (fd < 0) {
        fprintf(stderr, "echo_client %u: connect %s: %s\n", client_id, argv[1], strerror(errno));
        end = ERROR;
    }
    while (fd >= 0 && checked < (uint32_t)messages) {
        if (out_done == out_length && sent_count < (uint32_t)messages) {
            out_length = build(sent_count, out);
            out_done = 0;
        }
        int can_send = out_done < out_length && unanswered < WINDOW;
        struct pollfd one = {.fd = fd, .events = (short)(POLLIN | (can_send ? POLLOUT : 0))};
        int ready = poll(&one, 1, timeout_ms);
        if (ready < 0) {
            if (errno == EINTR) continue;
            perror("echo_client: poll");
            end = ERROR;
            break;
        }
        if (ready == 0) {
            fprintf(stderr, "echo_client %u: no progress for %d ms (%u of %ld sent, %u back)\n",
                    client_id, timeout_ms, sent_count, messages, checked);
            end = TIMEOUT;
            break;
        }
        if (can_send && (one.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = send(fd, out + out_done, out_length - out_done, MSG_NOSIGNAL);
            if (n > 0) {
                out_done += (size_t)n, bytes_sent += n, unanswered += n;
                if (out_done == out_length) sent_count++;
            } else if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                fprintf(stderr, "echo_client %u: send: %s\n", client_id, strerror(errno));
                end = ERROR;
                break;
            }
        }
        if (!(one.revents & (POLLIN | POLLERR | POLLHUP))) continue;
        /* Read until the kernel has nothing more (or a bounded number of times). */
        for (int reads = 0; reads < 64 && checked < (uint32_t)messages; reads++) {
            if (in_length == 0) {
                in_length = build(checked, expected);
                in_done = 0;
            }
            ssize_t n = recv(fd, in + in_done, in_length - in_done, 0);
            if (n > 0) {
                in_done += (size_t)n, bytes_received += n, unanswered -= n;
                if (bytes_received > bytes_sent) {
                    fprintf(stderr, "echo_client %u: %lld bytes back, %lld sent\n", client_id,
                            bytes_received, bytes_sent);
                    stray++;
                    end = ERROR;
                    break;
                }
                if (in_done < in_length) continue;
                if (memcmp(in, expected, in_length) == 0) counts[OK]++;
                else if (fnv1a(in, in_length - TRAILER) != get32(in + in_length - TRAILER))
                    counts[BAD]++;
                else {
                    fprintf(stderr, "echo_client %u: message %u: wrong contents, valid checksum\n",
                            client_id, checked);
                    counts[WRONG]++;
                }
                checked++;
                in_length = 0;
                continue;
            }
            if (n == 0) {
                end = END_OF_FILE;
                break;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            fprintf(stderr, "echo_client %u: recv: %s\n", client_id, strerror(errno));
            end = ERROR;
            break;
        }
        if (end != OK) break;
    }
    /* Every message not judged failed the way the connection did. */
    if (checked < (uint32_t)messages) counts[end == OK ? ERROR : end] += messages - checked;

    if (fd >= 0 && checked == (uint32_t)messages) {
        /* All back: say so (FIN), and the server must answer with its own FIN, nothing else. */
        tail = "timeout";
        if (shutdown(fd, SHUT_WR) != 0) tail = "error";
        int64_t deadline = now_ms() + timeout_ms;
        while (strcmp(tail, "timeout") == 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0 || wait_for(fd, POLLIN, (int)left) <= 0) break;
            unsigned char extra[512];
            ssize_t n = recv(fd, extra, sizeof(extra), 0);
            if (n > 0) {
                fprintf(stderr, "echo_client %u: %zd bytes after the last echo\n", client_id, n);
                stray++;
                tail = "extra";
            } else if (n == 0) tail = "eof";
            else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) tail = "error";
        }
    }
    if (fd >= 0) close(fd);

    long total = 0;
    for (int i = 0; i < OUTCOMES; i++) {
        printf("%s %ld ", outcome_names[i], counts[i]);
        total += counts[i];
    }
    printf("stray %ld sent %lld received %lld tail %s\n", stray, bytes_sent, bytes_received, tail);
    if (total != messages) {
        printf("verdict: WRONG (%ld of %ld messages accounted for)\n", total, messages);
        return 1;
    }
    if (counts[WRONG] > 0 || stray > 0) {
        printf("verdict: WRONG\n");
        return 1;
    }
    printf("verdict: %s\n", counts[OK] == messages ? "pass" : "detected");
    return counts[OK] == messages ? 0 : 2;
}
