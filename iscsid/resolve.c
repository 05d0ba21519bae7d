/* Host name resolution off the event loop (see resolve.h). */
#include "resolve.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

/* What the child writes: fixed size, checked field by field. */
struct resolve_wire {
	int32_t gai;                    /* getaddrinfo()'s answer */
	int32_t err;                    /* errno for EAI_SYSTEM */
	uint32_t n;
	struct {
		uint32_t len;
		struct sockaddr_storage ss;
	} a[RESOLVE_MAX_ADDRS];
};

struct resolve_req {
	char host[REC_HOST_SIZE];
	char serv[8];
};

struct resolve_ctx {
	resolve_done_fn done;
	void *data;
	char host[REC_HOST_SIZE];
	uint64_t timeout_ms;
};

static int system_lookup(const char *host, const char *serv, const struct addrinfo *hints, struct addrinfo **res)
{
	return getaddrinfo(host, serv, hints, res);
}

static resolve_lookup_fn lookup = system_lookup;

void resolve_set_lookup(resolve_lookup_fn fn)
{
	lookup = fn ? fn : system_lookup;
}

int resolve_numeric(const char *host, int port, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char serv[16];

	snprintf(serv, sizeof(serv), "%d", port);
	if (getaddrinfo(host, serv, &hints, &res) != 0 || !res)
		return -EAGAIN;
	memcpy(ret, res->ai_addr, res->ai_addrlen);
	*ret_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* In the child. */
static void resolve_child(const void *in, size_t inlen, int out)
{
	const struct resolve_req *q = in;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	struct resolve_wire w;

	memset(&w, 0, sizeof(w));
	if (inlen != sizeof(*q))
		_exit(2);
	w.gai = lookup(q->host, q->serv, &hints, &res);
	w.err = errno;
	for (struct addrinfo *ai = res; ai && w.n < RESOLVE_MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addrlen > sizeof(w.a[0].ss))
			continue;
		w.a[w.n].len = (uint32_t)ai->ai_addrlen;
		memcpy(&w.a[w.n].ss, ai->ai_addr, ai->ai_addrlen);
		w.n++;
	}
	if (res)
		freeaddrinfo(res);
	const uint8_t *p = (const uint8_t *)&w;
	size_t left = sizeof(w);
	while (left) {
		ssize_t k = write(out, p, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(3);
		p += k;
		left -= (size_t)k;
	}
}

static void on_work_done(struct loop *l, int status, const void *out, size_t len, void *data)
{
	struct resolve_ctx *c = data;
	struct sockaddr_storage addrs[RESOLVE_MAX_ADDRS];
	socklen_t lens[RESOLVE_MAX_ADDRS];
	char why[RESOLVE_MSG_MAX];
	struct resolve_wire w;
	size_t n = 0;

	if (status == -ETIMEDOUT) {
		snprintf(why, sizeof(why), "cannot resolve %s: no answer from the name service within %llu.%llu s",
			 c->host, (unsigned long long)(c->timeout_ms / 1000),
			 (unsigned long long)(c->timeout_ms % 1000 / 100));
		goto fail;
	}
	if (status < 0 || len != sizeof(w)) {
		snprintf(why, sizeof(why), "cannot resolve %s: the lookup failed (%s)", c->host,
			 strerror(status < 0 ? -status : EPROTO));
		status = -EIO;
		goto fail;
	}
	memcpy(&w, out, sizeof(w));
	if (w.gai != 0) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", c->host,
			 w.gai == EAI_SYSTEM ? strerror(w.err) : gai_strerror(w.gai));
		status = w.gai == EAI_SYSTEM ? -EIO : -EHOSTUNREACH;
		goto fail;
	}
	for (uint32_t i = 0; i < w.n && i < RESOLVE_MAX_ADDRS; i++) {
		int fam = w.a[i].ss.ss_family;
		socklen_t want = fam == AF_INET ? sizeof(struct sockaddr_in)
						: fam == AF_INET6 ? sizeof(struct sockaddr_in6) : 0;
		if (!want || w.a[i].len != want)
			continue;
		addrs[n] = w.a[i].ss;
		lens[n] = want;
		n++;
	}
	if (n == 0) {
		snprintf(why, sizeof(why), "cannot resolve %s: no IPv4 or IPv6 address", c->host);
		status = -EHOSTUNREACH;
		goto fail;
	}
	c->done(c->data, 0, addrs, lens, n, "");
	free(c);
	return;
fail:
	c->done(c->data, status, NULL, NULL, 0, why);
	free(c);
}

void resolve_cancel(struct loop *l, struct loop_work *w)
{
	if (!w)
		return;
	void *c = loop_work_data(w);
	loop_work_cancel(l, w);
	free(c);
}

int resolve_start(struct loop *l, const char *host, int port, uint64_t timeout_ms, resolve_done_fn done,
		  void *data, struct loop_work **ret)
{
	struct resolve_req q;
	struct resolve_ctx *c;
	int r;

	memset(&q, 0, sizeof(q));
	if (strlen(host) >= sizeof(q.host) || port <= 0 || port > 65535)
		return -EINVAL;
	snprintf(q.host, sizeof(q.host), "%s", host);
	snprintf(q.serv, sizeof(q.serv), "%d", port);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->done = done;
	c->data = data;
	c->timeout_ms = timeout_ms;
	snprintf(c->host, sizeof(c->host), "%s", host);
	r = loop_work_start(l, resolve_child, &q, sizeof(q), sizeof(struct resolve_wire), timeout_ms, on_work_done,
			    c, ret);
	if (r < 0)
		free(c);
	return r;
}
