#include "loop_wait.h"

#include <errno.h>

struct wait {
	bool (*cond)(void);
	unsigned poll_ms;
	struct loop_timer poll;
};

static void on_deadline(struct loop *l, void *data)
{
	(void)data;
	loop_exit(l, -ETIMEDOUT);
}

static void on_poll(struct loop *l, void *data)
{
	struct wait *w = data;

	if (w->cond())
		loop_exit(l, 0);
	else
		loop_timer_arm(l, &w->poll, w->poll_ms);
}

bool loop_run_until(struct loop *l, bool (*c)(void), unsigned poll_ms, unsigned ms)
{
	struct wait w = { .cond = c, .poll_ms = poll_ms };
	struct loop_timer dl;
	int r;

	loop_timer_init(&w.poll, on_poll, &w);
	loop_timer_init(&dl, on_deadline, NULL);
	loop_timer_arm(l, &w.poll, 0);
	loop_timer_arm(l, &dl, ms);
	r = loop_run(l);
	loop_timer_disarm(l, &w.poll);
	loop_timer_disarm(l, &dl);
	return r == 0;
}
