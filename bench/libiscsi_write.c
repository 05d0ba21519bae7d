/* The write half of the benchmark's anchor: libiscsi's iscsi-perf only
 * reads, so this does what it does for WRITE(16): a fixed number of
 * commands in flight, sequential LBAs, for a given time, straight on
 * libiscsi's event loop. Prints "MB/s <n>" (10^6 bytes).
 *
 *   libiscsi_write -i INITIATOR -m INFLIGHT -b BLOCKS -t SECONDS URL */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

struct perf {
	struct iscsi_context *ctx;
	int lun;
	uint64_t lba, nblocks;
	uint32_t bs, per;
	unsigned char *buf;
	uint64_t bytes;
	int inflight;
	bool stop, failed;
};

static void issue(struct perf *p);

static void cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct perf *p = priv;
	(void)ctx;
	scsi_free_scsi_task(data);
	p->inflight--;
	if (status != SCSI_STATUS_GOOD) {
		fprintf(stderr, "libiscsi_write: write failed: %s\n", iscsi_get_error(p->ctx));
		p->failed = true;
		return;
	}
	p->bytes += (uint64_t)p->per * p->bs;
	if (!p->stop)
		issue(p);
}

static void issue(struct perf *p)
{
	if (p->lba + p->per > p->nblocks)
		p->lba = 0;
	if (!iscsi_write16_task(p->ctx, p->lun, p->lba, p->buf, p->per * p->bs, (int)p->bs, 0, 0, 0, 0, 0, cb, p)) {
		p->failed = true;
		return;
	}
	p->lba += p->per;
	p->inflight++;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *iname = "iqn.2024-01.org.example:libiscsi-write";
	int m = 8, secs = 10, blocks = 2048, c;
	struct perf p = { 0 };

	while ((c = getopt(argc, argv, "i:m:b:t:")) != -1) {
		switch (c) {
		case 'i': iname = optarg; break;
		case 'm': m = atoi(optarg); break;
		case 'b': blocks = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || m < 1 || blocks < 1 || secs < 1)
		return 2;
	p.ctx = iscsi_create_context(iname);
	struct iscsi_url *u = p.ctx ? iscsi_parse_full_url(p.ctx, argv[optind]) : NULL;
	if (!u)
		return 1;
	iscsi_set_targetname(p.ctx, u->target);
	iscsi_set_session_type(p.ctx, ISCSI_SESSION_NORMAL);
	if (iscsi_full_connect_sync(p.ctx, u->portal, u->lun)) {
		fprintf(stderr, "libiscsi_write: login: %s\n", iscsi_get_error(p.ctx));
		return 1;
	}
	p.lun = u->lun;
	struct scsi_task *t = iscsi_readcapacity16_sync(p.ctx, p.lun);
	struct scsi_readcapacity16 *rc = t ? scsi_datain_unmarshall(t) : NULL;
	if (!rc)
		return 1;
	p.bs = rc->block_length;
	p.nblocks = rc->returned_lba + 1;
	scsi_free_scsi_task(t);
	p.per = (uint32_t)blocks;
	p.buf = calloc(p.per, p.bs);
	if (!p.buf)
		return 1;
	memset(p.buf, 0x5a, (size_t)p.per * p.bs);
	double t0 = now(), end = t0 + secs;
	for (int i = 0; i < m; i++)
		issue(&p);
	while (p.inflight > 0 && !p.failed) {
		if (now() >= end)
			p.stop = true;
		struct pollfd pfd = { .fd = iscsi_get_fd(p.ctx), .events = (short)iscsi_which_events(p.ctx) };
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			return 1;
		if (iscsi_service(p.ctx, pfd.revents) < 0)
			return 1;
	}
	double el = now() - t0;
	printf("MB/s %.1f\n", (double)p.bytes / el / 1e6);
	iscsi_logout_sync(p.ctx);
	iscsi_destroy_url(u);
	iscsi_destroy_context(p.ctx);
	free(p.buf);
	return p.failed;
}
