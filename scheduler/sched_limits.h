/* sched_limits.h: every fixed limit of the deterministic core, in one place. */
#ifndef MOON_SCHED_LIMITS_H
#define MOON_SCHED_LIMITS_H

/* Simulated threads one process may have alive at once. */
#define SCHED_THREADS_MAX 256
/* Pending timers (sleep deadlines, timeouts) the event queue can hold. */
#define SCHED_EVENTS_MAX 1024
/* Call sites (syscall x caller) whose two-level fault activation is remembered. */
#define SCHED_SITES_MAX 4096
/* Longest config key ("section.key") and value the parser accepts. */
#define SCHED_CONFIG_KEY_MAX 64
#define SCHED_CONFIG_VALUE_MAX 256
/* Longest config line the INI parser accepts. */
#define SCHED_CONFIG_LINE_MAX 1024
/* Length of a human-readable error message from the core. */
#define SCHED_ERROR_MESSAGE_MAX 192

#endif
