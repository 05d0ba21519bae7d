/* iscsid/loop.c's off-loop work (loop_work_*) and iscsid/resolve.c on top
 * of it: results come back through the loop, a child that blocks is
 * killed at its timeout while the loop goes on, at most
 * LOOP_WORK_MAX_RUNNING children run at once, and a child holds nothing
 * of its parent's descriptors. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "resolve.h"

static struct loop *lp;

struct got {
	int calls;
	int status;
	char out[512];
	size_t len;
	uint64_t at;
};

static void on_done(struct loop *l, int status, const void *out, size_t len, void *data)
{
	struct got *g = data;
	g->calls++;
	g->status = status;
	g->len = len < sizeof(g->out) ? len : sizeof(g->out);
	memcpy(g->out, out, g->len);
	g->at = loop_now_ms();
}

static struct got *waiting[8];
static size_t nwaiting;
static struct loop_timer poll_t, deadline_t, tick_t;
static int ticks;

static void on_poll(struct loop *l, void *data)
{
	for (size_t i = 0; i < nwaiting; i++)
		if (!waiting[i]->calls) {
			loop_timer_arm(l, &poll_t, 5);
			return;
		}
	loop_exit(l, 0);
}

static void on_deadline(struct loop *l, void *data)
{
	loop_exit(l, 1);
}

/* a timer that keeps firing while the loop runs: proof it is not stuck */
static void on_tick(struct loop *l, void *data)
{
	ticks++;
	loop_timer_arm(l, &tick_t, 50);
}

/* Runs the loop until every g has its answer (or ms pass). */
static bool run(struct got **g, size_t n, unsigned ms)
{
	memcpy(waiting, g, n * sizeof(*g));
	nwaiting = n;
	loop_timer_init(&poll_t, on_poll, NULL);
	loop_timer_init(&deadline_t, on_deadline, NULL);
	loop_timer_arm(lp, &poll_t, 0);
	loop_timer_arm(lp, &deadline_t, ms);
	int r = loop_run(lp);
	loop_timer_disarm(lp, &poll_t);
	loop_timer_disarm(lp, &deadline_t);
	return r == 0;
}

static void setup(void)
{
	ck_assert_int_eq(loop_new(&lp), 0);
	ticks = 0;
	loop_timer_init(&tick_t, on_tick, NULL);
	loop_timer_arm(lp, &tick_t, 50);
}

static void teardown(void)
{
	loop_timer_disarm(lp, &tick_t);
	loop_free(lp);
}

/* ---- children ---- */

static void w_echo(const void *in, size_t inlen, int out)
{
	ssize_t n = write(out, in, inlen);
	(void)n;
}

static void w_sleep(const void *in, size_t inlen, int out)
{
	unsigned ms;
	memcpy(&ms, in, sizeof(ms));
	usleep(ms * 1000u);
	ssize_t n = write(out, "late", 4);
	(void)n;
}

static void w_fds(const void *in, size_t inlen, int out)
{
	char buf[512] = "";
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int dfd = d ? dirfd(d) : -1;
	while (d && (e = readdir(d))) {
		char link[300], target[128] = "";
		if (e->d_name[0] == '.' || atoi(e->d_name) == dfd)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n > 0)
			target[n] = '\0';
		if (!strncmp(target, "pipe:", 5))
			strcpy(target, "pipe");
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s=%s;", e->d_name, target);
	}
	if (d)
		closedir(d);
	ssize_t n = write(out, buf, strlen(buf));
	(void)n;
}

static void w_big(const void *in, size_t inlen, int out)
{
	char buf[4096];
	memset(buf, 'x', sizeof(buf));
	ssize_t n = write(out, buf, sizeof(buf));
	(void)n;
}

static void w_crash(const void *in, size_t inlen, int out)
{
	_exit(5);
}

START_TEST(test_result_through_the_loop)
{
	struct got g = { 0 };
	struct loop_work *w;
	struct got *gs[] = { &g };

	ck_assert_int_eq(loop_work_start(lp, w_echo, "hello", 5, 64, 5000, on_done, &g, &w), 0);
	ck_assert_int_eq(g.calls, 0);          /* never from inside the call */
	ck_assert_ptr_eq(loop_work_data(w), &g);
	ck_assert(run(gs, 1, 5000));
	ck_assert_int_eq(g.calls, 1);
	ck_assert_int_eq(g.status, 0);
	ck_assert_uint_eq(g.len, 5);
	ck_assert_mem_eq(g.out, "hello", 5);
	ck_assert_uint_eq(loop_work_running(lp), 0);
}
END_TEST

START_TEST(test_child_keeps_nothing_of_ours)
{
	struct got g = { 0 };
	struct loop_work *w;
	struct got *gs[] = { &g };
	int s = socket(AF_INET, SOCK_STREAM, 0);    /* no CLOEXEC: a fork keeps it */
	int p[2];

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(loop_work_start(lp, w_fds, "", 0, 512, 5000, on_done, &g, &w), 0);
	ck_assert(run(gs, 1, 5000));
	ck_assert_int_eq(g.status, 0);
	g.out[g.len] = '\0';
	ck_assert_str_eq(g.out, "0=/dev/null;1=/dev/null;2=/dev/null;3=pipe;");
	close(s);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_timeout_kills_and_loop_goes_on)
{
	struct got g = { 0 };
	struct loop_work *w;
	struct got *gs[] = { &g };
	unsigned ms = 30000;
	uint64_t t0 = loop_now_ms();

	ck_assert_int_eq(loop_work_start(lp, w_sleep, &ms, sizeof(ms), 64, 300, on_done, &g, &w), 0);
	ck_assert(run(gs, 1, 5000));
	ck_assert_int_eq(g.status, -ETIMEDOUT);
	ck_assert_uint_ge(g.at - t0, 300);
	ck_assert_uint_lt(g.at - t0, 2000);
	ck_assert_int_ge(ticks, 4);            /* the loop ran meanwhile */
	ck_assert_uint_eq(loop_work_running(lp), 0);
}
END_TEST

START_TEST(test_bounded_concurrency)
{
	struct got g[LOOP_WORK_MAX_RUNNING + 2];
	struct got *gs[LOOP_WORK_MAX_RUNNING + 2];
	struct loop_work *w;
	unsigned ms = 300;
	uint64_t t0 = loop_now_ms();

	memset(g, 0, sizeof(g));
	for (size_t i = 0; i < LOOP_WORK_MAX_RUNNING + 2; i++) {
		gs[i] = &g[i];
		ck_assert_int_eq(loop_work_start(lp, w_sleep, &ms, sizeof(ms), 64, 10000, on_done, &g[i], &w), 0);
		ck_assert_uint_le(loop_work_running(lp), LOOP_WORK_MAX_RUNNING);
	}
	ck_assert_uint_eq(loop_work_running(lp), LOOP_WORK_MAX_RUNNING);
	ck_assert(run(gs, LOOP_WORK_MAX_RUNNING + 2, 10000));
	for (size_t i = 0; i < LOOP_WORK_MAX_RUNNING + 2; i++) {
		ck_assert_int_eq(g[i].status, 0);
		ck_assert_mem_eq(g[i].out, "late", 4);
	}
	/* the last two waited for a turn: each started only when one of the
	 * first ones had finished (no upper bound on time: a loaded machine
	 * may be slow to fork) */
	uint64_t first_done = g[0].at;
	for (size_t i = 1; i < LOOP_WORK_MAX_RUNNING; i++)
		if (g[i].at < first_done)
			first_done = g[i].at;
	ck_assert_uint_ge(g[LOOP_WORK_MAX_RUNNING].at - t0, 2 * ms);
	ck_assert_uint_ge(g[LOOP_WORK_MAX_RUNNING].at, first_done + ms);
	ck_assert_uint_ge(g[LOOP_WORK_MAX_RUNNING + 1].at, first_done + ms);
}
END_TEST

START_TEST(test_cancel_oversize_crash)
{
	struct got a = { 0 }, b = { 0 }, c = { 0 };
	struct got *gs[] = { &b, &c };
	struct loop_work *w;
	unsigned ms = 30000;

	ck_assert_int_eq(loop_work_start(lp, w_sleep, &ms, sizeof(ms), 64, 60000, on_done, &a, &w), 0);
	loop_work_cancel(lp, w);
	loop_work_cancel(lp, NULL);
	ck_assert_uint_eq(loop_work_running(lp), 0);
	ck_assert_int_eq(loop_work_start(lp, w_big, "", 0, 100, 5000, on_done, &b, &w), 0);
	ck_assert_int_eq(loop_work_start(lp, w_crash, "", 0, 100, 5000, on_done, &c, &w), 0);
	ck_assert(run(gs, 2, 5000));
	ck_assert_int_eq(a.calls, 0);
	ck_assert_int_eq(b.status, -EMSGSIZE);
	ck_assert_int_eq(c.status, -ECHILD);
}
END_TEST

/* ---- resolve.c ---- */

struct rgot {
	struct got g;               /* calls, status, at */
	size_t n;
	char addr[64];
	char why[RESOLVE_MSG_MAX];
};

static void on_resolved(void *data, int status, const struct sockaddr_storage *addrs, const socklen_t *lens,
			size_t n, const char *why)
{
	struct rgot *r = data;
	r->g.calls++;
	r->g.status = status;
	r->g.at = loop_now_ms();
	r->n = n;
	snprintf(r->why, sizeof(r->why), "%s", why);
	if (n && addrs[0].ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&addrs[0])->sin_addr, r->addr, sizeof(r->addr));
}

static int fake_lookup(const char *host, const char *serv, const struct addrinfo *hints, struct addrinfo **res)
{
	if (!strcmp(host, "slow.example")) {
		sleep(30);
		return EAI_AGAIN;
	}
	if (!strcmp(host, "target.example")) {
		struct addrinfo h = *hints;
		h.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		h.ai_family = AF_INET;
		return getaddrinfo("192.0.2.7", serv, &h, res);
	}
	return EAI_NONAME;
}

START_TEST(test_resolve)
{
	struct rgot ok = { 0 }, slow = { 0 }, none = { 0 };
	struct got *gs[] = { &ok.g, &slow.g, &none.g };
	struct sockaddr_storage ss;
	socklen_t sl;
	struct loop_work *w;

	ck_assert_int_eq(resolve_numeric("192.0.2.1", 3260, &ss, &sl), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_int_eq(resolve_numeric("2001:db8::1", 3260, &ss, &sl), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_eq(resolve_numeric("target.example", 3260, &ss, &sl), -EAGAIN);

	resolve_set_lookup(fake_lookup);
	uint64_t t0 = loop_now_ms();
	ck_assert_int_eq(resolve_start(lp, "slow.example", 3260, 400, on_resolved, &slow, &w), 0);
	ck_assert_int_eq(resolve_start(lp, "target.example", 3260, 5000, on_resolved, &ok, &w), 0);
	ck_assert_int_eq(resolve_start(lp, "nothere.example", 3260, 5000, on_resolved, &none, &w), 0);
	ck_assert(run(gs, 3, 5000));
	resolve_set_lookup(NULL);

	ck_assert_int_eq(ok.g.status, 0);
	ck_assert_uint_eq(ok.n, 1);
	ck_assert_str_eq(ok.addr, "192.0.2.7");
	ck_assert_uint_lt(ok.g.at - t0, 300);             /* not behind the slow one */
	ck_assert_int_eq(slow.g.status, -ETIMEDOUT);
	ck_assert_str_eq(slow.why, "cannot resolve slow.example: no answer from the name service within 0.4 s");
	ck_assert_int_eq(none.g.status, -EHOSTUNREACH);
	ck_assert_str_eq(none.why, "cannot resolve nothere.example: Name or service not known");

	/* cancelled: no answer */
	struct rgot c = { 0 };
	resolve_set_lookup(fake_lookup);
	ck_assert_int_eq(resolve_start(lp, "slow.example", 3260, 5000, on_resolved, &c, &w), 0);
	resolve_cancel(lp, w);
	resolve_set_lookup(NULL);
	ck_assert_int_eq(c.g.calls, 0);
	ck_assert_uint_eq(loop_work_running(lp), 0);
	ck_assert_int_eq(resolve_start(lp, "x", 0, 5000, on_resolved, &c, &w), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loop_work");
	TCase *tc = tcase_create("loop_work");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_result_through_the_loop);
	tcase_add_test(tc, test_child_keeps_nothing_of_ours);
	tcase_add_test(tc, test_timeout_kills_and_loop_goes_on);
	tcase_add_test(tc, test_bounded_concurrency);
	tcase_add_test(tc, test_cancel_oversize_crash);
	tcase_add_test(tc, test_resolve);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
