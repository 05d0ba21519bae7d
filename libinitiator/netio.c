/* Blocking TCP with deadlines for discovery (see netio.h). */
#include "netio.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t netio_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int ms_left(uint64_t deadline)
{
	uint64_t now = netio_now_ms();

	if (now >= deadline)
		return 0;
	uint64_t left = deadline - now;
	return left > 3600000u ? 3600000 : (int)left;
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		int left = ms_left(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = events };
		int n = poll(&pfd, 1, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n > 0)
			return 0;
	}
}

int netio_write_all(int fd, const void *buf, size_t len, uint64_t deadline)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return errno == EPIPE ? -ECONNRESET : -errno;
		int r = wait_fd(fd, POLLOUT, deadline);
		if (r)
			return r;
	}
	return 0;
}

int netio_read_exact(int fd, void *buf, size_t len, uint64_t deadline)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int r = wait_fd(fd, POLLIN, deadline);
		if (r)
			return r;
	}
	return 0;
}

static bool wants_binding(const struct iface_rec *iface)
{
	if (!iface)
		return false;
	const char *v[] = { iface->netdev, iface->hwaddress, iface->ipaddress };
	for (size_t i = 0; i < 3; i++)
		if (v[i][0] && strcmp(v[i], "default"))
			return true;
	return false;
}

static int connect_one(const struct addrinfo *ai, const struct iface_rec *iface, const struct netio_binder *binder,
		       uint64_t deadline, char *err, size_t errlen)
{
	int s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, r;

	if (s < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create a socket: %s", strerror(-r));
		return r;
	}
	if (wants_binding(iface)) {
		if (!binder || !binder->bind) {
			snprintf(err, errlen, "iface %s: binding to an iface is not available here", iface->name);
			r = -EOPNOTSUPP;
			goto fail;
		}
		r = binder->bind(binder->ctx, s, ai->ai_family, iface, err, errlen);
		if (r)
			goto fail;
	}
	/* Login and text PDUs are small request/response pairs. */
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
		return s;
	if (errno != EINPROGRESS) {
		r = -errno;
		goto fail_connect;
	}
	r = wait_fd(s, POLLOUT, deadline);
	if (r)
		goto fail_connect;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl))
		soerr = errno;
	if (soerr == 0)
		return s;
	r = -soerr;
fail_connect:
	snprintf(err, errlen, "%s", r == -ETIMEDOUT ? "connect timed out" : strerror(-r));
fail:
	close(s);
	return r;
}

int netio_connect(const struct portal *p, const struct iface_rec *iface, const struct netio_binder *binder,
		  uint64_t deadline, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char port[8];
	int r;

	if (p->family == AF_INET || p->family == AF_INET6) {
		hints.ai_flags |= AI_NUMERICHOST;
		hints.ai_family = p->family;
	}
	snprintf(port, sizeof(port), "%u", (unsigned)p->port);
	r = getaddrinfo(p->host, port, &hints, &res);
	if (r) {
		snprintf(err, errlen, "cannot resolve %s: %s", p->host, gai_strerror(r));
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	r = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		r = connect_one(ai, iface, binder, deadline, err, errlen);
		/* the next address may do better, unless time is up or the
		 * binding itself cannot work (-EAFNOSUPPORT: try an address
		 * of the other family) */
		if (r >= 0 || r == -ETIMEDOUT || r == -ENODEV || r == -EINVAL || r == -EOPNOTSUPP)
			break;
	}
	freeaddrinfo(res);
	return r;
}
