/* raw_syscalls.c: syscall(2) bypasses libc's wrappers; the seccomp backstop must still catch it. */
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    struct timespec value;
    CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &value) == 0);
    CHECK(value.tv_sec == DEFAULT_EPOCH_S);
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &value) == 0);
    CHECK(value.tv_sec == DEFAULT_UPTIME_S);
    struct timeval tv;
    CHECK(syscall(SYS_gettimeofday, &tv, 0) == 0 && tv.tv_sec == DEFAULT_EPOCH_S);
    time_t seconds = 0;
    CHECK(syscall(SYS_time, &seconds) == DEFAULT_EPOCH_S && seconds == DEFAULT_EPOCH_S);
    struct timespec ten = {10, 0};
    CHECK(syscall(SYS_nanosleep, &ten, 0) == 0);
    CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ten, 0) == 0);
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &value) == 0);
    CHECK(value.tv_sec == DEFAULT_UPTIME_S + 20);
    CHECK(syscall(SYS_poll, 0, 0, 5000) == 0);
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &value) == 0);
    CHECK(value.tv_sec == DEFAULT_UPTIME_S + 25);
    unsigned char bytes[16];
    CHECK(syscall(SYS_getrandom, bytes, sizeof(bytes), 0) == (long)sizeof(bytes));
    unsigned cpu = 99, node = 99;
    CHECK(syscall(SYS_getcpu, &cpu, &node, 0) == 0 && cpu == 0 && node == 0);
    printf("raw getrandom ");
    for (size_t i = 0; i < sizeof(bytes); i++) printf("%02x", bytes[i]);
    printf("\n");
    return 0;
}
