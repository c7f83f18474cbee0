/* unit.c: the shared runner of the Check unit suites. */
#include "unit.h"

#include <stdlib.h>
#include <sys/resource.h>

int unit_run(Suite *suite) {
    /* Death tests abort on purpose; do not litter the build directory with core files. */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    SRunner *runner = srunner_create(suite);
    srunner_set_fork_status(runner, CK_FORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

double unit_chi_square(const uint64_t *counts, size_t buckets) {
    uint64_t total = 0;
    for (size_t i = 0; i < buckets; i++) total += counts[i];
    double expected = (double)total / (double)buckets;
    double statistic = 0;
    for (size_t i = 0; i < buckets; i++) {
        double difference = (double)counts[i] - expected;
        statistic += difference * difference / expected;
    }
    return statistic;
}
