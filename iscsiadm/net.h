/* TCP for discovery sessions: non-blocking connect with a deadline,
 * iface binding (SO_BINDTODEVICE by netdev or MAC address, bind() to the
 * iface's IP address), and reads/writes bounded by deadlines. */
#ifndef ISCSIADM_NET_H
#define ISCSIADM_NET_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "record.h"

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t net_now_ms(void);

/* Connects to the portal (an address, or a host name tried address by
 * address) before deadline_ms, bound as iface says (NULL: no binding).
 * Returns the connected non-blocking socket, or a negative errno:
 * -ETIMEDOUT when the deadline passed, -ECONNREFUSED/-EHOSTUNREACH/...
 * from the connect, -ENODEV when the iface's netdev or MAC address names
 * no interface, -EADDRNOTAVAIL when its IP address is not ours. err says
 * which step failed. */
int net_connect(const struct portal *p, const struct iface_rec *iface, uint64_t deadline_ms, char *err,
		size_t errlen);

/* Exactly len bytes, or a negative errno: -ETIMEDOUT at the deadline,
 * -ECONNRESET when the peer closed the connection. */
int net_write_all(int fd, const void *buf, size_t len, uint64_t deadline_ms);
int net_read_exact(int fd, void *buf, size_t len, uint64_t deadline_ms);

#endif
