/* Bringing up the network a boot firmware describes (iscsistart -N), as
 * open-iscsi does it for software iSCSI: the NIC goes up with the
 * firmware's address and prefix, and the target gets a host route
 * through that NIC (through the firmware's gateway when the target is
 * not on the NIC's subnet), so the boot session leaves where the firmware
 * said. Through rtnetlink in the caller's network namespace; running it
 * again changes nothing (addresses and routes are replaced, not added). */
#ifndef KMODGLUE_NETCFG_H
#define KMODGLUE_NETCFG_H

#include <stddef.h>

struct netcfg_req {
	const char *ifname;     /* the NIC */
	const char *address;    /* its IPv4 or IPv6 address */
	int prefix_len;         /* 1..32 / 1..128 */
	const char *gateway;    /* "" or NULL: none */
	const char *target;     /* the portal address the route is for */
};

/* 0, or a negative errno with a sentence in err:
 *   -ENODEV        no such network device
 *   -EINVAL        malformed or mixed-family addresses, bad prefix
 *   -ENETUNREACH   the target is off the subnet and there is no gateway
 *   -EPERM         not allowed (CAP_NET_ADMIN)
 *   or the kernel's answer to the request that failed. */
int netcfg_apply(const struct netcfg_req *r, char *err, size_t errlen);

/* A prefix length from a dotted IPv4 netmask ("255.255.255.0" -> 24);
 * -EINVAL when it is not a contiguous mask. */
int netcfg_mask_to_prefix(const char *mask);

#endif
