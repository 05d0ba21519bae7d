/* How iscsid reaches the kernel (or any other session carrier): a small
 * ops table, so the kernel session path, a userspace transport and test
 * doubles plug in behind the same calls.
 *
 * Every operation is asynchronous. A call returns 0 when it accepted the
 * operation, and then calls done exactly once, later, from the event loop
 * (never from inside the call itself, so callers need not be re-entrant).
 * A negative return means nothing was started and done will not be
 * called. Many operations may be in flight at once.
 *
 * transport_free() completes whatever is still in flight with
 * ISCSI_ERR_INTERNAL ("iscsid is stopping") before it returns. Stopping
 * iscsid never logs sessions out: they live on in the kernel. */
#ifndef ISCSID_TRANSPORT_H
#define ISCSID_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct node_rec;
struct iscsid;

#define TRANSPORT_MSG_MAX 1024

/* One counter of `iscsiadm -m session -s`. */
struct transport_stat {
	const char *name;                  /* "txdata_octets", ... */
	uint64_t value;
	bool extended;                     /* driver-specific ("iSCSI Extended:") */
};

struct transport_result {
	int status;                        /* exit code (errors.h); 0 = success */
	char message[TRANSPORT_MSG_MAX];   /* human text; "" = the default text for status */
	uint32_t sid;                      /* login: the new session */
	uint32_t host_no;                  /* login: its SCSI host */
	const char *const *devices;        /* login with wait-for-devices, rescan: "sdb", ... */
	size_t ndevices;
	const struct transport_stat *stats;   /* stats */
	size_t nstats;
};

typedef void (*transport_done_fn)(void *data, const struct transport_result *res);

struct transport_login {
	const struct node_rec *rec;        /* parsed node record (record.h) */
	uint32_t flags;                    /* IPC_LOGIN_* (ipc.h) */
};

struct transport;

struct transport_ops {
	const char *name;
	/* Is the transport usable? status 0 or ISCSI_ERR_TRANS_NOT_FOUND. */
	int (*probe)(struct transport *t, transport_done_fn done, void *data);
	int (*login)(struct transport *t, const struct transport_login *req, transport_done_fn done,
		     void *data);
	int (*logout)(struct transport *t, uint32_t sid, transport_done_fn done, void *data);
	int (*rescan)(struct transport *t, uint32_t sid, transport_done_fn done, void *data);
	/* The kernel's counters for one session; NULL: not supported. */
	int (*stats)(struct transport *t, uint32_t sid, transport_done_fn done, void *data);
	/* SIGHUP: forget cached conclusions (e.g. that modprobe failed). */
	void (*reload)(struct transport *t);
	void (*free)(struct transport *t);
};

/* Implementations embed this as their first member. */
struct transport {
	const struct transport_ops *ops;
};

static inline void transport_free(struct transport *t)
{
	if (t)
		t->ops->free(t);
}

/* The kernel transport (iscsi_tcp): usable when
 * <sysfs_root>/class/iscsi_transport/tcp exists. When it does not, the
 * first operation that needs it runs `<modprobe> -q iscsi_tcp` once as a
 * child process (reaped through the loop, killed after
 * modprobe_timeout_ms) and looks again; SIGHUP (reload) allows one more
 * attempt. Once it exists, sessions run through NETLINK_ISCSI
 * (ksession.h); the first operation (main() sends a probe at start-up)
 * opens the netlink socket and adopts the sessions the kernel already
 * has. */
struct transport_kernel_config {
	const char *sysfs_root;            /* NULL: "/sys" */
	const char *modprobe;              /* NULL: "modprobe" from PATH; "" disables loading */
	unsigned modprobe_timeout_ms;      /* 0: 10000 */
	struct iscsid *daemon;             /* session table, configuration, initiator name,
					    * node database; NULL in tests */
};

int transport_kernel_new(struct loop *l, const struct transport_kernel_config *cfg,
			 struct transport **ret);

#endif
