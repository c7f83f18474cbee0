/* net.c: network faults on real sockets (faults/network.c decides, this applies).
 *
 * Every socket operation of the program (connect, accept, read/recv, write/send) asks the core
 * (SCHED_REQ_NETWORK): the thread is busy for the operation's latency in virtual time (others run
 * meanwhile), then the verdict is applied to the real socket. A closed or reset connection is
 * closed or reset for real, so the peer sees it too (FIN: shutdown; RST: a TCP disconnect, which
 * sends a reset). A half-open connection is one this side thinks alive: from the write that
 * decides it on, writes "succeed" without sending anything, so no answer ever comes. The state of each faulted connection is kept per descriptor until
 * the program closes it. Rules: as in shim.h. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "../faults/network.h"
#include <sys/uio.h>

#include "shim.h"

#define SOCKETS_MAX 65536

enum connection_state { HEALTHY = 0, CLOSED_FIN, RESET, HALF_OPEN };

static uint8_t connection_state[SOCKETS_MAX];
/* Descriptors registered edge-triggered in some epoll set (learnt at epoll_ctl): a spurious
 * EAGAIN there would lose the edge for good, which no kernel does. */
static uint8_t edge_triggered[SOCKETS_MAX];
/* Made by socketpair(): a channel between processes of this node (nginx's master and workers),
 * not a network connection: no network faults and no latency. */
static uint8_t local_pair[SOCKETS_MAX];
/* 0 not known yet, 1 a stream (TCP, Unix stream), 2 datagrams (UDP, Unix datagram). */
static uint8_t socket_kind[SOCKETS_MAX];

static int is_datagram(int fd) {
    if (fd < 0 || fd >= SOCKETS_MAX) return 0;
    if (!socket_kind[fd]) {
        int type = 0;
        socklen_t length = sizeof(type);
        long got = shim_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, (long)&type, (long)&length, 0);
        socket_kind[fd] = (uint8_t)(got == 0 && type != SOCK_STREAM ? 2 : 1);
    }
    return socket_kind[fd] == 2;
}

void shim_net_note_epoll(int fd, int edge) {
    if (fd >= 0 && fd < SOCKETS_MAX) edge_triggered[fd] = (uint8_t)(edge != 0);
}

void shim_net_note_local_pair(int fd) {
    if (fd >= 0 && fd < SOCKETS_MAX) local_pair[fd] = 1;
}

void shim_net_duplicated(int from, int to) {
    if (from < 0 || from >= SOCKETS_MAX || to < 0 || to >= SOCKETS_MAX) return;
    local_pair[to] = local_pair[from];
}

int shim_net_is_local_pair(int fd) {
    return fd >= 0 && fd < SOCKETS_MAX && local_pair[fd];
}

void shim_net_forget(int fd) {
    if (fd < 0 || fd >= SOCKETS_MAX) return;
    local_pair[fd] = 0;
    connection_state[fd] = HEALTHY;
    edge_triggered[fd] = 0;
    socket_kind[fd] = 0;
}

static struct fault_network_decision network_op(uint32_t call, int op, uint64_t length,
                                                uintptr_t caller, unsigned context) {
    struct sched_request request = {.kind = SCHED_REQ_NETWORK, .call = call,
                                    .arg = {op, (int64_t)length,
                                            (int64_t)(((uint64_t)call << 48) ^ caller), context}};
    struct sched_decision decision;
    shim_decide(&request, &decision);
    struct fault_network_decision verdict = {(int32_t)decision.result, decision.value, 0};
    return verdict;
}

/* A connection the simulation has faulted: what the program's call gets now. 1 when `*result`
 * is the answer, 0 when the call goes ahead. */
static int faulted_connection(int fd, int op, size_t length, long *result) {
    if (fd < 0 || fd >= SOCKETS_MAX || connection_state[fd] == HEALTHY) return 0;
    switch (connection_state[fd]) {
    case CLOSED_FIN: *result = op == FAULT_NETWORK_READ ? 0 : -EPIPE; return 1;
    case RESET: *result = op == FAULT_NETWORK_READ ? -ECONNRESET : -EPIPE; return 1;
    case HALF_OPEN:
        /* "Sent": the peer is gone and nobody says so. Reads go on: data already on its way
         * still arrives, and no more will (nothing this side sends reaches the peer). */
        if (op != FAULT_NETWORK_WRITE) return 0;
        *result = (long)length;
        return 1;
    }
    return 0;
}

static void close_connection(int fd, int reset) {
    if (reset) {
        /* A TCP disconnect (connect to AF_UNSPEC) aborts the connection with a reset. */
        struct sockaddr unspecified = {.sa_family = AF_UNSPEC};
        shim_syscall3(SYS_connect, fd, &unspecified, sizeof(unspecified));
    }
    shim_syscall2(SYS_shutdown, fd, SHUT_RDWR);
    connection_state[fd] = (uint8_t)(reset ? RESET : CLOSED_FIN);
}

long shim_net_before(uint32_t call, int fd, int op, size_t *length, int nonblocking,
                     uintptr_t caller, uint64_t *flip_seed) {
    long result = 0;
    *flip_seed = 0;
    if (shim_net_is_local_pair(fd)) return 0;
    if (faulted_connection(fd, op, *length, &result)) return result;
    /* What could not happen to this call on Linux is never decided (faults/network.h): EINTR
     * where nothing blocks, a short transfer or spurious readiness on an edge-triggered
     * registration, a close or a cut datagram. */
    int edge = fd >= 0 && fd < SOCKETS_MAX && edge_triggered[fd];
    unsigned context = (nonblocking ? FAULT_NETWORK_NONBLOCKING : 0) |
                       (edge ? FAULT_NETWORK_EDGE_TRIGGERED : 0) |
                       (is_datagram(fd) ? FAULT_NETWORK_DATAGRAM : 0);
    struct fault_network_decision verdict = network_op(call, op, *length, caller, context);
    switch (verdict.verdict) {
    case FAULT_NETWORK_EINTR: return -EINTR;
    case FAULT_NETWORK_FIN: close_connection(fd, 0); break;
    case FAULT_NETWORK_RST: close_connection(fd, 1); break;
    case FAULT_NETWORK_HALF_OPEN: connection_state[fd] = HALF_OPEN; break;
    case FAULT_NETWORK_SPURIOUS: return -EAGAIN;
    case FAULT_NETWORK_SHORT: *length = verdict.parameter; return 0;
    case FAULT_NETWORK_BIT_FLIP: *flip_seed = verdict.parameter | 1; return 0;
    default: return 0;
    }
    faulted_connection(fd, op, *length, &result);
    return result;
}

void shim_net_after_read(void *buffer, long got, uint64_t flip_seed) {
    if (flip_seed && got > 0) shim_flip_bits(buffer, (uint64_t)got, flip_seed);
}

size_t shim_net_cut_vector(const struct iovec *vector, size_t count, size_t length,
                           struct iovec *cut) {
    size_t used = 0;
    for (size_t left = length; used < count && left > 0; used++) {
        cut[used] = vector[used];
        if (cut[used].iov_len > left) cut[used].iov_len = left;
        left -= cut[used].iov_len;
    }
    return used;
}

void shim_net_after_read_vector(const struct iovec *vector, size_t count, long got,
                                uint64_t flip_seed) {
    /* The flips land in the first buffer that received bytes. */
    for (size_t i = 0; flip_seed && got > 0 && i < count; i++) {
        if (vector[i].iov_len == 0) continue;
        size_t here = vector[i].iov_len < (size_t)got ? vector[i].iov_len : (size_t)got;
        shim_flip_bits(vector[i].iov_base, here, flip_seed);
        return;
    }
}

void shim_net_no_delay(int fd) {
    /* The kernel's Nagle algorithm holds a small segment back until the peer's delayed ACK
     * (tens of milliseconds of real time): delivery would depend on wall-clock timers. The
     * simulation models latency itself, so every TCP connection it sees sends at once. Fails
     * harmlessly on anything that is not TCP. */
    int on = 1;
    shim_syscall(SYS_setsockopt, fd, IPPROTO_TCP, TCP_NODELAY, (long)&on, sizeof(on), 0);
}

long shim_net_connect(int fd, const void *address, unsigned length, int nonblocking,
                      uintptr_t caller) {
    struct fault_network_decision verdict =
        network_op(SYS_connect, FAULT_NETWORK_CONNECT, 0, caller,
                   nonblocking ? FAULT_NETWORK_NONBLOCKING : 0);
    if (verdict.verdict == FAULT_NETWORK_EINTR) return -EINTR;
    if (verdict.verdict == FAULT_NETWORK_REFUSED) return -ECONNREFUSED;
    if (verdict.verdict == FAULT_NETWORK_HANG) {
        shim_sleep(SYS_connect, SCHED_DEADLINE_NEVER, SCHED_SLEEP_RELATIVE, "a connect that hangs");
        return -ETIMEDOUT;
    }
    shim_net_no_delay(fd);
    return shim_syscall3(SYS_connect, fd, address, length);
}

/* Before accept: 0 to go ahead, or the error to return (ECONNABORTED takes the connection off
 * the queue and closes it, as when the peer gave up). */
long shim_net_accept_fault(int fd, int nonblocking, uintptr_t caller) {
    struct fault_network_decision verdict =
        network_op(SYS_accept4, FAULT_NETWORK_ACCEPT, 0, caller,
                   nonblocking ? FAULT_NETWORK_NONBLOCKING : 0);
    if (verdict.verdict == FAULT_NETWORK_EINTR) return -EINTR;
    if (verdict.verdict == FAULT_NETWORK_EMFILE) return -EMFILE;
    if (verdict.verdict == FAULT_NETWORK_ABORTED) {
        /* Only a connection that exists can be aborted: on an empty queue (a non-blocking
         * listener), the real accept answers. */
        long taken = shim_syscall4(SYS_accept4, fd, 0, 0, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (taken < 0) return 0;
        shim_syscall1(SYS_close, taken);
        return -ECONNABORTED;
    }
    return 0;
}
