/* client_run.h */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "client_run.h"
#include "loop.h"

static void on_client_exit(struct loop *l, pid_t pid, int st, void *data)
{
	(void)pid;
	(void)st;
	(void)data;
	loop_exit(l, 0);
}

static void on_client_deadline(struct loop *l, void *data)
{
	(void)data;
	loop_exit(l, -ETIMEDOUT);
}

char *client_run(struct loop *l, client_fn fn, int deadline_ms)
{
	static char buf[8192];
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		FILE *out = fdopen(p[1], "w");
		fn(out);
		fclose(out);
		_exit(0);
	}
	close(p[1]);
	struct loop_timer deadline;
	loop_timer_init(&deadline, on_client_deadline, NULL);
	loop_timer_arm(l, &deadline, deadline_ms);
	ck_assert_int_eq(loop_child_watch(l, pid, on_client_exit, NULL), 0);
	ck_assert_int_eq(loop_run(l), 0);
	loop_timer_disarm(l, &deadline);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}
