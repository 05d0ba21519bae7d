/* Binding a TCP socket to an iface record (software iSCSI), the one
 * routine for iscsiadm's discovery connections and iscsid's session
 * connections. An iface names the path a connection takes in up to three
 * ways, applied to a fresh socket before connect():
 *
 *   iface.net_ifacename  SO_BINDTODEVICE to that network device
 *   iface.hwaddress      else SO_BINDTODEVICE to the device that has this
 *                        MAC address (<sysfs>/class/net/<dev>/address);
 *                        when net_ifacename is set too, it wins (as in
 *                        open-iscsi)
 *   iface.ipaddress      bind() to this source address (any port)
 *
 * Empty values and "default" mean "not set". */
#ifndef KMODGLUE_BIND_H
#define KMODGLUE_BIND_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"

/* True when the iface asks for any binding. NULL: false. */
bool bind_iface_wanted(const struct iface_rec *iface);

/* The network device whose address is mac ("aa:bb:cc:dd:ee:ff" or with
 * '-', any case), found under <sysfs_root>/class/net (NULL: /sys). Ports
 * of a bond, bridge or team (a `master` link) are passed over: their
 * upper device carries the traffic. -EINVAL malformed mac, -ENODEV no
 * device has it, -ENOTUNIQ more than one has it (VLANs share their
 * parent's address: name the device in iface.net_ifacename), -ENAMETOOLONG
 * the name does not fit len, or the error reading the directory. */
int bind_netdev_by_mac(const char *sysfs_root, const char *mac, char *ret, size_t len);

/* Binds fd (a socket of address family `family`) as iface says; NULL
 * iface: nothing. Returns 0, or a negative errno with a sentence naming
 * the iface in err:
 *   -ENODEV        the device (by name or by MAC) does not exist
 *   -EADDRNOTAVAIL the source address is not one of this host's
 *   -EAFNOSUPPORT  the source address is not of the portal's family
 *   -EINVAL        malformed address, MAC shared by several devices
 *   -EPERM         not allowed to bind to a device (CAP_NET_RAW)
 *   or another errno from setsockopt()/bind(). */
int bind_iface(int fd, int family, const struct iface_rec *iface, const char *sysfs_root, char *err,
	       size_t errlen);

/* bind_iface() as libinitiator's netio_binder hook (netio.h): ctx is the
 * sysfs root (NULL: /sys). */
int bind_iface_hook(void *sysfs_root, int fd, int family, const struct iface_rec *iface, char *err,
		    size_t errlen);

/* The exit code (errors.h) for a bind_iface() error: 4 (ISCSI_ERR_TRANS)
 * when the system lacks what the iface names (it may appear: iscsid
 * retries), 7 (ISCSI_ERR_INVAL) when the iface itself is wrong, 13
 * (ISCSI_ERR_ACCESS) when not permitted. */
int bind_exit_code(int err);
/* True when retrying cannot help (the iface record must change). */
bool bind_error_fatal(int err);

#endif
