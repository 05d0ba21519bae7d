/* Host names resolved off the event loop: getaddrinfo() runs in a child
 * (loop_work, which keeps nothing of the daemon's descriptors), so a name
 * service that does not answer -- a portal or a target's redirection
 * naming a host -- never stops the daemon. Bounded: at most
 * LOOP_WORK_MAX_RUNNING lookups at once, each killed after its timeout.
 * IP literals need no lookup: resolve_numeric() answers them at once. */
#ifndef ISCSID_RESOLVE_H
#define ISCSID_RESOLVE_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"

#define RESOLVE_MAX_ADDRS 16
#define RESOLVE_MSG_MAX 400

/* status 0: n >= 1 addresses (the order getaddrinfo gave); else a
 * negative errno and a sentence in why ("cannot resolve NAME: ..."):
 * -EHOSTUNREACH the name service said no, -ETIMEDOUT no answer in time,
 * -EIO the lookup failed otherwise. Called once, from the loop. */
typedef void (*resolve_done_fn)(void *data, int status, const struct sockaddr_storage *addrs,
				const socklen_t *lens, size_t n, const char *why);

/* 0 and the address when host is an IP literal; -EAGAIN when it is a
 * name (use resolve_start); never blocks. */
int resolve_numeric(const char *host, int port, struct sockaddr_storage *ret, socklen_t *ret_len);

/* Starts a lookup of host:port (TCP). -EINVAL host too long, or
 * loop_work_start()'s errors. */
int resolve_start(struct loop *l, const char *host, int port, uint64_t timeout_ms, resolve_done_fn done,
		  void *data, struct loop_work **ret);
/* Stops a lookup (its child is killed); done is not called. NULL: no-op. */
void resolve_cancel(struct loop *l, struct loop_work *w);

/* Tests: the lookup function the child calls instead of getaddrinfo().
 * NULL restores getaddrinfo(). */
typedef int (*resolve_lookup_fn)(const char *host, const char *serv, const struct addrinfo *hints,
				 struct addrinfo **res);
void resolve_set_lookup(resolve_lookup_fn fn);

#endif
