/* SCSI commands on the engine thread: READ(16), WRITE(16), SYNCHRONIZE
 * CACHE(16) for the files, and the scan (REPORT LUNS, INQUIRY, READ
 * CAPACITY) that finds the LUNs.
 *
 * What a completion means:
 *  - GOOD with all the data: done;
 *  - CHECK CONDITION: UNIT ATTENTION (the target restarted, a LUN was
 *    resized, a session was reinstated) and NOT READY are retried a few
 *    times, as sd does; any other sense is EIO;
 *  - BUSY / TASK SET FULL: retried after a short wait;
 *  - cancelled, timed out, or a transport error (libiscsi refused a PDU):
 *    the connection is gone; the command goes back to the queue and waits
 *    for recovery (engine.c);
 *  - GOOD but less data than asked (a target that lies about lengths):
 *    EIO. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "errors.h"

#define RETRIES_MAX 8
#define BUSY_WAIT_MS 50
#define SCAN_LUNS_MAX 1024             /* REPORT LUNS entries looked at */

void rl_push_tail(struct reqlist *l, struct usp_req *r)
{
	r->next = NULL;
	r->prev = l->tail;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

void rl_remove(struct reqlist *l, struct usp_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->next = r->prev = NULL;
	l->n--;
}

struct usp_req *rl_pop(struct reqlist *l)
{
	struct usp_req *r = l->head;
	if (r)
		rl_remove(l, r);
	return r;
}

/* Back into the queue in arrival order: a command held over a recovery
 * goes before everything that arrived after it. */
void rl_insert_sorted(struct reqlist *l, struct usp_req *r)
{
	struct usp_req *at = l->tail;

	while (at && at->seq > r->seq)
		at = at->prev;
	if (!at) {
		r->prev = NULL;
		r->next = l->head;
		if (l->head)
			l->head->prev = r;
		else
			l->tail = r;
		l->head = r;
	} else {
		r->prev = at;
		r->next = at->next;
		if (at->next)
			at->next->prev = r;
		else
			l->tail = r;
		at->next = r;
	}
	l->n++;
}

void io_complete(struct usp_engine *e, struct usp_req *r, int err)
{
	if (err) {
		e->st.errors_eio++;
	} else {
		e->st.completed++;
		if (r->op == USP_OP_READ)
			e->st.bytes_read += r->len;
		else if (r->op == USP_OP_WRITE)
			e->st.bytes_written += r->len;
	}
	r->done(r, err);
}

static void io_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct scsi_task *t = data;
	struct usp_req *r = priv;
	struct usp_engine *e = r->owner;

	(void)ctx;
	if (!e || r->task != t) {
		/* orphaned by a teardown: the request is queued again */
		scsi_free_scsi_task(t);
		return;
	}
	rl_remove(&e->inflight, r);
	r->task = NULL;
	e->last_rx_ms = now_ms();

	switch (status) {
	case SCSI_STATUS_GOOD:
		if (r->op == USP_OP_READ && t->residual_status == SCSI_RESIDUAL_UNDERFLOW && t->residual) {
			usp_warn("LUN %llu: READ at %llu: target sent %zu bytes less than asked",
				 (unsigned long long)r->lun, (unsigned long long)r->lba, t->residual);
			scsi_free_scsi_task(t);
			io_complete(e, r, -EIO);
			return;
		}
		scsi_free_scsi_task(t);
		io_complete(e, r, 0);
		return;
	case SCSI_STATUS_CHECK_CONDITION:
		e->st.check_conditions++;
		if ((t->sense.key == SCSI_SENSE_UNIT_ATTENTION || t->sense.key == SCSI_SENSE_NOT_READY) &&
		    r->retries < RETRIES_MAX && !e->stopping) {
			r->retries++;
			e->st.retries++;
			usp_debug("LUN %llu: %s (ascq 0x%04x), retrying", (unsigned long long)r->lun,
				  scsi_sense_key_str(t->sense.key), t->sense.ascq);
			scsi_free_scsi_task(t);
			rl_insert_sorted(&e->queue, r);
			return;
		}
		usp_warn("LUN %llu: command failed: %s (ascq 0x%04x)", (unsigned long long)r->lun,
			 scsi_sense_key_str(t->sense.key), t->sense.ascq);
		scsi_free_scsi_task(t);
		io_complete(e, r, -EIO);
		return;
	case SCSI_STATUS_BUSY:
	case SCSI_STATUS_TASK_SET_FULL:
		scsi_free_scsi_task(t);
		if (r->retries++ < RETRIES_MAX * 4 && !e->stopping) {
			e->st.retries++;
			r->not_before_ms = now_ms() + BUSY_WAIT_MS;
			rl_insert_sorted(&e->queue, r);
		} else {
			io_complete(e, r, -EIO);
		}
		return;
	case SCSI_STATUS_CANCELLED:
	case SCSI_STATUS_ERROR:
	case SCSI_STATUS_TIMEOUT: {
		char why[USP_MSG_SIZE];
		if (status == SCSI_STATUS_TIMEOUT) {
			e->st.timeouts++;
			snprintf(why, sizeof(why), "command timed out after %d s", USP_CMD_TIMEOUT);
		} else {
			snprintf(why, sizeof(why), "%s", iscsi_get_error(ctx));
		}
		scsi_free_scsi_task(t);
		if (e->stopping || ++r->conn_failures >= USP_CONN_RETRIES) {
			if (!e->stopping)
				usp_warn("LUN %llu: command failed on %u connections, giving up",
					 (unsigned long long)r->lun, r->conn_failures);
			io_complete(e, r, -EIO);
		} else {
			rl_insert_sorted(&e->queue, r);
		}
		conn_lost(e, why);
		return;
	}
	default:
		usp_warn("LUN %llu: SCSI status 0x%x", (unsigned long long)r->lun, status);
		scsi_free_scsi_task(t);
		io_complete(e, r, -EIO);
		return;
	}
}

static int io_issue(struct usp_engine *e, struct usp_req *r)
{
	struct scsi_iovec *iov = (struct scsi_iovec *)&r->iov;
	int lun = (int)r->lun;

	switch (r->op) {
	case USP_OP_READ:
		e->st.cmds_read++;
		r->task = iscsi_read16_iov_task(e->ctx, lun, r->lba, r->nblocks * r->block_size, (int)r->block_size,
						0, 0, 0, 0, 0, io_cb, r, iov, 1);
		break;
	case USP_OP_WRITE:
		e->st.cmds_write++;
		r->task = iscsi_write16_iov_task(e->ctx, lun, r->lba, NULL, r->nblocks * r->block_size,
						 (int)r->block_size, 0, 0, 0, 0, 0, io_cb, r, iov, 1);
		break;
	case USP_OP_SYNC:
		e->st.cmds_sync++;
		r->task = iscsi_synchronizecache16_task(e->ctx, lun, 0, 0, 0, 0, io_cb, r);
		break;
	}
	if (!r->task)
		return -ENOMEM;
	e->st.cmds++;
	return 0;
}

void io_dispatch(struct usp_engine *e)
{
	uint64_t now = 0;

	if (e->phase != C_UP || e->state != USP_STATE_LOGGED_IN || e->ctx_dead)
		return;
	while (e->queue.head && e->inflight.n < e->cfg->cmds_max) {
		struct usp_req *r = e->queue.head;
		if (r->not_before_ms) {
			if (!now)
				now = now_ms();
			if (now < r->not_before_ms)
				break;
			r->not_before_ms = 0;
		}
		rl_remove(&e->queue, r);
		r->owner = e;
		if (io_issue(e, r)) {
			usp_warn("cannot queue a command: %s", iscsi_get_error(e->ctx));
			io_complete(e, r, -EIO);
			continue;
		}
		rl_push_tail(&e->inflight, r);
	}
}

/* Before a context is freed: its commands will come back cancelled;
 * ours go back to the queue now. */
void io_orphan_inflight(struct usp_engine *e)
{
	struct usp_req *r;

	while ((r = rl_pop(&e->inflight))) {
		r->task = NULL;
		if (e->stopping || ++r->conn_failures >= USP_CONN_RETRIES)
			io_complete(e, r, -EIO);
		else
			rl_insert_sorted(&e->queue, r);
	}
}

void io_fail_queue(struct usp_engine *e)
{
	struct usp_req *r;

	while ((r = rl_pop(&e->queue)))
		io_complete(e, r, -EIO);
}

/* --- scan --- */

void scan_finish(struct usp_engine *e, struct scan_job *j, int rc, const char *fmt, ...)
{
	va_list ap;

	j->rc = rc;
	va_start(ap, fmt);
	vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&e->mu);
	if (j->abandoned) {
		pthread_mutex_unlock(&e->mu);
		free(j->ents);
		free(j);
		return;
	}
	if (!rc && j->out) {
		struct usp_scan *s = j->out;
		s->n = 0;
		s->skipped = j->skipped;
		for (size_t i = 0; i < j->n; i++) {
			if (!j->ents[i].disk)
				continue;
			if (s->n == USP_LUNS_MAX) {
				s->skipped++;
				continue;
			}
			s->v[s->n++] = (struct usp_scan_lun){ .lun = j->ents[i].lun,
							      .block_size = j->ents[i].block_size,
							      .blocks = j->ents[i].blocks };
		}
	}
	j->done = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
}

static void scan_ent_done(struct usp_engine *e, struct scan_ent *s)
{
	struct scan_job *j = s->job;
	if (--j->pending == 0)
		scan_finish(e, j, j->rc, "%s", j->msg);
}

static void scan_fail_ent(struct usp_engine *e, struct scan_ent *s, int status, const char *what)
{
	struct scan_job *j = s->job;
	if (!j->rc) {
		j->rc = status == SCSI_STATUS_CHECK_CONDITION ? ISCSI_ERR : ISCSI_ERR_SESSION_NOT_CONNECTED;
		snprintf(j->msg, sizeof(j->msg), "%s of LUN %llu failed: %s", what, (unsigned long long)s->lun,
			 e->ctx ? iscsi_get_error(e->ctx) : "no connection");
	}
	scan_ent_done(e, s);
}

static void scan_rc10_cb(struct iscsi_context *ctx, int status, void *data, void *priv);

static void scan_rc16_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct scsi_task *t = data;
	struct scan_ent *s = priv;
	struct usp_engine *e = s->job->e;
	if (status == SCSI_STATUS_GOOD) {
		struct scsi_readcapacity16 *rc = scsi_datain_unmarshall(t);
		if (rc && rc->block_length >= 512 && rc->block_length <= 65536 &&
		    !(rc->block_length & (rc->block_length - 1)) && rc->returned_lba < UINT64_MAX / 65536) {
			s->disk = true;
			s->block_size = rc->block_length;
			s->blocks = rc->returned_lba + 1;
		} else {
			usp_warn("LUN %llu: READ CAPACITY(16) answer unusable, LUN skipped", (unsigned long long)s->lun);
			s->job->skipped++;
		}
		scsi_free_scsi_task(t);
		scan_ent_done(e, s);
		return;
	}
	if (status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_UNIT_ATTENTION && s->tries++ < 4) {
		scsi_free_scsi_task(t);
		if (!iscsi_readcapacity16_task(ctx, (int)s->lun, scan_rc16_cb, s))
			scan_fail_ent(e, s, SCSI_STATUS_ERROR, "READ CAPACITY");
		return;
	}
	if (status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_ILLEGAL_REQUEST) {
		/* no READ CAPACITY(16): an old target, fewer than 2^32 blocks */
		scsi_free_scsi_task(t);
		if (!iscsi_readcapacity10_task(ctx, (int)s->lun, 0, 0, scan_rc10_cb, s))
			scan_fail_ent(e, s, SCSI_STATUS_ERROR, "READ CAPACITY(10)");
		return;
	}
	scsi_free_scsi_task(t);
	scan_fail_ent(e, s, status, "READ CAPACITY(16)");
}

static void scan_rc10_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct scsi_task *t = data;
	struct scan_ent *s = priv;
	struct usp_engine *e = s->job->e;

	(void)ctx;
	if (status == SCSI_STATUS_GOOD) {
		struct scsi_readcapacity10 *rc = scsi_datain_unmarshall(t);
		if (rc && rc->block_size >= 512 && rc->block_size <= 65536 && !(rc->block_size & (rc->block_size - 1))) {
			s->disk = true;
			s->block_size = rc->block_size;
			s->blocks = (uint64_t)rc->lba + 1;
		} else {
			s->job->skipped++;
		}
		scsi_free_scsi_task(t);
		scan_ent_done(e, s);
		return;
	}
	scsi_free_scsi_task(t);
	scan_fail_ent(e, s, status, "READ CAPACITY(10)");
}

static void scan_inq_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct scsi_task *t = data;
	struct scan_ent *s = priv;
	struct usp_engine *e = s->job->e;

	if (status != SCSI_STATUS_GOOD) {
		scsi_free_scsi_task(t);
		scan_fail_ent(e, s, status, "INQUIRY");
		return;
	}
	struct scsi_inquiry_standard *inq = scsi_datain_unmarshall(t);
	bool disk = inq && inq->qualifier == SCSI_INQUIRY_PERIPHERAL_QUALIFIER_CONNECTED &&
		    inq->device_type == SCSI_INQUIRY_PERIPHERAL_DEVICE_TYPE_DIRECT_ACCESS;
	scsi_free_scsi_task(t);
	if (!disk) {
		/* tgtd's LUN 0 is a controller; other types have no blocks */
		scan_ent_done(e, s);
		return;
	}
	if (!iscsi_readcapacity16_task(ctx, (int)s->lun, scan_rc16_cb, s))
		scan_fail_ent(e, s, SCSI_STATUS_ERROR, "READ CAPACITY(16)");
}

static void scan_rl_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct scsi_task *t = data;
	struct scan_job *j = priv;
	struct usp_engine *e = j->e;

	if (status != SCSI_STATUS_GOOD) {
		char err[USP_MSG_SIZE];
		snprintf(err, sizeof(err), "%s", iscsi_get_error(ctx));
		scsi_free_scsi_task(t);
		scan_finish(e, j, status == SCSI_STATUS_CHECK_CONDITION ? ISCSI_ERR : ISCSI_ERR_SESSION_NOT_CONNECTED,
			    "REPORT LUNS failed: %s", err);
		return;
	}
	struct scsi_reportluns_list *l = scsi_datain_unmarshall(t);
	if (!l) {
		scsi_free_scsi_task(t);
		scan_finish(e, j, ISCSI_ERR, "REPORT LUNS answer unusable");
		return;
	}
	size_t n = l->num;
	if (n > SCAN_LUNS_MAX) {
		j->skipped += n - SCAN_LUNS_MAX;
		n = SCAN_LUNS_MAX;
	}
	j->ents = calloc(n ? n : 1, sizeof(*j->ents));
	if (!j->ents) {
		scsi_free_scsi_task(t);
		scan_finish(e, j, ISCSI_ERR_NOMEM, "out of memory");
		return;
	}
	j->n = n;
	for (size_t i = 0; i < n; i++)
		j->ents[i] = (struct scan_ent){ .job = j, .lun = l->luns[i] };
	scsi_free_scsi_task(t);
	if (!n) {
		scan_finish(e, j, 0, "no LUNs");
		return;
	}
	j->pending = (int)n;
	for (size_t i = 0; i < n; i++)
		if (!iscsi_inquiry_task(ctx, (int)j->ents[i].lun, 0, 0, 255, scan_inq_cb, &j->ents[i]))
			scan_fail_ent(e, &j->ents[i], SCSI_STATUS_ERROR, "INQUIRY");
}

void scan_begin(struct usp_engine *e, struct scan_job *j)
{
	j->e = e;
	if (!iscsi_reportluns_task(e->ctx, SCSI_REPORTLUNS_REPORT_ALL_LUNS, 16384, scan_rl_cb, j))
		scan_finish(e, j, ISCSI_ERR_NOMEM, "REPORT LUNS: %s", iscsi_get_error(e->ctx));
}
