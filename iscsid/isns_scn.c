/* The SCN port of iscsid's iSNS client (see isns_scn.h). */
#include "isns_scn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "names.h"

#define MAX_EVENTS 16u

struct scn_conn {
	struct isns_scn *s;
	int fd;
	struct loop_io *io;
	struct isns_rx rx;
	struct loop_timer idle;
	char peer[NI_MAXHOST + NI_MAXSERV + 2];
};

struct isns_scn {
	struct loop *loop;
	int lfd;
	struct loop_io *lio;
	uint16_t port;
	char addr[NI_MAXHOST];
	char iname[NAME_MAX_LEN + 1];
	uint64_t idle_ms;
	isns_scn_fn fn;
	void *data;
	struct scn_conn *conns[ISNS_SCN_MAX_CONNS];
};

static void conn_close(struct scn_conn *sc)
{
	struct isns_scn *s = sc->s;

	for (size_t i = 0; i < ISNS_SCN_MAX_CONNS; i++)
		if (s->conns[i] == sc)
			s->conns[i] = NULL;
	loop_io_remove(s->loop, sc->io);
	loop_timer_disarm(s->loop, &sc->idle);
	close(sc->fd);
	isns_rx_free(&sc->rx);
	free(sc);
}

static void on_idle(struct loop *l, void *data)
{
	(void)l;
	conn_close(data);
}

/* 0 to go on, -1 when the connection is to be closed. */
static int handle_msg(struct scn_conn *sc, struct isns_msg *m)
{
	struct isns_scn *s = sc->s;
	struct isns_scn_event ev[MAX_EVENTS];
	char dest[NAME_MAX_LEN + 1], why[ISNS_ERR_MAX];
	uint8_t answer[512];
	size_t alen, n = 0;
	uint32_t status = ISNS_OK;
	bool wanted = false;

	if (isns_msg_is_response(m)) {
		log_debug(1, "iSNS: unexpected %s response from %s on the SCN port; ignored",
			  isns_function_name(m->function & 0x7fffu), sc->peer);
		return 0;
	}
	if (m->function == ISNS_SCN) {
		if (isns_scn_parse(m, dest, sizeof(dest), ev, MAX_EVENTS, &n, why, sizeof(why)) < 0) {
			log_warnx("iSNS: malformed state change notification from %s: %s", sc->peer, why);
			status = ISNS_MSG_FORMAT_ERROR;
		} else if (strcmp(dest, s->iname)) {
			log_warnx("iSNS: state change notification from %s for another node (%s); ignored", sc->peer,
				  dest);
			status = ISNS_SCN_EVENT_REJECTED;
		} else {
			for (size_t i = 0; i < n && i < MAX_EVENTS; i++) {
				log_info("iSNS: state change notification: %s %s", ev[i].name,
					 isns_scn_event_str(ev[i].bitmap));
				if ((ev[i].bitmap & ISNS_SCN_WANTED) && strcmp(ev[i].name, s->iname))
					wanted = true;
			}
		}
	} else if (m->function != ISNS_ESI) {
		log_debug(1, "iSNS: %s from %s on the SCN port: not supported", isns_function_name(m->function),
			  sc->peer);
		status = ISNS_MSG_NOT_SUPPORTED;
	}
	int ret = 0;
	if (isns_build_answer(m, status, answer, sizeof(answer), &alen) == 0) {
		ssize_t k = send(sc->fd, answer, alen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k != (ssize_t)alen) {
			log_debug(1, "iSNS: cannot answer %s: %s", sc->peer, k < 0 ? strerror(errno) : "short send");
			ret = -1;
		}
	}
	/* the notification counts even when its answer could not go */
	if (wanted)
		s->fn(s->data);
	return ret;
}

static void on_conn(struct loop *l, int fd, uint32_t events, void *data)
{
	struct scn_conn *sc = data;
	char why[ISNS_ERR_MAX];

	(void)events;
	/* a bounded number of reads a call: others get their turn */
	for (int round = 0; round < 64; round++) {
		uint8_t *buf;
		size_t want;
		if (isns_rx_space(&sc->rx, &buf, &want) < 0)
			goto close;
		ssize_t k = recv(fd, buf, want, 0);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (k <= 0)
			goto close;
		int r = isns_rx_commit(&sc->rx, (size_t)k, why, sizeof(why));
		if (r < 0) {
			log_warnx("iSNS: bad message from %s on the SCN port: %s; connection closed", sc->peer, why);
			goto close;
		}
		if (r == 0)
			continue;
		struct isns_msg m;
		if (isns_rx_take(&sc->rx, &m, why, sizeof(why)) < 0) {
			log_warnx("iSNS: bad message from %s on the SCN port: %s; connection closed", sc->peer, why);
			goto close;
		}
		r = handle_msg(sc, &m);
		isns_msg_free(&m);
		if (r < 0)
			goto close;
		loop_timer_arm(l, &sc->idle, sc->s->idle_ms);
	}
	return;
close:
	conn_close(sc);
}

static void on_accept(struct loop *l, int lfd, uint32_t events, void *data)
{
	struct isns_scn *s = data;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t slot = ISNS_SCN_MAX_CONNS;

	(void)events;
	int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (size_t i = 0; i < ISNS_SCN_MAX_CONNS; i++)
		if (!s->conns[i]) {
			slot = i;
			break;
		}
	struct scn_conn *sc = slot < ISNS_SCN_MAX_CONNS ? calloc(1, sizeof(*sc)) : NULL;
	if (!sc) {
		log_debug(1, "iSNS: SCN port: %s; connection refused",
			  slot < ISNS_SCN_MAX_CONNS ? "out of memory" : "too many connections");
		close(fd);
		return;
	}
	sc->s = s;
	sc->fd = fd;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		/* IPv4 as such (a dual-stack socket maps it), IPv6 in brackets */
		snprintf(sc->peer, sizeof(sc->peer), strchr(host, '.') || !strchr(host, ':') ? "%s:%s" : "[%s]:%s",
			 !strncmp(host, "::ffff:", 7) && strchr(host, '.') ? host + 7 : host, serv);
	else
		snprintf(sc->peer, sizeof(sc->peer), "(unknown)");
	struct isns_limits lim = { .max_msg = ISNS_SCN_MSG_MAX, .max_pdus = 16, .max_attrs = 1024 };
	isns_rx_init(&sc->rx, &lim);
	loop_timer_init(&sc->idle, on_idle, sc);
	if (loop_io_add(l, fd, EPOLLIN, on_conn, sc, &sc->io) < 0 || loop_timer_arm(l, &sc->idle, s->idle_ms) < 0) {
		loop_io_remove(l, sc->io);
		isns_rx_free(&sc->rx);
		close(fd);
		free(sc);
		return;
	}
	s->conns[slot] = sc;
	log_debug(2, "iSNS: connection from %s on the SCN port", sc->peer);
}

/* A listening socket on addr (NULL: all addresses), or a negative errno. */
static int listen_on(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	if (addr) {
		struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
		struct addrinfo *ai;
		/* numeric: no name service, the loop does not wait */
		if (getaddrinfo(addr, "0", &hints, &ai) != 0)
			return -EINVAL;
		if (ai->ai_addrlen > sizeof(ss)) {
			freeaddrinfo(ai);
			return -EINVAL;
		}
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		sl = ai->ai_addrlen;
		freeaddrinfo(ai);
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
			goto fail;
	} else {
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			int off = 0;
			struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
			if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
			    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
				close(fd);
				fd = -1;
			}
		}
		if (fd < 0) {
			/* no IPv6 here */
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
			fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (fd < 0)
				return -errno;
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
				goto fail;
		}
	}
	if (listen(fd, ISNS_SCN_MAX_CONNS) < 0)
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	return -e;
}

int isns_scn_open(struct loop *l, const char *addr, const char *iname, uint64_t idle_ms, isns_scn_fn fn,
		  void *data, struct isns_scn **ret)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct isns_scn *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (addr && !addr[0])
		addr = NULL;
	if (addr && strlen(addr) >= sizeof(s->addr)) {
		free(s);
		return -EINVAL;
	}
	s->lfd = listen_on(addr);
	if (s->lfd < 0) {
		int r = s->lfd;
		free(s);
		return r;
	}
	if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) < 0) {
		int r = -errno;
		close(s->lfd);
		free(s);
		return r;
	}
	s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	s->loop = l;
	snprintf(s->addr, sizeof(s->addr), "%s", addr ? addr : "");
	isns_scn_set_iname(s, iname);
	s->idle_ms = idle_ms;
	s->fn = fn;
	s->data = data;
	int r = loop_io_add(l, s->lfd, EPOLLIN, on_accept, s, &s->lio);
	if (r < 0) {
		close(s->lfd);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

uint16_t isns_scn_port(const struct isns_scn *s)
{
	return s->port;
}

const char *isns_scn_addr(const struct isns_scn *s)
{
	return s->addr;
}

void isns_scn_set_iname(struct isns_scn *s, const char *iname)
{
	snprintf(s->iname, sizeof(s->iname), "%s", iname);
}

void isns_scn_close(struct isns_scn *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < ISNS_SCN_MAX_CONNS; i++)
		if (s->conns[i])
			conn_close(s->conns[i]);
	loop_io_remove(s->loop, s->lio);
	close(s->lfd);
	free(s);
}
