/* backoff.c: the demo's program under test: a client that retries a flaky call with exponential
 * backoff and random jitter, and promises its caller to give up before a 30-second deadline.
 *
 * It has a real bug, of a kind often shipped: the deadline check is made on the backoff *before*
 * the jitter is added, so a retry whose jittered sleep runs past the deadline is still started.
 * Whether a run hits it depends on which calls fail and how much jitter is drawn, i.e. on the
 * random bytes the program reads, which moonshim derives from the seed. In real time a run can
 * take half a minute; in virtual time it takes a millisecond. */
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 30000
#define BASE_MS 100
#define CAP_MS 8000
#define FAILURE_PERCENT 60

static uint32_t random_u32(void) {
    uint32_t value;
    if (getrandom(&value, sizeof(value), 0) != sizeof(value)) return 0;
    return value;
}

static long long now_ms(void) {
    struct timespec value;
    clock_gettime(CLOCK_MONOTONIC, &value);
    return value.tv_sec * 1000ll + value.tv_nsec / 1000000;
}

/* The remote call: fails FAILURE_PERCENT of the time and takes 50-250 ms. */
static int flaky_call(void) {
    usleep((50 + random_u32() % 200) * 1000);
    return random_u32() % 100 >= FAILURE_PERCENT;
}

int main(void) {
    long long start = now_ms();
    long long deadline = start + DEADLINE_MS;
    for (int attempt = 0;; attempt++) {
        if (flaky_call()) {
            printf("succeeded after %d attempts, %lld ms\n", attempt + 1, now_ms() - start);
            return 0;
        }
        long long backoff = BASE_MS << (attempt < 10 ? attempt : 10);
        if (backoff > CAP_MS) backoff = CAP_MS;
        /* BUG: the check ignores the jitter added below. */
        if (now_ms() + backoff > deadline) {
            printf("gave up in time after %d attempts, %lld ms\n", attempt + 1, now_ms() - start);
            return 0;
        }
        long long jitter = random_u32() % (backoff + 1);
        usleep((useconds_t)((backoff + jitter) * 1000));
        if (now_ms() > deadline) {
            fprintf(stderr, "BUG: deadline missed by %lld ms (attempt %d)\n", now_ms() - deadline,
                    attempt + 1);
            return 1;
        }
    }
}
