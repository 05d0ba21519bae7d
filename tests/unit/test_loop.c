#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"

struct rec {
	struct loop *l;
	char order[16];
	int n;
	int stop_after;
};

static void note(struct rec *r, char c)
{
	if (r->n < (int)sizeof(r->order) - 1)
		r->order[r->n++] = c;
	if (r->n == r->stop_after)
		loop_exit(r->l, 42);
}

struct tmr {
	struct loop_timer t;
	struct rec *r;
	char name;
};

static void on_tmr(struct loop *l, void *data)
{
	struct tmr *t = data;
	note(t->r, t->name);
}

START_TEST(test_timers_in_deadline_order)
{
	struct loop *l;
	struct rec r = { .stop_after = 3 };
	struct tmr a = { .r = &r, .name = 'a' }, b = { .r = &r, .name = 'b' }, c = { .r = &r, .name = 'c' },
		   x = { .r = &r, .name = 'x' };
	ck_assert_int_eq(loop_new(&l), 0);
	r.l = l;
	loop_timer_init(&a.t, on_tmr, &a);
	loop_timer_init(&b.t, on_tmr, &b);
	loop_timer_init(&c.t, on_tmr, &c);
	loop_timer_init(&x.t, on_tmr, &x);
	ck_assert_int_eq(loop_timer_arm(l, &c.t, 60), 0);
	ck_assert_int_eq(loop_timer_arm(l, &a.t, 20), 0);
	ck_assert_int_eq(loop_timer_arm(l, &x.t, 10), 0);
	ck_assert_int_eq(loop_timer_arm(l, &b.t, 40), 0);
	loop_timer_disarm(l, &x.t);                    /* never fires */
	ck_assert(!loop_timer_armed(&x.t));
	ck_assert(loop_timer_armed(&a.t));
	uint64_t t0 = loop_now_ms();
	ck_assert_int_eq(loop_run(l), 42);
	ck_assert_str_eq(r.order, "abc");
	ck_assert_uint_ge(loop_now_ms() - t0, 60);
	loop_free(l);
}
END_TEST

/* A timer re-armed from its own callback fires again. */
struct again {
	struct loop_timer t;
	int count;
};

static void on_again(struct loop *l, void *data)
{
	struct again *a = data;
	if (++a->count == 3)
		loop_exit(l, 7);
	else
		loop_timer_arm(l, &a->t, 1);
}

START_TEST(test_timer_rearm_from_callback)
{
	struct loop *l;
	struct again a = { .count = 0 };
	ck_assert_int_eq(loop_new(&l), 0);
	loop_timer_init(&a.t, on_again, &a);
	loop_timer_arm(l, &a.t, 0);
	ck_assert_int_eq(loop_run(l), 7);
	ck_assert_int_eq(a.count, 3);
	loop_free(l);
}
END_TEST

/* Two descriptors ready in the same batch: the first callback removes the
 * second watch; the second callback must not run. */
struct pair {
	struct loop_io *io[2];
	int fds[2];
	int calls[2];
};

static void on_fd(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct pair *p = data;
	int me = fd == p->fds[0] ? 0 : 1;
	p->calls[me]++;
	loop_io_remove(l, p->io[1 - me]);
	loop_io_remove(l, p->io[me]);
	loop_exit(l, 0);
}

START_TEST(test_io_removed_in_same_batch)
{
	struct loop *l;
	struct pair p;
	int a[2], b[2];
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(pipe2(a, O_NONBLOCK | O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(b, O_NONBLOCK | O_CLOEXEC), 0);
	ck_assert_int_eq(write(a[1], "x", 1), 1);
	ck_assert_int_eq(write(b[1], "y", 1), 1);
	p.fds[0] = a[0];
	p.fds[1] = b[0];
	ck_assert_int_eq(loop_new(&l), 0);
	ck_assert_int_eq(loop_io_add(l, a[0], EPOLLIN, on_fd, &p, &p.io[0]), 0);
	ck_assert_int_eq(loop_io_add(l, b[0], EPOLLIN, on_fd, &p, &p.io[1]), 0);
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(p.calls[0] + p.calls[1], 1);
	loop_free(l);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}
END_TEST

START_TEST(test_io_add_bad_fd)
{
	struct loop *l;
	struct loop_io *io = NULL;
	ck_assert_int_eq(loop_new(&l), 0);
	ck_assert_int_eq(loop_io_add(l, -1, EPOLLIN, on_fd, NULL, &io), -EBADF);
	ck_assert_ptr_null(io);
	loop_io_remove(l, NULL);
	loop_free(l);
	loop_free(NULL);
}
END_TEST

static int got_signo;

static void on_sig(struct loop *l, const struct signalfd_siginfo *si, void *data)
{
	got_signo = (int)si->ssi_signo;
	loop_exit(l, 5);
}

START_TEST(test_signal_delivered_through_loop)
{
	struct loop *l;
	ck_assert_int_eq(loop_new(&l), 0);
	ck_assert_int_eq(loop_signal(l, SIGUSR1, on_sig, NULL), 0);
	ck_assert_int_eq(loop_signal(l, SIGCHLD, on_sig, NULL), -EINVAL);
	kill(getpid(), SIGUSR1);
	ck_assert_int_eq(loop_run(l), 5);
	ck_assert_int_eq(got_signo, SIGUSR1);
	loop_free(l);
	/* the mask is restored: SIGUSR1 is no longer blocked */
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	ck_assert(!sigismember(&cur, SIGUSR1));
}
END_TEST

static int child_status = -1;

static void on_child(struct loop *l, pid_t pid, int st, void *data)
{
	child_status = WIFEXITED(st) ? WEXITSTATUS(st) : -2;
	loop_exit(l, 0);
}

START_TEST(test_child_reaped)
{
	struct loop *l;
	ck_assert_int_eq(loop_new(&l), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		usleep(20000);
		_exit(3);
	}
	ck_assert_int_eq(loop_child_watch(l, pid, on_child, NULL), 0);
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(child_status, 3);
	/* really reaped */
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
	loop_free(l);
}
END_TEST

/* A child that exits before it is watched is still reported. */
START_TEST(test_child_exited_before_watch)
{
	struct loop *l;
	child_status = -1;
	ck_assert_int_eq(loop_new(&l), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(9);
	usleep(50000);
	ck_assert_int_eq(loop_child_watch(l, pid, on_child, NULL), 0);
	ck_assert_int_eq(child_status, 9);
	loop_free(l);
}
END_TEST

/* Many timers armed and disarmed in random order keep the heap valid:
 * the survivors fire in deadline order. */
struct many {
	struct loop_timer t;
	uint64_t *last;
	int *fired;
	int *bad;
};

static void on_many(struct loop *l, void *data)
{
	struct many *m = data;
	if (m->t.deadline < *m->last)
		(*m->bad)++;
	*m->last = m->t.deadline;
	if (--*m->fired == 0)
		loop_exit(l, 0);
}

START_TEST(test_heap_stress)
{
	enum { N = 300 };
	struct loop *l;
	struct many *m = calloc(N, sizeof(*m));
	uint64_t last = 0;
	int fired = 0, bad = 0;
	ck_assert_int_eq(loop_new(&l), 0);
	srand(1);
	for (int i = 0; i < N; i++) {
		m[i].last = &last;
		m[i].fired = &fired;
		m[i].bad = &bad;
		loop_timer_init(&m[i].t, on_many, &m[i]);
		ck_assert_int_eq(loop_timer_arm(l, &m[i].t, (uint64_t)(rand() % 80)), 0);
	}
	for (int i = 0; i < N; i += 3)
		loop_timer_disarm(l, &m[i].t);
	for (int i = 0; i < N; i++)
		fired += loop_timer_armed(&m[i].t);
	ck_assert_int_eq(fired, N - (N + 2) / 3);
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(fired, 0);
	loop_free(l);
	free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_timers_in_deadline_order);
	tcase_add_test(tc, test_timer_rearm_from_callback);
	tcase_add_test(tc, test_io_removed_in_same_batch);
	tcase_add_test(tc, test_io_add_bad_fd);
	tcase_add_test(tc, test_signal_delivered_through_loop);
	tcase_add_test(tc, test_child_reaped);
	tcase_add_test(tc, test_child_exited_before_watch);
	tcase_add_test(tc, test_heap_stress);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
