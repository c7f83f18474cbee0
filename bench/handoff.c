/* handoff.c: two threads pass the turn back and forth, timed from outside by bench/handoff.sh.
 *
 * Usage: handoff [--split] mutexcond|futex N
 *   mutexcond  N round trips through one pthread mutex, two condition variables and a turn
 *              variable: the main thread gives the turn to the partner (turn = 1, signal the
 *              partner's condvar) and waits on its own condvar until the partner gives it back.
 *   futex      N round trips through two futex words, one per thread, with raw
 *              syscall(SYS_futex, ...): FUTEX_WAKE_PRIVATE on the partner's word, then
 *              FUTEX_WAIT_PRIVATE on our own word while it is 0. No libc locking at all.
 *
 * One round trip is two handoffs: main -> partner -> main.
 *
 * With --split, the main thread is bound to the first CPU it may use and the partner to the
 * second (sched_setaffinity, pthread_attr_setaffinity_np), so every handoff crosses CPUs; without
 * it the kernel places the two threads (and a taskset outside can pin both to one CPU). --split
 * fails (exit 1) if fewer than two CPUs are allowed. Under the shim, use it only with
 * MOONSHIM_FAULTS=threads.pin=off: the shim's own pin happens before main and would be undone.
 *
 * The program never times itself: under the shim every clock is virtual, so only a clock outside
 * the process (hyperfine, date) measures real cost. N = 0 still creates and joins the partner
 * thread, so subtracting the N = 0 time removes start-up and thread creation from the per-round
 * cost. It prints one line with the number of round trips each side counted, and fails (exit 1)
 * if they disagree or a call fails. Usage errors exit 2. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { MAIN = 0, PARTNER = 1 };

/* The state both threads share; one instance, in main's stack frame. */
struct handoff {
    uint64_t rounds;
    uint64_t partner_rounds; /* written by the partner, read by main after the join */
    /* mutexcond */
    pthread_mutex_t mutex;
    pthread_cond_t turn_changed[2]; /* indexed by the thread whose turn it becomes */
    int turn;
    /* futex: word[t] is 1 when thread t may run; only t clears it. */
    _Atomic uint32_t word[2];
};

static void fail(const char *what, int error) {
    fprintf(stderr, "handoff: %s: %s\n", what, strerror(error));
    exit(1);
}

/* Checks a pthread call's result; exits on failure. */
static void check(int error, const char *what) {
    if (error != 0) fail(what, error);
}

/* Waits, holding the mutex (cond_wait drops it while asleep), until the turn is `self`'s. */
static void mutexcond_wait_turn(struct handoff *h, int self) {
    while (h->turn != self)
        check(pthread_cond_wait(&h->turn_changed[self], &h->mutex), "pthread_cond_wait");
}

/* Makes it `to`'s turn and wakes it; the caller holds the mutex. */
static void mutexcond_give_turn(struct handoff *h, int to) {
    h->turn = to;
    check(pthread_cond_signal(&h->turn_changed[to]), "pthread_cond_signal");
}

static void *mutexcond_partner(void *argument) {
    struct handoff *h = argument;
    check(pthread_mutex_lock(&h->mutex), "pthread_mutex_lock");
    for (uint64_t i = 0; i < h->rounds; i++) {
        mutexcond_wait_turn(h, PARTNER);
        h->partner_rounds++;
        mutexcond_give_turn(h, MAIN);
    }
    check(pthread_mutex_unlock(&h->mutex), "pthread_mutex_unlock");
    return NULL;
}

static void mutexcond_main(struct handoff *h) {
    check(pthread_mutex_lock(&h->mutex), "pthread_mutex_lock");
    for (uint64_t i = 0; i < h->rounds; i++) {
        mutexcond_give_turn(h, PARTNER);
        mutexcond_wait_turn(h, MAIN);
    }
    check(pthread_mutex_unlock(&h->mutex), "pthread_mutex_unlock");
}

static void futex_wake(_Atomic uint32_t *word) {
    if (syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0)
        fail("FUTEX_WAKE", errno);
}

/* Sleeps until word is 1, then clears it. */
static void futex_take(_Atomic uint32_t *word) {
    while (atomic_load_explicit(word, memory_order_acquire) == 0) {
        if (syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) < 0 && errno != EAGAIN &&
            errno != EINTR)
            fail("FUTEX_WAIT", errno);
    }
    atomic_store_explicit(word, 0, memory_order_relaxed);
}

static void futex_give(_Atomic uint32_t *word) {
    atomic_store_explicit(word, 1, memory_order_release);
    futex_wake(word);
}

static void *futex_partner(void *argument) {
    struct handoff *h = argument;
    for (uint64_t i = 0; i < h->rounds; i++) {
        futex_take(&h->word[PARTNER]);
        h->partner_rounds++;
        futex_give(&h->word[MAIN]);
    }
    return NULL;
}

static void futex_main(struct handoff *h) {
    for (uint64_t i = 0; i < h->rounds; i++) {
        futex_give(&h->word[PARTNER]);
        futex_take(&h->word[MAIN]);
    }
}

/* Parses a decimal count; fails (returns -1) on anything else, including a sign. */
static int parse_count(const char *text, uint64_t *count) {
    if (text[0] < '0' || text[0] > '9') return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') return -1;
    *count = (uint64_t)value;
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: handoff [--split] mutexcond|futex N\n");
    return 2;
}

/* Binds the calling thread to the first allowed CPU and sets `attributes` to the second. */
static void split_cpus(pthread_attr_t *attributes) {
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) fail("sched_getaffinity", errno);
    int cpus[2], found = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++)
        if (CPU_ISSET(cpu, &allowed)) cpus[found++] = cpu;
    if (found < 2) {
        fprintf(stderr, "handoff: --split needs two allowed CPUs, this process has %d\n", found);
        exit(1);
    }
    CPU_ZERO(&one);
    CPU_SET(cpus[1], &one);
    check(pthread_attr_setaffinity_np(attributes, sizeof(one), &one),
          "pthread_attr_setaffinity_np");
    CPU_ZERO(&one);
    CPU_SET(cpus[0], &one);
    if (sched_setaffinity(0, sizeof(one), &one) != 0) fail("sched_setaffinity", errno);
}

int main(int argc, char **argv) {
    struct handoff h;
    memset(&h, 0, sizeof(h));
    int split = argc > 1 && strcmp(argv[1], "--split") == 0;
    if (split) {
        argc--;
        argv++;
    }
    if (argc != 3 || parse_count(argv[2], &h.rounds) != 0) return usage();
    void *(*partner)(void *);
    void (*run)(struct handoff *);
    if (strcmp(argv[1], "mutexcond") == 0) {
        partner = mutexcond_partner;
        run = mutexcond_main;
        check(pthread_mutex_init(&h.mutex, NULL), "pthread_mutex_init");
        check(pthread_cond_init(&h.turn_changed[MAIN], NULL), "pthread_cond_init");
        check(pthread_cond_init(&h.turn_changed[PARTNER], NULL), "pthread_cond_init");
        h.turn = MAIN;
    } else if (strcmp(argv[1], "futex") == 0) {
        partner = futex_partner;
        run = futex_main;
        atomic_init(&h.word[MAIN], 0);
        atomic_init(&h.word[PARTNER], 0);
    } else {
        fprintf(stderr, "handoff: unknown workload '%s'\n", argv[1]);
        return usage();
    }
    pthread_attr_t attributes;
    check(pthread_attr_init(&attributes), "pthread_attr_init");
    if (split) split_cpus(&attributes);
    pthread_t thread;
    check(pthread_create(&thread, &attributes, partner, &h), "pthread_create");
    check(pthread_attr_destroy(&attributes), "pthread_attr_destroy");
    run(&h);
    check(pthread_join(thread, NULL), "pthread_join");
    if (h.partner_rounds != h.rounds) {
        fprintf(stderr, "handoff: partner counted %" PRIu64 " round trips, main %" PRIu64 "\n",
                h.partner_rounds, h.rounds);
        return 1;
    }
    printf("%s %" PRIu64 " round trips\n", argv[1], h.rounds);
    return 0;
}
