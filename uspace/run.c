/* `iscsi-uspace run`: one session from login to logout.
 *
 * Order of the way up: refuse what cannot be done (before touching the
 * target), claim the run directory, log in, scan, mount, attach loop
 * devices, write the state files, open the control socket, say "ready".
 * The way down is the reverse, and every exit path that can takes it:
 * loop devices first (their I/O still needs the mount and the engine),
 * then the FUSE reader, then the iSCSI logout, then the files. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "errors.h"
#include "run.h"
#include "secmem.h"
#include "uspace_ctl.h"
#include "usp.h"

#define SCAN_TIMEOUT_MS 60000

static void luns_apply_new(struct usp_main *m, unsigned idx)
{
	char path[PATH_MAX], dev[32];
	struct usp_lun l;

	if (m->cfg->no_loop || access("/dev/loop-control", F_OK))
		return;
	pthread_rwlock_rdlock(&m->luns->lock);
	l = m->luns->v[idx];
	pthread_rwlock_unlock(&m->luns->lock);
	if (snprintf(path, sizeof(path), "%s/%s", m->cfg->mnt, l.name) >= (int)sizeof(path))
		return;
	int r = loop_attach(path, l.block_size, dev, sizeof(dev));
	if (r < 0) {
		usp_warn("LUN %llu: no loop device (%s); the file %s works", (unsigned long long)l.lun, strerror(-r),
			 path);
		return;
	}
	pthread_rwlock_wrlock(&m->luns->lock);
	snprintf(m->luns->v[idx].loopdev, sizeof(m->luns->v[idx].loopdev), "%s", dev);
	pthread_rwlock_unlock(&m->luns->lock);
	usp_info("LUN %llu: %s on %s", (unsigned long long)l.lun, dev, path);
}

/* Brings the table in line with a scan. */
static void luns_update(struct usp_main *m, const struct usp_scan *s)
{
	bool seen[USP_LUNS_MAX] = { false }, resized[USP_LUNS_MAX] = { false }, added[USP_LUNS_MAX] = { false };
	char gone_dev[USP_LUNS_MAX][32];
	unsigned ngone = 0;

	pthread_rwlock_wrlock(&m->luns->lock);
	for (size_t i = 0; i < s->n; i++) {
		const struct usp_scan_lun *sl = &s->v[i];
		int idx = -1, free_idx = -1;
		for (unsigned j = 0; j < USP_LUNS_MAX; j++) {
			if (m->luns->v[j].used && m->luns->v[j].lun == sl->lun) {
				idx = (int)j;
				break;
			}
			if (!m->luns->v[j].used && free_idx < 0)
				free_idx = (int)j;
		}
		if (idx >= 0) {
			struct usp_lun *l = &m->luns->v[idx];
			seen[idx] = true;
			if (l->blocks != sl->blocks || l->block_size != sl->block_size) {
				usp_info("LUN %llu: %llu -> %llu bytes", (unsigned long long)l->lun,
					 (unsigned long long)(l->blocks * l->block_size),
					 (unsigned long long)(sl->blocks * sl->block_size));
				l->blocks = sl->blocks;
				l->block_size = sl->block_size;
				resized[idx] = true;
			}
			continue;
		}
		if (free_idx < 0)
			continue;
		struct usp_lun *l = &m->luns->v[free_idx];
		*l = (struct usp_lun){ .used = true, .lun = sl->lun, .block_size = sl->block_size, .blocks = sl->blocks };
		snprintf(l->name, sizeof(l->name), "lun%llu", (unsigned long long)sl->lun);
		seen[free_idx] = added[free_idx] = true;
		usp_info("LUN %llu: %llu bytes, %u-byte blocks", (unsigned long long)sl->lun,
			 (unsigned long long)(sl->blocks * sl->block_size), sl->block_size);
	}
	for (unsigned j = 0; j < USP_LUNS_MAX; j++) {
		struct usp_lun *l = &m->luns->v[j];
		if (!l->used || seen[j])
			continue;
		usp_info("LUN %llu is gone", (unsigned long long)l->lun);
		if (l->loopdev[0])
			snprintf(gone_dev[ngone++], sizeof(gone_dev[0]), "%s", l->loopdev);
		memset(l, 0, sizeof(*l));
		resized[j] = true;
	}
	m->luns->generation++;
	pthread_rwlock_unlock(&m->luns->lock);

	for (unsigned i = 0; i < ngone; i++)
		loop_detach(gone_dev[i]);
	for (unsigned j = 0; j < USP_LUNS_MAX; j++) {
		if (resized[j]) {
			fs_notify(m->fs, j);
			char dev[32], path[PATH_MAX];
			pthread_rwlock_rdlock(&m->luns->lock);
			snprintf(dev, sizeof(dev), "%s", m->luns->v[j].loopdev);
			int pl = snprintf(path, sizeof(path), "%s/%s", m->cfg->mnt, m->luns->v[j].name);
			pthread_rwlock_unlock(&m->luns->lock);
			if (dev[0] && pl < (int)sizeof(path)) {
				/* the loop driver reads the size the inode has:
				 * a stat refreshes it from us first */
				struct stat st;
				stat(path, &st);
				if (loop_resize(dev) < 0)
					usp_warn("%s: cannot take the new size", dev);
			}
		}
		if (added[j] && m->fs)
			luns_apply_new(m, j);
	}
}

int main_rescan(struct usp_main *m, char *msg, size_t msglen)
{
	struct usp_scan *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		errbuf_set(msg, msglen, "out of memory");
		return ISCSI_ERR_NOMEM;
	}
	rc = engine_scan(m->engine, s, SCAN_TIMEOUT_MS, msg, msglen);
	if (!rc) {
		if (s->skipped)
			usp_info("%zu LUNs not exposed (not disks, or past %d)", s->skipped, USP_LUNS_MAX);
		luns_update(m, s);
	}
	free(s);
	return rc;
}

void main_busy_devices(struct usp_main *m, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	pthread_rwlock_rdlock(&m->luns->lock);
	for (unsigned i = 0; i < USP_LUNS_MAX; i++) {
		const char *dev = m->luns->v[i].loopdev;
		if (!m->luns->v[i].used || !dev[0])
			continue;
		/* mounted or held exclusively: O_EXCL says EBUSY */
		int fd = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno == EBUSY) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", dev);
			if (n > 0 && (size_t)n < len - used)
				used += (size_t)n;
		}
	}
	pthread_rwlock_unlock(&m->luns->lock);
}

static void detach_all(struct usp_main *m)
{
	for (unsigned i = 0; i < USP_LUNS_MAX; i++) {
		char dev[32];
		pthread_rwlock_wrlock(&m->luns->lock);
		snprintf(dev, sizeof(dev), "%s", m->luns->v[i].loopdev);
		m->luns->v[i].loopdev[0] = '\0';
		pthread_rwlock_unlock(&m->luns->lock);
		if (dev[0] && loop_detach(dev) < 0)
			usp_warn("cannot detach %s", dev);
	}
}

/* The answer to whoever started us. false when nobody reads it any more
 * (the starter died or gave up: EPIPE). */
static bool ready(int fd, int code, const char *msg)
{
	if (fd < 0)
		return true;
	bool ok = dprintf(fd, "%d %d %s\n", code, code ? 0 : (int)getpid(), msg) > 0;
	close(fd);
	return ok;
}

/* The record from its descriptor; the text is wiped after parsing. */
static int read_record(int fd, struct node_rec *rec, char *msg, size_t msglen)
{
	size_t cap = REC_FILE_MAX + 1, len = 0;
	char *buf = malloc(cap);
	struct rec_diags d;
	int r;

	if (!buf) {
		errbuf_set(msg, msglen, "out of memory");
		return ISCSI_ERR_NOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == cap)
			break;
	}
	if (len == cap || len == 0) {
		secmem_free(buf, cap);
		errbuf_set(msg, msglen, len ? "record too large" : "no node record on the record descriptor");
		return ISCSI_ERR_INVAL;
	}
	node_rec_init(rec);
	rec_diags_init(&d);
	r = rec_parse(REC_KIND_NODE, rec, buf, len, "record", &d);
	secmem_free(buf, cap);
	if (r < 0) {
		char line[300] = "malformed record";
		if (d.n)
			rec_diag_format(&d.v[0], line, sizeof(line));
		errbuf_set(msg, msglen, "%s", line);
		rec_diags_free(&d);
		return ISCSI_ERR_INVAL;
	}
	for (size_t i = 0; i < d.n; i++) {
		char line[300];
		rec_diag_format(&d.v[i], line, sizeof(line));
		usp_warn("%s", line);
	}
	rec_diags_free(&d);
	return 0;
}

static int fuse_present(char *msg, size_t msglen)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	errbuf_set(msg, msglen, "the uspace transport needs FUSE and /dev/fuse cannot be opened (%s): "
		 "load the fuse module or give the container /dev/fuse", strerror(errno));
	return ISCSI_ERR_TRANS_NOT_FOUND;
}

static int serve(struct usp_main *m, struct usp_ctl *ctl)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	/* a change between the login and now */
	ctl_notify(ctl, engine_state(m->engine));
	for (;;) {
		struct pollfd p[3 + USP_WATCHERS_MAX] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = ctl_fd(ctl), .events = POLLIN },
			{ .fd = engine_notify_fd(m->engine), .events = POLLIN },
		};
		int w[USP_WATCHERS_MAX];
		size_t nw = ctl_watch_fds(ctl, w, USP_WATCHERS_MAX);
		for (size_t i = 0; i < nw; i++)
			p[3 + i] = (struct pollfd){ .fd = w[i], .events = POLLIN };
		if (poll(p, 3 + nw, -1) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < nw; i++)
			if (p[3 + i].revents)
				ctl_watch_event(ctl, w[i], p[3 + i].revents);
		if (p[2].revents & POLLIN)
			ctl_notify(ctl, engine_state(m->engine));
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP) {
				usp_info("signal %u: logging out", si.ssi_signo);
				break;
			}
		}
		if (p[1].revents & POLLIN) {
			bool logout = false;
			ctl_handle(ctl, m, &logout);
			if (logout) {
				usp_info("logout requested");
				break;
			}
		}
	}
	/* the watchers (iscsid) see the logout under way, then the hang-up */
	ctl_notify(ctl, USP_STATE_LOGOUT);
	if (sfd >= 0)
		close(sfd);
	return 0;
}

int usp_run(struct usp_run_opts *o)
{
	static struct usp_config cfg;
	static struct usp_luns luns;
	struct usp_main m = { .cfg = &cfg, .luns = &luns, .logout_client = -1 };
	struct usp_ctl *ctl = NULL;
	char msg[USP_MSG_SIZE] = "";
	int lock_fd = -1, rc;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* every thread: signals come through main's signalfd */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (secmem_protect_process() < 0)
		usp_warn("cannot keep secrets out of core dumps");
	pthread_rwlock_init(&luns.lock, NULL);

	cfg.sid = o->sid;
	cfg.no_loop = o->no_loop;
	snprintf(cfg.iname, sizeof(cfg.iname), "%s", o->iname ? o->iname : "");
	if (snprintf(cfg.rundir, sizeof(cfg.rundir), "%s", o->rundir) >= (int)sizeof(cfg.rundir) ||
	    snprintf(cfg.dir, sizeof(cfg.dir), "%s/%d", o->rundir, o->sid) >= (int)sizeof(cfg.dir) ||
	    snprintf(cfg.mnt, sizeof(cfg.mnt), "%s/luns", cfg.dir) >= (int)sizeof(cfg.mnt)) {
		ready(o->ready_fd, ISCSI_ERR_INVAL, "run directory path too long");
		return ISCSI_ERR_INVAL;
	}
	if ((rc = read_record(o->record_fd, &cfg.rec, msg, sizeof(msg))) ||
	    (rc = usp_config_check(&cfg, msg, sizeof(msg))) || (rc = fuse_present(msg, sizeof(msg))))
		goto out_early;
	int r = rundir_claim(&cfg, &lock_fd);
	if (r == -EEXIST) {
		rc = ISCSI_ERR_SESS_EXISTS;
		errbuf_set(msg, sizeof(msg), "session %d is already running (%s)", cfg.sid, cfg.dir);
		goto out_early;
	} else if (r < 0) {
		rc = ISCSI_ERR;
		errbuf_set(msg, sizeof(msg), "cannot use %s: %s", cfg.dir, strerror(-r));
		goto out_early;
	}

	if ((rc = engine_start(&cfg, &m.engine, msg, sizeof(msg))))
		goto out;
	if ((rc = main_rescan(&m, msg, sizeof(msg))))
		goto out;
	if ((r = fs_start(&cfg, &luns, m.engine, &m.fs)) < 0) {
		rc = ISCSI_ERR_TRANS;
		errbuf_set(msg, sizeof(msg), "cannot mount %s (FUSE): %s", cfg.mnt, strerror(-r));
		goto out;
	}
	for (unsigned i = 0; i < USP_LUNS_MAX; i++)
		if (luns.v[i].used)
			luns_apply_new(&m, i);
	if ((r = rundir_write_state(&cfg)) < 0 || (r = ctl_open(&cfg, &ctl)) < 0) {
		rc = ISCSI_ERR;
		errbuf_set(msg, sizeof(msg), "cannot write the state of session %d in %s: %s", cfg.sid, cfg.dir,
			 strerror(-r));
		goto out;
	}
	rc = 0;
	if (!ready(o->ready_fd, 0, "logged in"))
		/* whoever started us is gone before it heard of the session
		 * (iscsid stopped or crashed during the login): nobody knows
		 * it, so it is undone rather than left running */
		usp_warn("session %d: nobody took the answer to the login; logging out", cfg.sid);
	else
		serve(&m, ctl);
	o->ready_fd = -1;
out:
	detach_all(&m);
	fs_unmount(m.fs);
	engine_stop(m.engine, true);
	fs_free(m.fs);
	ctl_close(ctl, &cfg);
	rundir_remove(&cfg);
	if (m.logout_client >= 0) {
		dprintf(m.logout_client, "%s 0 logged out\n", USPACE_CTL_MAGIC);
		close(m.logout_client);
	}
	if (lock_fd >= 0)
		close(lock_fd);
out_early:
	if (rc)
		usp_err("%s", msg);
	ready(o->ready_fd, rc, rc ? msg : "logged out");
	secmem_free(NULL, 0);
	explicit_bzero(&cfg.rec.session.auth, sizeof(cfg.rec.session.auth));
	return rc;
}
