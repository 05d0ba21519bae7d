/* Event loop: epoll + timerfd + signalfd (see loop.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "loop.h"

#define LOOP_MAX_EVENTS 64

struct loop_io {
	int fd;
	loop_io_fn fn;
	void *data;
	bool dead;
	struct loop_io *next_dead;
};

struct child {
	pid_t pid;
	loop_child_fn fn;
	void *data;
};

struct loop_work {
	struct loop *l;
	struct loop_work *prev, *next;  /* the queue, or the running list */
	bool running;
	loop_work_fn fn;
	void *in;
	size_t inlen;
	loop_work_done_fn done;
	void *data;
	size_t out_max;
	uint8_t *out;
	size_t len, cap;
	pid_t pid;
	int fd;                         /* the pipe's read end */
	struct loop_io *io;
	bool eof, exited;
	int wstatus;
	struct loop_timer timer;
};

struct work_list {
	struct loop_work *head, *tail;
	size_t n;
};

struct loop {
	int epfd;
	int tfd;
	int sfd;
	struct loop_io *tio;
	struct loop_io *sio;
	struct loop_io *dead;           /* removed watches, freed between batches */

	sigset_t sigs;                  /* what the signalfd reads */
	sigset_t oldmask;
	struct {
		loop_signal_fn fn;
		void *data;
	} sig[NSIG];

	struct loop_timer **heap;       /* min-heap on deadline */
	size_t nheap;
	size_t capheap;
	uint64_t armed_at;              /* deadline the timerfd holds, 0 = none */

	struct child *children;
	size_t nchildren;
	size_t capchildren;

	struct work_list wqueue;        /* off-loop work waiting for a child */
	struct work_list wrunning;

	bool running;
	int code;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- timers ---- */

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_index = a + 1;
	l->heap[b]->heap_index = b + 1;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->deadline <= l->heap[i]->deadline)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->nheap && l->heap[c]->deadline < l->heap[m]->deadline)
			m = c;
		if (c + 1 < l->nheap && l->heap[c + 1]->deadline < l->heap[m]->deadline)
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *data)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->data = data;
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_index != 0;
}

void loop_timer_disarm(struct loop *l, struct loop_timer *t)
{
	if (!t->heap_index)
		return;
	size_t i = t->heap_index - 1;
	t->heap_index = 0;
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	l->heap[i]->heap_index = i + 1;
	heap_up(l, i);
	heap_down(l, l->heap[i]->heap_index - 1);
}

int loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t ms)
{
	loop_timer_disarm(l, t);
	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? l->capheap * 2 : 16;
		struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		l->heap = h;
		l->capheap = cap;
	}
	t->deadline = loop_now_ms() + ms;
	l->heap[l->nheap] = t;
	t->heap_index = ++l->nheap;
	heap_up(l, l->nheap - 1);
	return 0;
}

static void timers_run_due(struct loop *l)
{
	uint64_t now = loop_now_ms();
	while (l->running && l->nheap && l->heap[0]->deadline <= now) {
		struct loop_timer *t = l->heap[0];
		loop_timer_disarm(l, t);
		t->fn(l, t->data);      /* may re-arm t or free its owner */
	}
}

static void timerfd_update(struct loop *l)
{
	uint64_t want = l->nheap ? l->heap[0]->deadline : 0;
	if (want == l->armed_at)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (want) {
		/* 0 would disarm: a deadline at time 0 cannot happen after boot */
		its.it_value.tv_sec = (time_t)(want / 1000);
		its.it_value.tv_nsec = (long)(want % 1000) * 1000000L;
	}
	if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		l->armed_at = want;
}

static void on_timerfd(struct loop *l, int fd, uint32_t events, void *data)
{
	uint64_t n;
	/* Drain the expiration count; the due timers run at the top of the
	 * next iteration. */
	while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		;
	l->armed_at = 0;
}

/* ---- descriptors ---- */

int loop_io_add(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *data,
		struct loop_io **ret)
{
	struct loop_io *io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->fd = fd;
	io->fn = fn;
	io->data = data;
	struct epoll_event ev = { .events = events, .data.ptr = io };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		free(io);
		return r;
	}
	if (ret)
		*ret = io;
	return 0;
}

int loop_io_set_events(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	return 0;
}

void loop_io_remove(struct loop *l, struct loop_io *io)
{
	if (!io || io->dead)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	/* An event for io may already sit in this batch: free it later. */
	io->dead = true;
	io->next_dead = l->dead;
	l->dead = io;
}

static void free_dead(struct loop *l)
{
	while (l->dead) {
		struct loop_io *io = l->dead;
		l->dead = io->next_dead;
		free(io);
	}
}

/* ---- signals and children ---- */

static void reap_children(struct loop *l)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid <= 0)
			return;
		for (size_t i = 0; i < l->nchildren; i++) {
			if (l->children[i].pid != pid)
				continue;
			struct child c = l->children[i];
			l->children[i] = l->children[--l->nchildren];
			c.fn(l, pid, st, c.data);
			break;
		}
	}
}

static void on_signalfd(struct loop *l, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap_children(l);
			continue;
		}
		if (si.ssi_signo < NSIG && l->sig[si.ssi_signo].fn)
			l->sig[si.ssi_signo].fn(l, &si, l->sig[si.ssi_signo].data);
	}
}

static int signal_add(struct loop *l, int signo)
{
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, NULL) < 0)
		return -errno;
	sigaddset(&l->sigs, signo);
	if (signalfd(l->sfd, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

int loop_signal(struct loop *l, int signo, loop_signal_fn fn, void *data)
{
	if (signo <= 0 || signo >= NSIG || signo == SIGCHLD)
		return -EINVAL;
	l->sig[signo].fn = fn;
	l->sig[signo].data = data;
	return signal_add(l, signo);
}

int loop_child_watch(struct loop *l, pid_t pid, loop_child_fn fn, void *data)
{
	if (l->nchildren == l->capchildren) {
		size_t cap = l->capchildren ? l->capchildren * 2 : 8;
		struct child *c = realloc(l->children, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		l->children = c;
		l->capchildren = cap;
	}
	l->children[l->nchildren++] = (struct child){ pid, fn, data };
	/* The child may have exited before it was registered: look now. */
	reap_children(l);
	return 0;
}

void loop_child_forget(struct loop *l, pid_t pid)
{
	for (size_t i = 0; i < l->nchildren; i++)
		if (l->children[i].pid == pid) {
			l->children[i] = l->children[--l->nchildren];
			return;
		}
}

/* ---- off-loop work ---- */

static void wl_push(struct work_list *wl, struct loop_work *w)
{
	w->prev = wl->tail;
	w->next = NULL;
	if (wl->tail)
		wl->tail->next = w;
	else
		wl->head = w;
	wl->tail = w;
	wl->n++;
}

static void wl_remove(struct work_list *wl, struct loop_work *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		wl->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		wl->tail = w->prev;
	w->prev = w->next = NULL;
	wl->n--;
}

/* In the child: nothing of the daemon's but the pipe. Async-signal-safe
 * up to fn (the daemon is single-threaded, so fn may use anything). */
static void __attribute__((noreturn)) work_child(struct loop_work *w, int out)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	out = fs_child_keep_only(out);
	if (out < 0)
		_exit(127);
	int fl = fcntl(out, F_GETFL);
	if (fl >= 0)
		(void)fcntl(out, F_SETFL, fl & ~O_NONBLOCK);
	w->fn(w->in, w->inlen, out);
	_exit(0);
}

static void work_pump(struct loop *l);

/* Ends w: its child (if still there) is killed, done (when call_done)
 * is called, w freed, and waiting work gets its turn. */
static void work_end(struct loop_work *w, int status, bool call_done)
{
	struct loop *l = w->l;

	loop_timer_disarm(l, &w->timer);
	if (w->running) {
		wl_remove(&l->wrunning, w);
		loop_io_remove(l, w->io);
		close(w->fd);
		if (!w->exited) {
			kill(w->pid, SIGKILL);
			/* reaped by the loop, reported to nobody */
			loop_child_forget(l, w->pid);
		}
	} else {
		wl_remove(&l->wqueue, w);
	}
	if (call_done)
		w->done(l, status, w->out ? (const void *)w->out : "", w->len, w->data);
	free(w->in);
	free(w->out);
	free(w);
	work_pump(l);
}

static void work_maybe_done(struct loop_work *w)
{
	if (!w->eof || !w->exited)
		return;
	bool ok = WIFEXITED(w->wstatus) && WEXITSTATUS(w->wstatus) == 0;
	work_end(w, ok ? 0 : -ECHILD, true);
}

static void on_work_io(struct loop *l, int fd, uint32_t events, void *data)
{
	struct loop_work *w = data;

	for (;;) {
		if (w->len == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 256;
			if (cap > w->out_max + 1)
				cap = w->out_max + 1;
			uint8_t *b = realloc(w->out, cap);
			if (!b) {
				work_end(w, -ENOMEM, true);
				return;
			}
			w->out = b;
			w->cap = cap;
		}
		ssize_t n = read(fd, w->out + w->len, w->cap - w->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			loop_io_remove(l, w->io);
			w->io = NULL;
			w->eof = true;
			work_maybe_done(w);
			return;
		}
		w->len += (size_t)n;
		if (w->len > w->out_max) {
			work_end(w, -EMSGSIZE, true);
			return;
		}
	}
}

static void on_work_exit(struct loop *l, pid_t pid, int wstatus, void *data)
{
	struct loop_work *w = data;

	w->exited = true;
	w->wstatus = wstatus;
	work_maybe_done(w);
}

static void on_work_timeout(struct loop *l, void *data)
{
	work_end(data, -ETIMEDOUT, true);
}

static int work_spawn(struct loop_work *w)
{
	struct loop *l = w->l;
	int p[2], r;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0)
		work_child(w, p[1]);
	close(p[1]);
	w->pid = pid;
	w->fd = p[0];
	r = loop_io_add(l, w->fd, EPOLLIN, on_work_io, w, &w->io);
	if (r == 0)
		r = loop_child_watch(l, pid, on_work_exit, w);
	if (r < 0) {
		loop_io_remove(l, w->io);
		w->io = NULL;
		close(w->fd);
		kill(pid, SIGKILL);
		return r;
	}
	return 0;
}

/* Starts waiting work while there is room. */
static void work_pump(struct loop *l)
{
	while (l->wqueue.head && l->wrunning.n < LOOP_WORK_MAX_RUNNING) {
		struct loop_work *w = l->wqueue.head;
		wl_remove(&l->wqueue, w);
		int r = work_spawn(w);
		if (r < 0) {
			/* back in the queue only to leave it the usual way */
			wl_push(&l->wqueue, w);
			work_end(w, r, true);
			return;
		}
		w->running = true;
		wl_push(&l->wrunning, w);
	}
}

int loop_work_start(struct loop *l, loop_work_fn fn, const void *in, size_t inlen, size_t out_max,
		    uint64_t timeout_ms, loop_work_done_fn done, void *data, struct loop_work **ret)
{
	if (l->wqueue.n >= LOOP_WORK_MAX_QUEUED)
		return -EAGAIN;
	struct loop_work *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->in = malloc(inlen ? inlen : 1);
	if (!w->in) {
		free(w);
		return -ENOMEM;
	}
	memcpy(w->in, in, inlen);
	w->inlen = inlen;
	w->l = l;
	w->fn = fn;
	w->done = done;
	w->data = data;
	w->out_max = out_max;
	w->fd = -1;
	loop_timer_init(&w->timer, on_work_timeout, w);
	if (loop_timer_arm(l, &w->timer, timeout_ms) < 0) {
		free(w->in);
		free(w);
		return -ENOMEM;
	}
	if (l->wrunning.n < LOOP_WORK_MAX_RUNNING) {
		int r = work_spawn(w);
		if (r < 0) {
			loop_timer_disarm(l, &w->timer);
			free(w->in);
			free(w);
			return r;
		}
		w->running = true;
		wl_push(&l->wrunning, w);
	} else {
		wl_push(&l->wqueue, w);
	}
	*ret = w;
	return 0;
}

void loop_work_cancel(struct loop *l, struct loop_work *w)
{
	if (w)
		work_end(w, 0, false);
}

void *loop_work_data(const struct loop_work *w)
{
	return w->data;
}

size_t loop_work_running(const struct loop *l)
{
	return l->wrunning.n;
}

/* ---- the loop ---- */

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));
	int r;
	if (!l)
		return -ENOMEM;
	l->epfd = l->tfd = l->sfd = -1;
	sigemptyset(&l->sigs);
	sigprocmask(SIG_BLOCK, NULL, &l->oldmask);

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l->sfd = signalfd(-1, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->epfd < 0 || l->tfd < 0 || l->sfd < 0) {
		r = -errno;
		goto fail;
	}
	r = signal_add(l, SIGCHLD);
	if (r < 0)
		goto fail;
	r = loop_io_add(l, l->tfd, EPOLLIN, on_timerfd, NULL, &l->tio);
	if (r < 0)
		goto fail;
	r = loop_io_add(l, l->sfd, EPOLLIN, on_signalfd, NULL, &l->sio);
	if (r < 0)
		goto fail;
	*ret = l;
	return 0;
fail:
	loop_free(l);
	return r;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	/* Owners cancel their work; whatever is left must not outlive us
	 * (the queue first, so that nothing waiting starts). */
	while (l->wqueue.head)
		loop_work_cancel(l, l->wqueue.head);
	while (l->wrunning.head)
		loop_work_cancel(l, l->wrunning.head);
	loop_io_remove(l, l->tio);
	loop_io_remove(l, l->sio);
	free_dead(l);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->sfd >= 0)
		close(l->sfd);
	/* Timers belong to their owners; just unlink them. */
	for (size_t i = 0; i < l->nheap; i++)
		l->heap[i]->heap_index = 0;
	free(l->heap);
	free(l->children);
	sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	free(l);
}

void loop_exit(struct loop *l, int code)
{
	l->running = false;
	l->code = code;
}

int loop_run(struct loop *l)
{
	struct epoll_event ev[LOOP_MAX_EVENTS];

	l->running = true;
	l->code = 0;
	while (l->running) {
		timers_run_due(l);
		if (!l->running)
			break;
		timerfd_update(l);
		int n = epoll_wait(l->epfd, ev, LOOP_MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && l->running; i++) {
			struct loop_io *io = ev[i].data.ptr;
			if (io->dead)
				continue;
			io->fn(l, io->fd, ev[i].events, io->data);
		}
		free_dead(l);
	}
	free_dead(l);
	return l->code;
}
