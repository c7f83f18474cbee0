/* core_driver.c: driving the core from unit suites: one request, and the usual shorthands. */
#include "core_driver.h"

#include <check.h>

struct sched_config defaults(void) {
    struct sched_config config;
    sched_config_defaults(&config);
    return config;
}

struct sched_decision ask(struct sched_core *target, uint32_t thread, uint32_t kind,
                          int64_t arg0, int64_t arg1, int64_t arg2, int64_t arg3) {
    struct sched_request request = {kind, thread, CALL_BASE + kind, 0, {arg0, arg1, arg2, arg3},
                                    0};
    struct sched_decision decision;
    memset(&decision, 0xa5, sizeof(decision));
    sched_core_handle(target, &request, &decision);
    return decision;
}

struct sched_decision record(struct sched_core *target, uint32_t thread) {
    return ask(target, thread, SCHED_REQ_RECORD, 0, 0, 0, 0);
}

struct sched_decision sleep_for(struct sched_core *target, uint32_t thread,
                                int64_t duration_ns) {
    return ask(target, thread, SCHED_REQ_SLEEP, duration_ns, SCHED_SLEEP_RELATIVE, 0, 0);
}

uint32_t create(struct sched_core *target) {
    struct sched_decision decision = ask(target, 0, SCHED_REQ_THREAD_CREATE, 0, 0, 0, 0);
    ck_assert_int_eq(decision.result, 0);
    ck_assert_uint_eq(decision.flags, 0);
    return (uint32_t)decision.value;
}

uint64_t site_with(struct sched_core *target, int wanted, uint64_t from) {
    for (uint64_t key = from; key < from + 1000; key++)
        if (sched_core_site_active(target, key) == wanted) return key;
    ck_abort_msg("no site with activation %d in 1000 keys", wanted);
    return 0;
}

int is_stream_fresh(const struct sched_core *target, enum sched_stream stream) {
    struct sched_prng fresh;
    sched_prng_stream(&fresh, target->seed, stream);
    return memcmp(&target->streams[stream], &fresh, sizeof(fresh)) == 0;
}
