/* network.h: the network fault model (moonpool's connection-level shape) as decision functions:
 * what one socket operation costs in virtual time and which fault, if any, strikes it.
 *
 * Pure: configuration and a PRNG stream in, a verdict out; shim/net.c applies it to real
 * sockets. */
#ifndef MOON_FAULTS_NETWORK_H
#define MOON_FAULTS_NETWORK_H

#include <stdint.h>

#include "../scheduler/config.h"
#include "../scheduler/prng.h"

enum fault_network_op {
    FAULT_NETWORK_CONNECT = 1,
    FAULT_NETWORK_ACCEPT = 2,
    FAULT_NETWORK_READ = 3,
    FAULT_NETWORK_WRITE = 4,
};

/* Verdict numbers travel in decisions and traces: append only. */
enum fault_network_verdict {
    FAULT_NETWORK_OK = 0,
    FAULT_NETWORK_REFUSED = 1,   /* connect: ECONNREFUSED */
    FAULT_NETWORK_HANG = 2,      /* connect: never completes (until the caller gives up) */
    FAULT_NETWORK_FIN = 3,       /* the connection closes gracefully: reads see end of file */
    FAULT_NETWORK_RST = 4,       /* the connection is reset: ECONNRESET / EPIPE */
    FAULT_NETWORK_HALF_OPEN = 5, /* (writes) the peer is gone and nobody says so */
    FAULT_NETWORK_SHORT = 6,     /* parameter: bytes to transfer, >= 1 */
    FAULT_NETWORK_BIT_FLIP = 7,  /* parameter: seed of the flips in the received bytes */
    FAULT_NETWORK_EINTR = 8,
    FAULT_NETWORK_SPURIOUS = 9,  /* a non-blocking read finds nothing although told ready */
    FAULT_NETWORK_ABORTED = 10,  /* accept: ECONNABORTED */
    FAULT_NETWORK_EMFILE = 11,   /* accept: EMFILE */
};

enum fault_network_shape {
    FAULT_NETWORK_UNIFORM = 0,
    FAULT_NETWORK_EXPONENTIAL = 1,
    FAULT_NETWORK_BIMODAL = 2, /* uniform, but 1 operation in 100 is 10 times slower */
};

struct fault_network_decision {
    int32_t verdict;
    uint64_t parameter;
    int64_t latency_ns;
};

/* network.swarm: the seed picks which failure families are on (each with probability 1/2) and
 * how strong (1e-1 to 1e-4 per operation); printed at start by the shim. */
void fault_network_swarm(struct sched_config *config, struct sched_prng *stream);
/* The families swarm chooses among, with their config fields, for printing. */
int64_t *fault_network_family(struct sched_config *config, int index, const char **name);

/* What is known about the operation (SCHED_REQ_NETWORK arg[3]): a verdict that could not
 * happen to it on Linux is never chosen. */
enum fault_network_context {
    FAULT_NETWORK_NONBLOCKING = 1,     /* the call cannot block: no EINTR, no hanging connect;
                                        * only such a read can be spuriously "not ready" */
    FAULT_NETWORK_EDGE_TRIGGERED = 2,  /* registered EPOLLET: no short transfer, no spurious
                                        * readiness (no new edge would announce the rest) */
    FAULT_NETWORK_DATAGRAM = 4,        /* UDP-like: no close, half-open or short transfer */
};

/* Decides one operation on `length` bytes in `context` (enum fault_network_context bits).
 * Probabilistic faults only when `site_active`. Every family draws once whether it is on or
 * not, and whatever the context, so one family's hits do not depend on the others. */
void fault_network_decide(const struct sched_config *config, struct sched_prng *stream, int op,
                          uint64_t length, int site_active, unsigned context,
                          struct fault_network_decision *decision);

#endif
