/* child_exec.c: processes started with system()/popen() inherit the filter and run simulated. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"

int main(void) {
    FILE *child = popen("date +%s", "r");
    CHECK(child);
    char line[64] = "";
    CHECK(fgets(line, sizeof(line), child) != 0);
    CHECK(pclose(child) == 0);
    CHECK(atoll(line) == DEFAULT_EPOCH_S); /* the child has its own virtual clock */
    int status = system("exit 7");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    printf("child saw %s", line);
    return 0;
}
