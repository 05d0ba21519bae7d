/* Blocking TCP with deadlines for discovery sessions (discover.h's
 * default transport): a non-blocking connect bounded by a deadline, host
 * names tried address by address, reads and writes bounded by deadlines.
 *
 * Binding the socket to an iface (device, MAC address, source address)
 * depends on the running system's interfaces, which this library does not
 * know: the caller passes a binder (kmod-glue's bind_iface_hook() in the
 * programs). */
#ifndef LIBINITIATOR_NETIO_H
#define LIBINITIATOR_NETIO_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "record.h"

/* Binds a fresh socket of address family `family` as iface says: 0, or a
 * negative errno with a sentence in err (kmod-glue/bind.h's contract:
 * -EINVAL and -EAFNOSUPPORT mean the iface record is wrong). */
struct netio_binder {
	int (*bind)(void *ctx, int fd, int family, const struct iface_rec *iface, char *err, size_t errlen);
	void *ctx;
};

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t netio_now_ms(void);

/* Connects to the portal (an address, or a host name tried address by
 * address: resolving a name blocks) before deadline_ms, the socket bound
 * by binder when iface asks for a binding. Returns the connected
 * non-blocking socket, or a negative errno: -ETIMEDOUT when the deadline
 * passed, -ECONNREFUSED/-EHOSTUNREACH/... from the connect, the binder's
 * error, -EOPNOTSUPP when iface asks for a binding and there is no
 * binder. err says which step failed. */
int netio_connect(const struct portal *p, const struct iface_rec *iface, const struct netio_binder *binder,
		  uint64_t deadline_ms, char *err, size_t errlen);

/* Exactly len bytes, or a negative errno: -ETIMEDOUT at the deadline,
 * -ECONNRESET when the peer closed the connection. */
int netio_write_all(int fd, const void *buf, size_t len, uint64_t deadline_ms);
int netio_read_exact(int fd, void *buf, size_t len, uint64_t deadline_ms);

#endif
