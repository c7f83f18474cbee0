/* static_hello.c: linked statically, so LD_PRELOAD cannot reach it; moonshim must refuse it. */
#include <stdio.h>

int main(void) {
    puts("this should never run under moonshim exec");
    return 0;
}
