/* The daemon's event loop: epoll for descriptors, one timerfd for all
 * timers (a min-heap of deadlines), one signalfd for signals, and child
 * process reaping on SIGCHLD. Single-threaded; callbacks must not block.
 *
 * Callbacks may add and remove watches and timers freely, including their
 * own: a removed watch is never called again, even when its event was
 * already returned by the same epoll_wait(). */
#ifndef ISCSID_LOOP_H
#define ISCSID_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/types.h>

struct loop;
struct loop_io;

typedef void (*loop_io_fn)(struct loop *l, int fd, uint32_t events, void *data);
typedef void (*loop_timer_fn)(struct loop *l, void *data);
typedef void (*loop_signal_fn)(struct loop *l, const struct signalfd_siginfo *si, void *data);
typedef void (*loop_child_fn)(struct loop *l, pid_t pid, int wstatus, void *data);

/* A timer lives in its owner's struct; the loop only links it. */
struct loop_timer {
	uint64_t deadline;     /* CLOCK_MONOTONIC, ms */
	size_t heap_index;     /* position in the heap + 1; 0 when not armed */
	loop_timer_fn fn;
	void *data;
};

int loop_new(struct loop **ret);
/* Closes the loop's own descriptors; the watched ones belong to their
 * owners. Restores the signal mask loop_signal() changed. */
void loop_free(struct loop *l);

/* fd must be non-blocking. events: EPOLLIN/EPOLLOUT (level-triggered). */
int loop_io_add(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *data,
		struct loop_io **ret);
int loop_io_set_events(struct loop *l, struct loop_io *io, uint32_t events);
/* Stops watching (does not close fd). NULL is a no-op. */
void loop_io_remove(struct loop *l, struct loop_io *io);

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *data);
/* (Re)arms t to fire once, ms milliseconds from now. -ENOMEM only. */
int loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t ms);
void loop_timer_disarm(struct loop *l, struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);

/* Blocks signo for the process and delivers it through the loop. One
 * handler per signal. SIGCHLD is taken by the loop for loop_child_watch().*/
int loop_signal(struct loop *l, int signo, loop_signal_fn fn, void *data);

/* Calls fn once pid has exited (reaped with waitpid). */
int loop_child_watch(struct loop *l, pid_t pid, loop_child_fn fn, void *data);
/* Forget pid (its exit will be reaped but not reported). */
void loop_child_forget(struct loop *l, pid_t pid);

/* ---- off-loop work ----
 * What blocks (a name lookup) runs in a child process: fn runs in a fork
 * of the daemon that keeps nothing of the parent's descriptors but 0-2
 * (/dev/null) and the write end of a pipe (out_fd), writes its result
 * there and returns (the child then exits). The loop gathers what it
 * wrote (at most out_max bytes) and calls done once, from the loop:
 *   status 0            the child exited normally; out/len what it wrote
 *   -ETIMEDOUT          not finished within timeout_ms (from the start
 *                       call, queueing included): the child was killed
 *   -EMSGSIZE           it wrote more than out_max bytes (killed)
 *   -ECHILD             it died some other way
 * At most LOOP_WORK_MAX_RUNNING children run at once; later work waits
 * its turn. in (inlen bytes) is copied. */
#define LOOP_WORK_MAX_RUNNING 4
#define LOOP_WORK_MAX_QUEUED 256

struct loop_work;
typedef void (*loop_work_fn)(const void *in, size_t inlen, int out_fd);
typedef void (*loop_work_done_fn)(struct loop *l, int status, const void *out, size_t len, void *data);

/* -ENOMEM, -EAGAIN (LOOP_WORK_MAX_QUEUED waiting already). */
int loop_work_start(struct loop *l, loop_work_fn fn, const void *in, size_t inlen, size_t out_max,
		    uint64_t timeout_ms, loop_work_done_fn done, void *data, struct loop_work **ret);
/* Stops w (its child is killed) without calling done. NULL is a no-op. */
void loop_work_cancel(struct loop *l, struct loop_work *w);
/* The data given to loop_work_start(). */
void *loop_work_data(const struct loop_work *w);
/* Children running, for tests. */
size_t loop_work_running(const struct loop *l);

/* Runs until loop_exit(). Returns the code given to loop_exit(), or a
 * negative errno when epoll itself fails. */
int loop_run(struct loop *l);
void loop_exit(struct loop *l, int code);

uint64_t loop_now_ms(void);

#endif
