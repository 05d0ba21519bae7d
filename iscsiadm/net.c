#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int ms_left(uint64_t deadline)
{
	uint64_t now = net_now_ms();

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

int net_write_all(int fd, const void *buf, size_t len, uint64_t deadline)
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

int net_read_exact(int fd, void *buf, size_t len, uint64_t deadline)
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

/* The interface with this MAC address ("aa:bb:cc:dd:ee:ff"). */
static int netdev_by_mac(const char *mac, char *ret, size_t len)
{
	struct ifaddrs *ifa, *i;
	unsigned b[6];
	int found = -ENODEV;

	if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i && found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_PACKET)
			continue;
		const struct sockaddr_ll *ll = (const struct sockaddr_ll *)(const void *)i->ifa_addr;
		if (ll->sll_halen != 6)
			continue;
		bool same = true;
		for (int k = 0; k < 6; k++)
			if (ll->sll_addr[k] != (b[k] & 0xff))
				same = false;
		if (same) {
			snprintf(ret, len, "%s", i->ifa_name);
			found = 0;
		}
	}
	freeifaddrs(ifa);
	return found;
}

/* Binds s as the iface record asks. */
static int apply_binding(int s, int family, const struct iface_rec *iface, char *err, size_t errlen)
{
	char dev[IFNAMSIZ] = "";
	int r;

	if (!iface)
		return 0;
	if (iface->netdev[0]) {
		snprintf(dev, sizeof(dev), "%s", iface->netdev);
	} else if (iface->hwaddress[0]) {
		r = netdev_by_mac(iface->hwaddress, dev, sizeof(dev));
		if (r) {
			snprintf(err, errlen, "iface %s: no network interface has hardware address %s", iface->name,
				 iface->hwaddress);
			return r == -EINVAL ? -EINVAL : -ENODEV;
		}
	}
	if (dev[0]) {
		if (if_nametoindex(dev) == 0) {
			snprintf(err, errlen, "iface %s: network interface %s does not exist", iface->name, dev);
			return -ENODEV;
		}
		if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1)) {
			r = -errno;
			snprintf(err, errlen, "iface %s: cannot bind to device %s: %s", iface->name, dev, strerror(-r));
			return r;
		}
	}
	if (iface->ipaddress[0]) {
		struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM,
					  .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
		struct addrinfo *ai = NULL;
		if (getaddrinfo(iface->ipaddress, NULL, &hints, &ai) || !ai) {
			snprintf(err, errlen, "iface %s: IP address %s is not of the portal's address family",
				 iface->name, iface->ipaddress);
			return -EAFNOSUPPORT;
		}
		r = bind(s, ai->ai_addr, ai->ai_addrlen) ? -errno : 0;
		freeaddrinfo(ai);
		if (r) {
			snprintf(err, errlen, "iface %s: cannot use local address %s: %s", iface->name,
				 iface->ipaddress, strerror(-r));
			return r;
		}
	}
	return 0;
}

static int connect_one(const struct addrinfo *ai, const struct iface_rec *iface, uint64_t deadline, char *err,
		       size_t errlen)
{
	int s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, r;

	if (s < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create a socket: %s", strerror(-r));
		return r;
	}
	r = apply_binding(s, ai->ai_family, iface, err, errlen);
	if (r)
		goto fail;
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

int net_connect(const struct portal *p, const struct iface_rec *iface, uint64_t deadline, char *err,
		size_t errlen)
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
		r = connect_one(ai, iface, deadline, err, errlen);
		if (r >= 0 || r == -ETIMEDOUT || r == -ENODEV || r == -EINVAL)
			break;
	}
	freeaddrinfo(res);
	return r;
}
