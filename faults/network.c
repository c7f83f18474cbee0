/* network.c: socket latency and faults. */
#include "network.h"

static int64_t between(struct sched_prng *stream, int64_t low, int64_t high) {
    if (high <= low) return low;
    return low + (int64_t)sched_prng_below(stream, (uint64_t)(high - low) + 1);
}

/* A latency in [low, high] with the configured shape. */
static int64_t shaped(const struct sched_config *config, struct sched_prng *stream, int64_t low,
                      int64_t high) {
    if (high < low) high = low; /* an inverted range is its minimum */
    int64_t uniform = between(stream, low, high);
    uint64_t draw_value = sched_prng_next(stream);
    switch (config->network_latency_shape) {
    case FAULT_NETWORK_EXPONENTIAL: {
        /* Exponential with mean (high - low) / 2 above low, by inversion on 2^-k steps: the
         * number of leading zero bits of a uniform 64-bit draw is geometric. */
        int halvings = draw_value ? __builtin_clzll(draw_value) : 64;
        int64_t mean = (high - low) / 2;
        int64_t extra = mean * halvings;
        return low + (extra > 100 * (high - low) ? 100 * (high - low) : extra);
    }
    case FAULT_NETWORK_BIMODAL:
        return draw_value % 100 == 0 ? uniform * 10 : uniform;
    default:
        return uniform;
    }
}

static int64_t latency(const struct sched_config *config, struct sched_prng *stream, int op) {
    if (!config->network_latency) return config->network_peer_latency_ns;
    int64_t low, high;
    switch (op) {
    case FAULT_NETWORK_CONNECT:
        low = config->network_connect_latency_min_ns, high = config->network_connect_latency_max_ns;
        break;
    case FAULT_NETWORK_ACCEPT:
        low = config->network_accept_latency_min_ns, high = config->network_accept_latency_max_ns;
        break;
    case FAULT_NETWORK_READ:
        low = config->network_read_latency_min_ns, high = config->network_read_latency_max_ns;
        break;
    default:
        low = config->network_write_latency_min_ns, high = config->network_write_latency_max_ns;
        break;
    }
    return config->network_peer_latency_ns + shaped(config, stream, low, high);
}

void fault_network_decide(const struct sched_config *config, struct sched_prng *stream, int op,
                          uint64_t length, int site_active, unsigned context,
                          struct fault_network_decision *decision) {
    decision->verdict = FAULT_NETWORK_OK;
    decision->parameter = 0;
    decision->latency_ns = latency(config, stream, op);
    int clog = sched_prng_draw_q32(stream, config->network_clog);
    int refused = sched_prng_draw_q32(stream, config->network_connect_refused);
    int hang = sched_prng_draw_q32(stream, config->network_connect_hang);
    int close = sched_prng_draw_q32(stream, config->network_close);
    int rst = sched_prng_draw_q32(stream, config->network_close_rst);
    int half_open = sched_prng_draw_q32(stream, config->network_half_open);
    int short_transfer = sched_prng_draw_q32(stream, config->network_short);
    int bit_flip = sched_prng_draw_q32(stream, config->network_bit_flip);
    int interrupted = sched_prng_draw_q32(stream, config->network_eintr);
    int spurious = sched_prng_draw_q32(stream, config->network_spurious_ready);
    int accept_error = sched_prng_draw_q32(stream, config->network_accept_error);
    uint64_t parameter = sched_prng_next(stream);
    int64_t clog_ns = between(stream, 100000000, 300000000); /* drawn either way: no shifts */
    if (clog) decision->latency_ns += clog_ns;
    if (!site_active) return;
    decision->parameter = parameter;
    int nonblocking = (context & FAULT_NETWORK_NONBLOCKING) != 0;
    int edge = (context & FAULT_NETWORK_EDGE_TRIGGERED) != 0;
    int datagram = (context & FAULT_NETWORK_DATAGRAM) != 0;
    if (interrupted && !nonblocking) decision->verdict = FAULT_NETWORK_EINTR;
    else if (op == FAULT_NETWORK_CONNECT && refused) decision->verdict = FAULT_NETWORK_REFUSED;
    else if (op == FAULT_NETWORK_CONNECT && hang && !nonblocking)
        decision->verdict = FAULT_NETWORK_HANG;
    else if (op == FAULT_NETWORK_ACCEPT && accept_error)
        decision->verdict = parameter & 1 ? FAULT_NETWORK_EMFILE : FAULT_NETWORK_ABORTED;
    else if ((op == FAULT_NETWORK_READ || op == FAULT_NETWORK_WRITE) && close && !datagram)
        decision->verdict = rst ? FAULT_NETWORK_RST : FAULT_NETWORK_FIN;
    else if (op == FAULT_NETWORK_WRITE && half_open && !datagram)
        decision->verdict = FAULT_NETWORK_HALF_OPEN; /* noticed when what was sent vanishes */
    else if (op == FAULT_NETWORK_READ && spurious && nonblocking && !edge)
        decision->verdict = FAULT_NETWORK_SPURIOUS;
    else if (length > 1 && short_transfer && !edge && !datagram) {
        decision->verdict = FAULT_NETWORK_SHORT;
        decision->parameter = 1 + parameter % (length - 1);
    } else if (op == FAULT_NETWORK_READ && bit_flip) decision->verdict = FAULT_NETWORK_BIT_FLIP;
    else decision->parameter = 0;
}

int64_t *fault_network_family(struct sched_config *config, int index, const char **name) {
    switch (index) {
    case 0: *name = "connect_refused"; return &config->network_connect_refused;
    case 1: *name = "close"; return &config->network_close;
    case 2: *name = "half_open"; return &config->network_half_open;
    case 3: *name = "short"; return &config->network_short;
    case 4: *name = "clog"; return &config->network_clog;
    case 5: *name = "bit_flip"; return &config->network_bit_flip;
    case 6: *name = "eintr"; return &config->network_eintr;
    case 7: *name = "spurious_ready"; return &config->network_spurious_ready;
    case 8: *name = "accept_error"; return &config->network_accept_error;
    default: return 0;
    }
}

void fault_network_swarm(struct sched_config *config, struct sched_prng *stream) {
    const char *name;
    int64_t *rate;
    for (int i = 0; (rate = fault_network_family(config, i, &name)) != 0; i++) {
        if (sched_prng_below(stream, 2) == 0) {
            *rate = 0;
            continue;
        }
        int64_t chosen = SCHED_PROBABILITY_ONE / 10;
        for (uint64_t k = sched_prng_below(stream, 4); k > 0; k--) chosen /= 10;
        *rate = chosen;
    }
}
