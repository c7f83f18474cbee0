/* deadlock.c: waits forever with nothing to wake it; moonshim must say so, not hang. */
#include <poll.h>

int main(void) {
    poll(0, 0, -1);
    return 0;
}
