/* signals.c: application signal handlers under the shim run at deterministic points, with the
 * semantics the kernel gives them, and the timers that send signals run in virtual time.
 *
 * Each part prints one line; the output must be the same for every run of a seed. The last line
 * is a value drawn from getrandom after everything, so different seeds print different output
 * (the runner's `differ` mode). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t usr1_count, usr2_count, alarm_count, child_count;
static volatile int last_sender;
static volatile int usr1_while_blocked_check; /* errno seen inside a handler must not leak */

static void on_usr1(int signal_number) {
    (void)signal_number;
    usr1_count++;
    errno = EBADF; /* a handler that clobbers errno: the interrupted code must not see it */
}

static void on_usr2(int signal_number, siginfo_t *info, void *context) {
    (void)signal_number;
    (void)context;
    usr2_count++;
    last_sender = info->si_pid;
}

static void on_alarm(int signal_number) {
    (void)signal_number;
    alarm_count++;
}

static void on_child(int signal_number) {
    (void)signal_number;
    child_count++;
}

static int64_t monotonic_s(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec;
}

static void install(int signal_number, void (*handler)(int), int flags) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = handler;
    action.sa_flags = flags;
    sigemptyset(&action.sa_mask);
    CHECK(sigaction(signal_number, &action, 0) == 0);
}

static void part_raise_and_kill(void) {
    install(SIGUSR1, on_usr1, SA_RESTART);
    errno = 0;
    CHECK(raise(SIGUSR1) == 0);
    CHECK(usr1_count == 1); /* the handler ran before raise returned */
    CHECK(errno == 0);
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = on_usr2;
    action.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGUSR2, &action, 0) == 0);
    CHECK(kill(getpid(), SIGUSR2) == 0);
    CHECK(usr2_count == 1 && last_sender == getpid());
    /* What the program set is what it reads back: its handler, not the shim's. */
    struct sigaction now;
    CHECK(sigaction(SIGUSR2, 0, &now) == 0);
    CHECK(now.sa_sigaction == on_usr2 && (now.sa_flags & SA_SIGINFO));
    printf("raise/kill: handlers ran before the call returned (usr1 %d, usr2 %d)\n",
           (int)usr1_count, (int)usr2_count);
}

static void part_mask(void) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
    int before = usr1_count;
    raise(SIGUSR1);
    raise(SIGUSR1); /* standard signals do not queue: one delivery */
    CHECK(usr1_count == before);
    sigset_t pending;
    CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1));
    CHECK(sigprocmask(SIG_SETMASK, &old, 0) == 0);
    CHECK(usr1_count == before + 1);
    /* The mask the program sets survives the trapped call that set it. */
    CHECK(sigprocmask(SIG_BLOCK, &block, 0) == 0);
    sigset_t current;
    CHECK(sigprocmask(SIG_BLOCK, 0, &current) == 0 && sigismember(&current, SIGUSR1));
    CHECK(sigprocmask(SIG_UNBLOCK, &block, 0) == 0);
    printf("mask: blocked signal held, delivered once on unblock\n");
}

static void part_alarm_pause(void) {
    install(SIGALRM, on_alarm, 0);
    int64_t start = monotonic_s();
    CHECK(alarm(3600) == 0);
    unsigned left = alarm(3600); /* re-arming returns what was left */
    CHECK(left == 3600);
    CHECK(pause() == -1 && errno == EINTR);
    CHECK(alarm_count == 1);
    CHECK(monotonic_s() - start == 3600);
    printf("alarm(3600)+pause: woke after %lld virtual seconds\n", (long long)(monotonic_s() - start));
}

static void part_itimer_sigsuspend(void) {
    sigset_t block, old, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
    struct itimerval timer = {{0, 250000}, {0, 250000}};
    CHECK(setitimer(ITIMER_REAL, &timer, 0) == 0);
    int64_t start_ns;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    start_ns = now.tv_sec * 1000000000ll + now.tv_nsec;
    int before = alarm_count;
    sigemptyset(&wait_mask);
    for (int i = 0; i < 8; i++) CHECK(sigsuspend(&wait_mask) == -1 && errno == EINTR);
    CHECK(alarm_count == before + 8);
    struct itimerval left;
    CHECK(getitimer(ITIMER_REAL, &left) == 0 && left.it_interval.tv_usec == 250000);
    timer = (struct itimerval){{0, 0}, {0, 0}};
    CHECK(setitimer(ITIMER_REAL, &timer, 0) == 0);
    CHECK(sigprocmask(SIG_SETMASK, &old, 0) == 0);
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t elapsed_ms = (now.tv_sec * 1000000000ll + now.tv_nsec - start_ns) / 1000000;
    CHECK(elapsed_ms >= 2000 && elapsed_ms < 2100);
    printf("setitimer 250 ms x 8 via sigsuspend: %lld ms virtual\n", (long long)(elapsed_ms / 10 * 10));
}

static void part_interrupted_waits(void) {
    install(SIGALRM, on_alarm, 0);
    struct timespec want = {10, 0}, left = {0, 0};
    alarm(1);
    CHECK(nanosleep(&want, &left) == -1 && errno == EINTR);
    CHECK(left.tv_sec == 8 || left.tv_sec == 9);
    int fds[2];
    CHECK(pipe(fds) == 0);
    struct pollfd one = {.fd = fds[0], .events = POLLIN};
    alarm(2);
    CHECK(poll(&one, 1, 10000) == -1 && errno == EINTR);
    /* A blocking read of a pipe: SA_RESTART restarts it (here the handler writes the data). */
    printf("nanosleep and poll: EINTR at the alarm (%ld s left of 10)\n", (long)left.tv_sec);
    close(fds[0]);
    close(fds[1]);
}

static void part_child(void) {
    install(SIGCHLD, on_child, SA_RESTART);
    sigset_t block, old, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    CHECK(sigprocmask(SIG_BLOCK, &block, &old) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) _exit(7);
    /* The child is another process (the outside world to this one): when it exits is not the
     * seed's. Waiting for it first makes this part deterministic: SIGCHLD is then pending, and
     * sigsuspend takes it at once. */
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    CHECK(child_count == 0);
    sigemptyset(&wait_mask);
    while (child_count == 0) sigsuspend(&wait_mask);
    CHECK(sigprocmask(SIG_SETMASK, &old, 0) == 0);
    printf("SIGCHLD: held while blocked, taken by sigsuspend; child status %d\n", WEXITSTATUS(status));
}

static void part_signalfd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &set, 0) == 0);
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    CHECK(fd >= 0);
    int before = usr2_count;
    CHECK(raise(SIGUSR2) == 0);
    struct signalfd_siginfo info;
    CHECK(read(fd, &info, sizeof(info)) == (ssize_t)sizeof(info));
    CHECK(info.ssi_signo == SIGUSR2 && usr2_count == before);
    close(fd);
    CHECK(sigprocmask(SIG_UNBLOCK, &set, 0) == 0);
    printf("signalfd: read signal %u, handler not run\n", info.ssi_signo);
}

static void part_resethand(void) {
    install(SIGUSR1, on_usr1, SA_RESETHAND);
    int before = usr1_count;
    raise(SIGUSR1);
    CHECK(usr1_count == before + 1);
    struct sigaction now;
    CHECK(sigaction(SIGUSR1, 0, &now) == 0 && now.sa_handler == SIG_DFL);
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1); /* ignored: nothing happens */
    CHECK(usr1_count == before + 1);
    printf("SA_RESETHAND: one delivery, then the default action\n");
}

static void part_sigwait(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    CHECK(sigprocmask(SIG_BLOCK, &set, 0) == 0);
    int64_t start = monotonic_s();
    alarm(2);
    siginfo_t info;
    CHECK(sigwaitinfo(&set, &info) == SIGALRM);
    CHECK(monotonic_s() - start == 2);
    struct timespec second = {1, 0};
    CHECK(sigtimedwait(&set, &info, &second) == -1 && errno == EAGAIN);
    CHECK(monotonic_s() - start == 3);
    CHECK(sigprocmask(SIG_UNBLOCK, &set, 0) == 0);
    printf("sigwaitinfo: SIGALRM after 2 virtual seconds; sigtimedwait timed out after 1\n");
}

static void part_ppoll_mask(void) {
    install(SIGALRM, on_alarm, 0);
    sigset_t block, during, now;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    CHECK(sigprocmask(SIG_BLOCK, &block, 0) == 0);
    int fds[2];
    CHECK(pipe(fds) == 0);
    struct pollfd one = {.fd = fds[0], .events = POLLIN};
    struct timespec ten = {10, 0};
    sigemptyset(&during);
    int before = alarm_count;
    int64_t start = monotonic_s();
    alarm(1);
    CHECK(ppoll(&one, 1, &ten, &during) == -1 && errno == EINTR);
    CHECK(alarm_count == before + 1 && monotonic_s() - start == 1);
    CHECK(sigprocmask(SIG_BLOCK, 0, &now) == 0 && sigismember(&now, SIGALRM));
    CHECK(sigprocmask(SIG_UNBLOCK, &block, 0) == 0);
    close(fds[0]);
    close(fds[1]);
    printf("ppoll: its mask let SIGALRM in after 1 virtual second; the old mask came back\n");
}

static int thread_pipe[2];
static volatile int thread_read_result, thread_read_errno;

static void *reader(void *unused) {
    (void)unused;
    char byte;
    thread_read_result = (int)read(thread_pipe[0], &byte, 1);
    thread_read_errno = errno;
    return 0;
}

static void part_thread_interrupted(void) {
    install(SIGUSR1, on_usr1, 0); /* no SA_RESTART: the read is interrupted */
    CHECK(pipe(thread_pipe) == 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, 0, reader, 0) == 0);
    struct timespec pause_time = {0, 50000000};
    nanosleep(&pause_time, 0); /* the reader is blocked by now */
    int before = usr1_count;
    CHECK(pthread_kill(thread, SIGUSR1) == 0);
    CHECK(pthread_join(thread, 0) == 0);
    CHECK(thread_read_result == -1 && thread_read_errno == EINTR);
    CHECK(usr1_count == before + 1);
    close(thread_pipe[0]);
    close(thread_pipe[1]);
    printf("pthread_kill: the blocked read in the thread returned EINTR\n");
}

static volatile sig_atomic_t pipe_count;

static void on_pipe(int signal_number) {
    (void)signal_number;
    pipe_count++;
}

/* SIGPIPE, which the kernel raises inside the write itself: the handler has run by the time
 * the write returns EPIPE, through the PLT write and through glibc's own (fwrite). */
static void part_sigpipe(void) {
    install(SIGPIPE, on_pipe, 0);
    int ends[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, ends) == 0);
    close(ends[1]);
    CHECK(write(ends[0], "x", 1) == -1 && errno == EPIPE);
    CHECK(pipe_count == 1);
    FILE *stream = fdopen(ends[0], "w");
    CHECK(stream != 0);
    setvbuf(stream, 0, _IONBF, 0);
    CHECK(fwrite("y", 1, 1, stream) == 0);
    CHECK(pipe_count == 2);
    fclose(stream);
    printf("SIGPIPE: the handler ran before each failing write returned\n");
}

static volatile int rt_values[8];
static volatile sig_atomic_t rt_count;

static void on_rt(int signal_number, siginfo_t *info, void *context) {
    (void)signal_number;
    (void)context;
    if (rt_count < 8) rt_values[rt_count] = info->si_value.sival_int;
    rt_count++;
}

/* Real-time signals queue: three sigqueue()s while blocked are three deliveries, in order. */
static void part_realtime(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = on_rt;
    action.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGRTMIN + 1, &action, 0) == 0);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGRTMIN + 1);
    CHECK(sigprocmask(SIG_BLOCK, &block, 0) == 0);
    for (int i = 1; i <= 3; i++) CHECK(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = i}) == 0);
    CHECK(rt_count == 0);
    CHECK(sigprocmask(SIG_UNBLOCK, &block, 0) == 0);
    CHECK(rt_count == 3 && rt_values[0] == 1 && rt_values[1] == 2 && rt_values[2] == 3);
    printf("real-time: three queued instances delivered in order\n");
}

static sem_t semaphore;

static void *sleeper(void *unused) {
    (void)unused;
    struct timespec hundred = {100, 0}, left = {0, 0};
    thread_read_result = nanosleep(&hundred, &left);
    thread_read_errno = errno;
    CHECK(thread_read_result == -1 && thread_read_errno == EINTR && left.tv_sec >= 98);
    CHECK(sem_wait(&semaphore) == -1 && errno == EINTR);
    return 0;
}

static void post_on_alarm(int signal_number) {
    (void)signal_number;
    sem_post(&semaphore);
}

/* A signal for a thread that sleeps, or waits on a futex (sem_wait), wakes it with EINTR; an
 * alarm ends a futex wait too (the handler posts the semaphore the thread waits on). */
static void part_blocked_threads(void) {
    install(SIGUSR1, on_usr1, 0);
    CHECK(sem_init(&semaphore, 0, 0) == 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, 0, sleeper, 0) == 0);
    struct timespec second = {1, 0};
    int before = usr1_count;
    nanosleep(&second, 0);
    CHECK(pthread_kill(thread, SIGUSR1) == 0); /* ends its nanosleep(100) */
    nanosleep(&second, 0);
    CHECK(pthread_kill(thread, SIGUSR1) == 0); /* ends its sem_wait */
    CHECK(pthread_join(thread, 0) == 0);
    CHECK(usr1_count == before + 2);
    install(SIGALRM, post_on_alarm, 0);
    int64_t start = monotonic_s();
    alarm(3);
    while (sem_wait(&semaphore) == -1 && errno == EINTR) {}
    CHECK(monotonic_s() - start == 3);
    printf("pthread_kill ended a thread's nanosleep and sem_wait; an alarm ended a sem_wait\n");
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    part_raise_and_kill();
    part_mask();
    part_alarm_pause();
    part_itimer_sigsuspend();
    part_interrupted_waits();
    part_child();
    part_signalfd();
    part_resethand();
    part_sigwait();
    part_ppoll_mask();
    part_thread_interrupted();
    part_blocked_threads();
    part_sigpipe();
    part_realtime();
    uint64_t draw;
    CHECK(getrandom(&draw, sizeof(draw), 0) == (ssize_t)sizeof(draw));
    printf("draw %016llx\n", (unsigned long long)draw);
    return 0;
}
