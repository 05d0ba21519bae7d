/* A scripted kernel for iscsid tests: the NETLINK_ISCSI side of
 * nl_iscsi_open_io() (fk_send/fk_recv on the eventfd fk.efd), which
 * answers every request at once as the real kernel does (reference
 * §1.2), keeps a fake sysfs tree in step (fk.sysfs), and plays the
 * target: Login and Logout Requests sent with SEND_PDU come back as
 * RECV_PDU responses. Test programs are single-threaded: one global. */
#ifndef TESTS_FAKE_KERNEL_H
#define TESTS_FAKE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <sys/types.h>

#include "pdu.h"

#define QMAX 4096
#define RMAX 4096

struct req {
	uint32_t type;
	uint32_t sid;
	uint32_t param;              /* SET_PARAM */
	uint32_t flag;               /* STOP_CONN */
	char value[256];             /* SET_PARAM */
	uint8_t bhs[48];             /* SEND_PDU */
	uint64_t ms;                 /* CLOCK_MONOTONIC when it was sent */
};

struct fk {
	int efd;
	uint8_t *q[QMAX];
	size_t qlen[QMAX];
	size_t head, tail;
	struct req reqs[RMAX];
	size_t nreq;
	uint32_t next_sid, next_host;
	char *sysfs;
	/* the target */
	uint8_t fail_class, fail_detail;  /* answer every login with this status */
	bool refuse_tsih;                 /* a login with TSIH != 0: "no such session" */
	bool close_silently;              /* drop the connection instead of answering */
	bool no_answer;                   /* never answer a Login Request */
	uint32_t login_conn_error;        /* the kernel refuses the Login Response: this CONN_ERROR */
	unsigned unavailable;             /* answer this many logins 0x0301 (service unavailable) */
	unsigned die_with_login;          /* the next N final Login Responses: CONN_ERROR 1018 (host
	                                   * removed) right behind, in the same read */
	uint32_t statsn;
	const char *lun_on_start;         /* START_CONN: the session gets LUN 0 with this disk */
	int redirect_port;                /* answer the next login with a redirection here */
	const char *redirect_host;        /* ... to this host (NULL: 127.0.0.1) */
	bool redirect_permanent;
	/* CHAP required (chap_secret set): the initiator must answer as
	 * chap_name with chap_secret; a challenge of its own is answered as
	 * chap_name_in with chap_secret_in. chap_verified counts the good
	 * answers. */
	const char *chap_name, *chap_secret, *chap_name_in, *chap_secret_in;
	unsigned chap_verified;
	/* DESTROY_SESSION_ASYNC: the kernel's worker has not run yet; the
	 * sessions are removed by fk_finish_destroys() */
	bool hold_destroy;
	uint32_t held[16];
	size_t nheld;
	/* the device (SO_BINDTODEVICE) of the socket the last BIND_CONN
	 * named, read when the kernel takes it; "?" when it was no socket */
	char bound_dev[IFNAMSIZ];
};

extern struct fk fk;

void fk_push(const void *buf, size_t len);
void fk_event(uint32_t type, uint32_t sid, uint32_t r1, uint32_t r2, const void *payload, size_t plen);
void fk_conn_error(uint32_t sid, uint32_t err);
/* the held DESTROY_SESSION_ASYNC work runs: sessions leave sysfs, and
 * with events set, KEVENT_DESTROY_SESSION is reported for each */
void fk_finish_destroys(bool events);
/* a target PDU as RECV_PDU: BHS + DataSegmentLength bytes */
void fk_recv_pdu(uint32_t sid, const struct pdu *p);
ssize_t fk_send(void *io_data, const void *buf, size_t len);
ssize_t fk_recv(void *io_data, void *buf, size_t cap);

/* the requests seen so far */
size_t count(uint32_t type);
/* the same, for one session */
size_t count_sid(uint32_t type, uint32_t sid);
const struct req *last(uint32_t type);
const struct req *last_param(uint32_t param);
ssize_t index_of(uint32_t type, size_t from);

#endif
