/* threaded_echo.c: a thread-per-connection TCP echo server (blocking sockets), the threaded
 * counterpart of epoll_echo.c for run_net.sh: same arguments and output.
 *
 * usage: threaded_echo ipv4|ipv6 CLIENTS [IDLE_MS]
 * stdout line 1: the port; at exit, the counts. Exits 0 after CLIENTS connections are over,
 * 3 when nothing happens for IDLE_MS (virtual) milliseconds, 77 without the address family. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long gone, accepted, aborted, eof, resets, failed;
static long long bytes_in, bytes_out;
static int listener;

static void add(long *counter, long long in, long long out) {
    pthread_mutex_lock(&lock);
    if (counter) (*counter)++;
    bytes_in += in;
    bytes_out += out;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void *serve(void *argument) {
    int fd = (int)(long)argument;
    char buffer[8192];
    long *ending = &eof;
    for (;;) {
        ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (got < 0) ending = errno == ECONNRESET ? &resets : &failed;
            break;
        }
        add(0, got, 0);
        ssize_t sent = 0;
        while (sent < got) {
            ssize_t done = send(fd, buffer + sent, (size_t)(got - sent), MSG_NOSIGNAL);
            if (done < 0 && errno == EINTR) continue;
            if (done <= 0) break;
            sent += done;
            add(0, 0, done);
        }
        if (sent < got) {
            ending = errno == EPIPE || errno == ECONNRESET ? &resets : &failed;
            break;
        }
    }
    close(fd);
    pthread_mutex_lock(&lock);
    (*ending)++;
    gone++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return 0;
}

static void *accept_loop(void *argument) {
    (void)argument;
    for (;;) {
        int fd = accept(listener, 0, 0);
        if (fd < 0) {
            if (errno == ECONNABORTED) {
                pthread_mutex_lock(&lock);
                aborted++;
                gone++; /* a client that will not come back on this connection */
                pthread_cond_broadcast(&changed);
                pthread_mutex_unlock(&lock);
            } else if (errno == EMFILE) {
                usleep(10000);
            }
            continue;
        }
        add(&accepted, 0, 0);
        pthread_t thread;
        if (pthread_create(&thread, 0, serve, (void *)(long)fd) != 0) close(fd);
        else pthread_detach(thread);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: threaded_echo ipv4|ipv6 CLIENTS [IDLE_MS]\n");
        return 2;
    }
    long clients = strtol(argv[2], 0, 10);
    int idle_ms = argc > 3 ? atoi(argv[3]) : 10000;
    signal(SIGPIPE, SIG_IGN);
    int six = strcmp(argv[1], "ipv6") == 0;
    listener = socket(six ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage address;
    memset(&address, 0, sizeof(address));
    socklen_t length;
    if (six) {
        ((struct sockaddr_in6 *)&address)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&address)->sin6_addr = in6addr_loopback;
        length = sizeof(struct sockaddr_in6);
    } else {
        ((struct sockaddr_in *)&address)->sin_family = AF_INET;
        ((struct sockaddr_in *)&address)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        length = sizeof(struct sockaddr_in);
    }
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, length) != 0) {
        printf("skip: no loopback for %s\n", argv[1]);
        return 77;
    }
    if (listen(listener, 64) != 0 || getsockname(listener, (struct sockaddr *)&address, &length) != 0)
        return 1;
    printf("%u\n", six ? ntohs(((struct sockaddr_in6 *)&address)->sin6_port)
                       : ntohs(((struct sockaddr_in *)&address)->sin_port));
    fflush(stdout);
    pthread_t acceptor;
    pthread_create(&acceptor, 0, accept_loop, 0);
    int status = 0;
    pthread_mutex_lock(&lock);
    while (gone < clients) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += idle_ms / 1000;
        deadline.tv_nsec += (idle_ms % 1000) * 1000000l;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
        long before = gone + accepted;
        long long traffic = bytes_in;
        if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT &&
            gone + accepted == before && bytes_in == traffic) {
            fprintf(stderr, "threaded_echo: idle for %d ms with %ld of %ld clients over\n", idle_ms,
                    gone, clients);
            status = 3;
            break;
        }
    }
    printf("clients %ld accepted %ld aborted %ld eof %ld reset %ld failed %ld in %lld out %lld\n",
           gone, accepted, aborted, eof, resets, failed, bytes_in, bytes_out);
    fflush(stdout);
    pthread_mutex_unlock(&lock);
    _exit(status); /* the acceptor and idle connection threads go with the process */
}
