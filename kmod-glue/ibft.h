/* The iSCSI Boot Firmware Table as the kernel shows it (iscsi_ibft with
 * iscsi_boot_sysfs): <sysfs>/firmware/ibft/ holds
 *
 *   initiator/   index flags initiator-name isns-server slp-server ...
 *   ethernetN/   index flags ip-addr prefix-len subnet-mask origin gateway
 *                primary-dns secondary-dns dhcp vlan mac hostname
 *                [device -> the PCI function, with net/<ifname>/ below]
 *   targetN/     index flags ip-addr port lun chap-type nic-assoc
 *                target-name chap-name chap-secret rev-chap-name
 *                rev-chap-name-secret
 *
 * The kernel leaves out attributes whose field is empty (an all-zero
 * address, a zero-length string), and every read needs CAP_SYS_ADMIN.
 * Values are text: numbers in decimal, addresses printed by the kernel
 * (an IPv4-mapped address as dotted quad), the LUN as eight bytes of
 * "%x" each, the MAC as aa:bb:cc:dd:ee:ff.
 *
 * The table comes from firmware, and tests feed constructed trees, so
 * every value is checked: numbers strictly and within the field's range,
 * addresses with inet_pton, names with name_validate(), strings as UTF-8
 * without control characters, lengths within the record's limits. An
 * entry with a bad or missing required value is left out, with the reason
 * in the caller's diagnostics (path = the attribute); a bad optional
 * value is dropped with a warning. Secrets are never quoted.
 *
 * As open-iscsi does: a NIC or target whose flags are 0 is not valid;
 * a target is paired with the NIC whose `index` equals its `nic-assoc`
 * (no such NIC: the target is left out); the NIC's network device is the
 * one its `device` link leads to, else the one with its MAC (under
 * <sysfs>/class/net); a port of 0 or none means 3260. */
#ifndef KMODGLUE_IBFT_H
#define KMODGLUE_IBFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "record.h"

#define IBFT_DIR "firmware/ibft"
#define IBFT_MAX_INDEX 255              /* header index is one byte */
#define IBFT_ADDR_SIZE 64
#define IBFT_LUN_SIZE 17                /* 8 bytes of "%x": 8..16 digits */
#define IBFT_HOSTNAME_SIZE 256
#define IBFT_MASK "********"

/* ethernetN/flags, targetN/flags (iBFT 1.03 §3.5) */
#define IBFT_FL_VALID 0x01
#define IBFT_FL_BOOT_SELECTED 0x02

/* ethernetN/origin: IP_PREFIX_ORIGIN; 3 = the address came from DHCP */
#define IBFT_ORIGIN_DHCP 3

struct ibft_nic {
	unsigned dir_index;                 /* N of ethernetN */
	int index;
	int flags;
	char mac[REC_HWADDR_SIZE];          /* lower case, ':' separated */
	char ipaddr[IBFT_ADDR_SIZE];        /* "" when absent */
	int prefix_len;                     /* 0 when absent */
	char subnet_mask[IBFT_ADDR_SIZE];
	int origin;                         /* -1 when absent */
	char gateway[IBFT_ADDR_SIZE];
	char primary_dns[IBFT_ADDR_SIZE];
	char secondary_dns[IBFT_ADDR_SIZE];
	char dhcp[IBFT_ADDR_SIZE];
	int vlan;                           /* -1 when absent */
	char hostname[IBFT_HOSTNAME_SIZE];
	char netdev[REC_NETDEV_SIZE];       /* "" when no device was found */
};

struct ibft_target {
	unsigned dir_index;                 /* N of targetN */
	int index;
	int flags;
	char name[REC_NAME_SIZE];
	char ipaddr[IBFT_ADDR_SIZE];
	int port;
	char lun[IBFT_LUN_SIZE];            /* "" when absent */
	int chap_type;                      /* -1 when absent */
	int nic_assoc;
	size_t nic;                         /* the paired entry of struct ibft.nics */
	char chap_name[REC_AUTH_SIZE];
	char chap_secret[REC_AUTH_SIZE];    /* secret */
	char rev_chap_name[REC_AUTH_SIZE];
	char rev_chap_secret[REC_AUTH_SIZE]; /* secret */
};

struct ibft {
	char initiator_name[REC_NAME_SIZE]; /* "" when absent or invalid */
	struct ibft_nic *nics;
	size_t n_nics;
	struct ibft_target *targets;
	size_t n_targets;
};

/* Reads <sysfs_root>/firmware/ibft (NULL root: /sys) into *ret (release
 * with ibft_free()). Returns 0 with every usable target (maybe none: the
 * diagnostics then say why), -ENOENT when there is no table, -EACCES when
 * an attribute cannot be read (not root), -ENOMEM, or the error listing
 * the directory. diags may be NULL. */
int ibft_read(const char *sysfs_root, struct ibft *ret, struct rec_diags *diags);

/* Wipes the secrets and frees; NULL and a zeroed struct are fine. */
void ibft_free(struct ibft *t);

/* The keys open-iscsi prints for target i (`iscsiadm -m fw`,
 * `iscsistart -f`), in its order:
 *   iface.initiatorname iface.transport_name iface.hwaddress
 *   iface.bootproto iface.ipaddress iface.prefix_len iface.subnet_mask
 *   iface.gateway iface.primary_dns iface.secondary_dns iface.vlan_id
 *   iface.net_ifacename node.name node.conn[0].address node.conn[0].port
 *   node.session.auth.username node.session.auth.password
 *   node.session.auth.username_in node.session.auth.password_in
 *   node.boot_lun
 * each only when set (transport_name, bootproto and port always).
 * Passwords are IBFT_MASK unless show_secrets. A nonzero return of cb
 * stops the walk and is returned. */
typedef int (*ibft_visit_fn)(const char *key, const char *value, void *userdata);
int ibft_target_foreach(const struct ibft *t, size_t i, bool show_secrets, ibft_visit_fn cb, void *userdata);

/* "# BEGIN RECORD 2.1.8", the keys as "key = value", "# END RECORD". */
int ibft_target_fprint(const struct ibft *t, size_t i, bool show_secrets, FILE *f);

/* A node record for logging in to target i, built on tmpl (the
 * iscsid.conf defaults): the firmware's target name, portal, tpgt 1 (the
 * table has none), iface "default" with the firmware's initiator name,
 * its CHAP settings, node.discovery_type fw and node.startup onboot.
 * -EINVAL with a reason in err. */
int ibft_target_rec(const struct ibft *t, size_t i, const struct node_rec *tmpl, struct node_rec *ret, char *err,
		    size_t errlen);

#endif
