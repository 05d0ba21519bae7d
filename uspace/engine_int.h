/* The engine's insides, shared by engine.c (thread, connection, login,
 * recovery) and engine_io.c (SCSI commands, scans). Everything here runs
 * on the engine thread unless it says it takes e->mu. */
#ifndef USPACE_ENGINE_INT_H
#define USPACE_ENGINE_INT_H

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "usp.h"

struct reqlist {
	struct usp_req *head, *tail;
	int n;
};

enum conn_phase { C_NONE, C_CONNECTING, C_LOGIN, C_UP, C_LOGOUT };

struct scan_ent {
	struct scan_job *job;
	uint64_t lun;
	int tries;
	bool disk;
	uint32_t block_size;
	uint64_t blocks;
};

struct scan_job {
	struct scan_job *next;
	struct usp_engine *e;
	bool done, abandoned;           /* under e->mu */
	int rc;                         /* iscsi_err code */
	char msg[USP_MSG_SIZE];
	int pending;                    /* commands outstanding */
	size_t n;
	struct scan_ent *ents;
	size_t skipped;
	struct usp_scan *out;           /* filled on success (owned by the waiter) */
};

struct usp_engine {
	struct usp_config *cfg;
	pthread_t thread;
	int evfd;
	int notify_fd;                  /* eventfd: the state changed (for main) */

	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* under mu */
	struct reqlist submitted;
	struct scan_job *scans;
	bool stop_req, logout_req, thread_done;
	bool login_done;
	int login_rc;
	char login_msg[USP_MSG_SIZE];
	enum usp_state state;           /* written by the engine under mu */
	struct usp_status status;
	struct usp_stats stats;         /* copy published by the engine */

	/* engine thread only */
	struct iscsi_context *ctx;
	enum conn_phase phase;
	bool ctx_dead;                  /* tear down after iscsi_service returns */
	bool tearing_down;
	bool stopping;
	char fail_msg[USP_MSG_SIZE];
	int fail_rc;
	char cur_portal[300];
	unsigned redirects;
	uint32_t isid_rnd;
	int attempts;                   /* first login */
	unsigned backoff_ms;
	uint64_t next_attempt_ms;       /* 0: none scheduled */
	uint64_t attempt_deadline_ms;
	uint64_t recovery_since_ms;
	uint64_t last_rx_ms;            /* last completion: NOPs only when idle */
	uint64_t nop_sent_ms;           /* 0: none outstanding */
	uint64_t logout_deadline_ms;
	bool logout_done;
	uint64_t seq;
	struct reqlist queue;           /* waiting to be sent, in seq order */
	struct reqlist inflight;        /* sent, in send order */
	struct usp_stats st;            /* the engine's own counters */
	struct usp_status stat_local;
};

uint64_t now_ms(void);

/* engine_io.c */
void rl_push_tail(struct reqlist *l, struct usp_req *r);
void rl_insert_sorted(struct reqlist *l, struct usp_req *r);
void rl_remove(struct reqlist *l, struct usp_req *r);
struct usp_req *rl_pop(struct reqlist *l);
void io_complete(struct usp_engine *e, struct usp_req *r, int err);
void io_dispatch(struct usp_engine *e);
void io_orphan_inflight(struct usp_engine *e);
void io_fail_queue(struct usp_engine *e);
void scan_begin(struct usp_engine *e, struct scan_job *job);
void scan_finish(struct usp_engine *e, struct scan_job *job, int rc, const char *fmt, ...) USP_FMT(4, 5);

/* engine.c */
void conn_lost(struct usp_engine *e, const char *why);

#endif
