/* SCSI scans of kernel sessions, off the loop (reference §2.5): the write
 * to hostH/scan returns only when the kernel has probed the LUNs, so each
 * write runs in a thread of a helper process (kmod-glue/scan.h). After a scan the
 * disks' block devices appear asynchronously (sd probes in the
 * background); callers that want the devices poll for their /dev nodes.
 *
 * A scan: host scan [-> per-LUN rescans] [-> wait for block devices]
 * -> answer. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include "errors.h"
#include "ksession.h"
#include "log.h"
#include "scan.h"
#include "sysfs.h"

enum kscan_phase {
	PH_HOST,            /* the host scan runs */
	PH_LUNS,            /* per-LUN rescans run, one after the other */
	PH_DEVICES,         /* polling for block devices */
	PH_WRITE,           /* a lone sysfs write (kscan_write) */
};

struct kscan {
	struct kctx *k;
	struct kscan *next;
	struct ksession *ks;            /* NULL for lone writes */
	uint32_t sid, host_no;
	enum kscan_kind kind;
	enum kscan_phase phase;
	bool wait_devices;
	char label[160];
	struct kreq *req;
	struct scan_job *job;
	struct loop_io *io;
	struct sysfs_lun *luns;
	size_t nluns, lun_i;
	struct loop_timer timer;
	uint64_t deadline;
	int scan_result;
};

/* ---- device readiness ---- */

static bool is_disk_type(int type)
{
	/* the peripheral types sd binds: disk, optical memory, RBC, ZBC */
	return type == 0x00 || type == 0x07 || type == 0x0e || type == 0x14;
}

void kscan_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int kscan_devices(const char *sysfs, const char *devdir, uint32_t sid, char ***ret_names, size_t *ret_n,
		  char *why, size_t whylen)
{
	struct sysfs_lun *luns = NULL;
	size_t n = 0, k = 0;
	int r = sysfs_session_luns(sysfs, sid, &luns, &n);
	if (r < 0)
		return r;
	char **names = calloc(n ? n : 1, sizeof(*names));
	if (!names) {
		free(luns);
		return -ENOMEM;
	}
	int ready = 1;
	for (size_t i = 0; i < n && ready; i++) {
		char hctl[64];
		sysfs_hctl_format(&luns[i].hctl, hctl, sizeof(hctl));
		if (luns[i].type == SYSFS_UNSET) {
			snprintf(why, whylen, "LUN %s has no type yet", hctl);
			ready = 0;
			break;
		}
		if (!is_disk_type(luns[i].type))
			continue;
		if (luns[i].n_block == 0) {
			snprintf(why, whylen, "LUN %s has no block device yet", hctl);
			ready = 0;
			break;
		}
		/* devtmpfs (or udev) makes the node after the device appears */
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", devdir, luns[i].block[0]);
		if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode)) {
			snprintf(why, whylen, "%s does not exist yet", path);
			ready = 0;
			break;
		}
		names[k] = strdup(luns[i].block[0]);
		if (!names[k]) {
			ready = -ENOMEM;
			break;
		}
		k++;
	}
	free(luns);
	if (ready != 1) {
		kscan_names_free(names, k);
		return ready;
	}
	*ret_names = names;
	*ret_n = k;
	return 1;
}

/* ---- scans ---- */

static void sc_free(struct kscan *sc)
{
	struct kctx *k = sc->k;
	for (struct kscan **pp = &k->scans; *pp; pp = &(*pp)->next)
		if (*pp == sc) {
			*pp = sc->next;
			break;
		}
	loop_timer_disarm(k->loop, &sc->timer);
	if (sc->io)
		loop_io_remove(k->loop, sc->io);
	/* an unfinished write still completes in the helper */
	scan_job_free(sc->job);
	free(sc->luns);
	kreq_free(sc->req);
	free(sc);
}

static void sc_answer(struct kscan *sc, int code, const char *msg)
{
	if (!sc->req)
		return;
	sc->req->res.status = code;
	if (msg)
		snprintf(sc->req->res.message, sizeof(sc->req->res.message), "%s", msg);
	kreq_finish(sc->k, sc->req);
	sc->req = NULL;
}

static void sc_step(struct kscan *sc);

static void on_job_done(struct scan_job *job, int result, void *data)
{
	struct kscan *sc = data;
	(void)job;
	loop_io_remove(sc->k->loop, sc->io);
	sc->io = NULL;
	scan_job_free(sc->job);
	sc->job = NULL;
	if (sc->phase == PH_WRITE) {
		if (result < 0)
			log_warnx("writing %s failed: %s", sc->label, strerror(-result));
		else
			log_debug(2, "wrote %s", sc->label);
		sc_free(sc);
		return;
	}
	if (result < 0)
		log_warnx("session %" PRIu32 ": %s failed: %s", sc->sid, sc->label, strerror(-result));
	if (sc->phase == PH_HOST)
		sc->scan_result = result;
	sc_step(sc);
}

static void on_job_io(struct loop *l, int fd, uint32_t events, void *data)
{
	struct kscan *sc = data;
	struct kctx *k = sc->k;
	(void)l;
	(void)fd;
	(void)events;
	(void)scan_job_dispatch(sc->job);   /* calls on_job_done once */
	kctx_poke(k);
}

static int sc_watch(struct kscan *sc)
{
	return loop_io_add(sc->k->loop, scan_job_fd(sc->job), EPOLLIN, on_job_io, sc, &sc->io);
}

static int sc_write(struct kscan *sc, const char *rel, const char *value)
{
	snprintf(sc->label, sizeof(sc->label), "%s <- %s", rel, value);
	int r = scan_write_async(sc->k->sysfs, rel, value, on_job_done, sc, &sc->job);
	if (r < 0)
		return r;
	r = sc_watch(sc);
	if (r < 0) {
		scan_job_free(sc->job);
		sc->job = NULL;
	}
	return r;
}

static void check_devices(struct kscan *sc)
{
	char **names = NULL;
	size_t n = 0;
	char why[512] = "";
	int r = kscan_devices(sc->k->sysfs, sc->k->devdir, sc->sid, &names, &n, why, sizeof(why));
	if (r == 0 && loop_now_ms() < sc->deadline) {
		(void)loop_timer_arm(sc->k->loop, &sc->timer, KS_DEVPOLL_MS);
		return;
	}
	if (r == 1) {
		if (sc->req && kreq_set_devices(sc->req, names, n) < 0)
			log_warnx("session %" PRIu32 ": out of memory listing devices", sc->sid);
		kscan_names_free(names, n);
		log_debug(1, "session %" PRIu32 ": %zu disk%s ready", sc->sid, n, n == 1 ? "" : "s");
		sc_answer(sc, 0, NULL);
	} else {
		char msg[TRANSPORT_MSG_MAX];
		if (r == 0)
			snprintf(msg, sizeof(msg), "the scan finished, but after %u s %s", KS_DEVWAIT_MS / 1000, why);
		else
			snprintf(msg, sizeof(msg), "cannot list the devices of session %" PRIu32 ": %s", sc->sid,
				 strerror(-r));
		log_warnx("session %" PRIu32 ": %s", sc->sid, msg);
		/* the session itself is fine: say what is missing */
		sc_answer(sc, 0, msg);
	}
	sc_free(sc);
}

static void on_timer(struct loop *l, void *data)
{
	struct kscan *sc = data;
	struct kctx *k = sc->k;
	(void)l;
	check_devices(sc);
	kctx_poke(k);
}

/* Moves the scan on after a finished write. */
static void sc_step(struct kscan *sc)
{
	char msg[TRANSPORT_MSG_MAX];

	if (sc->phase == PH_HOST) {
		if (sc->scan_result < 0 && sc->kind == KSCAN_RESCAN) {
			snprintf(msg, sizeof(msg), "the SCSI scan of host%" PRIu32 " failed: %s", sc->host_no,
				 strerror(-sc->scan_result));
			sc_answer(sc, ISCSI_ERR_SYSFS_LOOKUP, msg);
			sc_free(sc);
			return;
		}
		if (sc->kind == KSCAN_RESCAN) {
			/* LUNs already there: re-read their capacity */
			if (sysfs_session_luns(sc->k->sysfs, sc->sid, &sc->luns, &sc->nluns) < 0)
				sc->nluns = 0;
			sc->phase = PH_LUNS;
			sc->lun_i = 0;
		}
	}
	while (sc->phase == PH_LUNS && sc->lun_i < sc->nluns) {
		char hctl[64], rel[128];
		sysfs_hctl_format(&sc->luns[sc->lun_i++].hctl, hctl, sizeof(hctl));
		snprintf(rel, sizeof(rel), "bus/scsi/devices/%s/rescan", hctl);
		if (sc_write(sc, rel, "1") == 0)
			return;
		log_warnx("session %" PRIu32 ": cannot rescan %s", sc->sid, hctl);
	}
	if (sc->wait_devices) {
		sc->phase = PH_DEVICES;
		sc->deadline = loop_now_ms() + KS_DEVWAIT_MS;
		check_devices(sc);
		return;
	}
	if (sc->scan_result < 0) {
		snprintf(msg, sizeof(msg), "logged in, but the SCSI scan of host%" PRIu32 " failed: %s", sc->host_no,
			 strerror(-sc->scan_result));
		sc_answer(sc, 0, msg);
	} else {
		sc_answer(sc, 0, NULL);
	}
	sc_free(sc);
}

static struct kscan *sc_new(struct kctx *k)
{
	struct kscan *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->k = k;
	loop_timer_init(&sc->timer, on_timer, sc);
	sc->next = k->scans;
	k->scans = sc;
	return sc;
}

int kscan_start(struct ksession *ks, enum kscan_kind kind, bool wait_devices, struct kreq *req)
{
	struct kscan *sc = sc_new(ks->k);
	if (!sc)
		return -ENOMEM;
	sc->ks = ks;
	sc->sid = ks->sid;
	sc->host_no = ks->host_no;
	sc->kind = kind;
	sc->phase = PH_HOST;
	sc->wait_devices = wait_devices || kind == KSCAN_RESCAN;
	snprintf(sc->label, sizeof(sc->label), "scan of host%" PRIu32, ks->host_no);
	/* "- - -": every channel, target and LUN of the host; for
	 * iscsi_tcp that is the session's one target (reference §2.5) */
	int r = scan_host_async(ks->k->sysfs, ks->host_no, SCAN_ANY, SCAN_ANY, SCAN_ANY_LUN, on_job_done, sc,
				&sc->job);
	if (r == 0) {
		r = sc_watch(sc);
		if (r < 0) {
			scan_job_free(sc->job);
			sc->job = NULL;
		}
	}
	if (r < 0) {
		sc->req = NULL;          /* the caller still owns it */
		sc_free(sc);
		return r;
	}
	sc->req = req;
	log_debug(1, "session %" PRIu32 ": scanning host%" PRIu32, ks->sid, ks->host_no);
	return 0;
}

int kscan_write(struct kctx *k, const char *relpath, const char *value)
{
	struct kscan *sc = sc_new(k);
	if (!sc)
		return -ENOMEM;
	sc->phase = PH_WRITE;
	int r = sc_write(sc, relpath, value);
	if (r < 0)
		sc_free(sc);
	return r;
}

void kscan_abort_session(struct ksession *ks, int code, const char *msg)
{
	struct kscan **pp = &ks->k->scans;
	while (*pp) {
		struct kscan *sc = *pp;
		if (sc->ks != ks) {
			pp = &sc->next;
			continue;
		}
		sc_answer(sc, code, msg);
		sc_free(sc);           /* unlinks *pp */
	}
}

void kscan_free_all(struct kctx *k, int code, const char *msg)
{
	while (k->scans) {
		sc_answer(k->scans, code, msg);
		sc_free(k->scans);
	}
}
