/* iscsi-uspace: the userspace iSCSI session process, and a small client
 * of it for people and tests (doc/iscsi-uspace.8).
 *
 *   iscsi-uspace run --sid N [--rundir D] [--record-fd FD] [--ready-fd FD]
 *                    [--initiator-name NAME] [--no-loop] [--syslog] [--debug N]
 *   iscsi-uspace start --sid N [--rundir D] [--initiator-name NAME] [--no-loop]
 *                    [--timeout S]                       (record on stdin)
 *   iscsi-uspace status|stats|rescan|logout [--safe] --sid N [--rundir D]
 *   iscsi-uspace list [--rundir D]
 *   iscsi-uspace cleanup (--sid N | --all) [--rundir D]
 *
 * Exit codes are open-iscsi's (libinitiator/errors.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "run.h"
#include "uspace_ctl.h"
#include "usp.h"

#define CALL_TIMEOUT_MS 90000     /* rescan may wait for a slow target */

struct opts {
	const char *cmd;
	int sid;
	const char *rundir;
	const char *iname;
	int record_fd, ready_fd;
	bool no_loop, to_syslog, all, safe;
	int debug;
	int timeout_s;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: iscsi-uspace run --sid N [--rundir DIR] [--record-fd FD] [--ready-fd FD]\n"
		"                        [--initiator-name NAME] [--no-loop] [--syslog] [--debug N]\n"
		"       iscsi-uspace start --sid N [--rundir DIR] [--initiator-name NAME] [--no-loop]\n"
		"                        [--timeout SECONDS] < record\n"
		"       iscsi-uspace status|stats|rescan|logout [--safe] --sid N [--rundir DIR]\n"
		"       iscsi-uspace list [--rundir DIR]\n"
		"       iscsi-uspace cleanup (--sid N | --all) [--rundir DIR]\n");
	exit(ISCSI_ERR_INVAL);
}

static int parse_int(const char *s, int min, int max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "iscsi-uspace: bad number '%s'\n", s);
		exit(ISCSI_ERR_INVAL);
	}
	return (int)v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "sid", required_argument, NULL, 's' },
		{ "rundir", required_argument, NULL, 'r' },
		{ "record-fd", required_argument, NULL, 'R' },
		{ "ready-fd", required_argument, NULL, 'F' },
		{ "initiator-name", required_argument, NULL, 'i' },
		{ "no-loop", no_argument, NULL, 'n' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "debug", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "safe", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	if (argc < 2)
		usage();
	o->cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->sid = parse_int(optarg, 1, USPACE_SID_MAX); break;
		case 'r': o->rundir = optarg; break;
		case 'R': o->record_fd = parse_int(optarg, 0, 1 << 20); break;
		case 'F': o->ready_fd = parse_int(optarg, 0, 1 << 20); break;
		case 'i': o->iname = optarg; break;
		case 'n': o->no_loop = true; break;
		case 'S': o->to_syslog = true; break;
		case 'd': o->debug = parse_int(optarg, 0, 10); break;
		case 't': o->timeout_s = parse_int(optarg, 1, 3600); break;
		case 'a': o->all = true; break;
		case 'f': o->safe = true; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (o->rundir && o->rundir[0] != '/') {
		fprintf(stderr, "iscsi-uspace: --rundir must be an absolute path\n");
		exit(ISCSI_ERR_INVAL);
	}
	o->rundir = uspace_rundir(o->rundir);
}

static int need_sid(const struct opts *o)
{
	if (o->sid < 1) {
		fprintf(stderr, "iscsi-uspace %s: --sid is required\n", o->cmd);
		exit(ISCSI_ERR_INVAL);
	}
	return o->sid;
}

static int cmd_call(const struct opts *o, const char *verb, const char *arg)
{
	struct uspace_reply rep;
	int r = uspace_call(o->rundir, need_sid(o), verb, arg, CALL_TIMEOUT_MS, &rep);

	if (r == -ENOENT || r == -ECONNREFUSED) {
		fprintf(stderr, "iscsi-uspace: no session %d running under %s\n", o->sid, o->rundir);
		return ISCSI_ERR_SESS_NOT_FOUND;
	}
	if (r < 0) {
		fprintf(stderr, "iscsi-uspace: session %d: %s\n", o->sid, strerror(-r));
		return r == -ETIMEDOUT ? ISCSI_ERR_REQ_TIMEDOUT : ISCSI_ERR_ISCSID_COMM_ERR;
	}
	if (rep.code)
		fprintf(stderr, "iscsi-uspace: session %d: %s\n", o->sid, rep.text);
	else
		fputs(rep.body, stdout);
	r = rep.code;
	uspace_reply_free(&rep);
	return r;
}

static int cmd_start(const struct opts *o)
{
	size_t cap = REC_FILE_MAX + 1, len = 0;
	char *rec = malloc(cap), self[PATH_MAX];
	struct uspace_start_result res;

	if (!rec)
		return ISCSI_ERR_NOMEM;
	for (;;) {
		ssize_t n = read(0, rec + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == cap)
			break;
	}
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0 || len == 0 || len == cap) {
		fprintf(stderr, "iscsi-uspace start: %s\n", len ? "record too large or no /proc" : "no record on stdin");
		free(rec);
		return ISCSI_ERR_INVAL;
	}
	self[sl] = '\0';
	struct uspace_start_args a = {
		.mode = USPACE_SPAWN_RUN, .program = self, .rundir = o->rundir, .sid = need_sid(o),
		.record = rec, .record_len = len, .initiator_name = o->iname, .no_loop = o->no_loop,
		.to_syslog = o->to_syslog, .stderr_fd = o->to_syslog ? -1 : 2, .debug = o->debug,
	};
	int r = uspace_start(&a, (o->timeout_s ? o->timeout_s : 180) * 1000, &res);
	explicit_bzero(rec, len);
	free(rec);
	if (r < 0) {
		fprintf(stderr, "iscsi-uspace start: %s\n", strerror(-r));
		return r == -ETIMEDOUT ? ISCSI_ERR_REQ_TIMEDOUT : ISCSI_ERR;
	}
	if (res.code) {
		fprintf(stderr, "iscsi-uspace: session %d: %s (%d - %s)\n", o->sid, res.message, res.code,
			iscsi_err_str(res.code));
		return res.code;
	}
	printf("session %d: logged in (pid %d)\n", o->sid, (int)res.pid);
	return 0;
}

static int cmd_list(const struct opts *o)
{
	struct uspace_entry *v;
	size_t n;
	int r = uspace_list(o->rundir, &v, &n);

	if (r < 0) {
		fprintf(stderr, "iscsi-uspace list: %s: %s\n", o->rundir, strerror(-r));
		return ISCSI_ERR;
	}
	for (size_t i = 0; i < n; i++)
		printf("%d %d %s\n", v[i].sid, (int)v[i].pid, v[i].alive ? "running" : "dead");
	free(v);
	return n ? 0 : ISCSI_ERR_NO_OBJS_FOUND;
}

static int cleanup_one(const char *rundir, int sid, bool quiet_busy)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%d", rundir, sid);
	int r = rundir_cleanup(dir);
	if (r == -EBUSY) {
		if (quiet_busy)
			return 0;
		fprintf(stderr, "iscsi-uspace cleanup: session %d is running (log it out)\n", sid);
		return ISCSI_ERR_BUSY;
	}
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "iscsi-uspace cleanup: %s: %s\n", dir, strerror(-r));
		return ISCSI_ERR;
	}
	return 0;
}

static int cmd_cleanup(const struct opts *o)
{
	int rc = 0;

	if (o->all) {
		struct uspace_entry *v;
		size_t n;
		if (uspace_list(o->rundir, &v, &n) < 0)
			rc = ISCSI_ERR;
		else {
			for (size_t i = 0; i < n; i++)
				if (!v[i].alive) {
					int r = cleanup_one(o->rundir, v[i].sid, true);
					rc = rc ? rc : r;
				}
			free(v);
		}
	} else {
		rc = cleanup_one(o->rundir, need_sid(o), false);
	}
	if (o->ready_fd >= 0) {
		dprintf(o->ready_fd, "%d 0 %s\n", rc, rc ? "cleanup failed" : "cleaned");
		close(o->ready_fd);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { .record_fd = 0, .ready_fd = -1 };

	parse(argc, argv, &o);
	usp_log_init(o.to_syslog && !strcmp(o.cmd, "run"), o.debug);
	if (!strcmp(o.cmd, "run")) {
		struct usp_run_opts ro = { .sid = need_sid(&o), .rundir = o.rundir, .iname = o.iname,
					   .record_fd = o.record_fd, .ready_fd = o.ready_fd, .no_loop = o.no_loop };
		return usp_run(&ro);
	}
	if (!strcmp(o.cmd, "start"))
		return cmd_start(&o);
	if (!strcmp(o.cmd, "status") || !strcmp(o.cmd, "stats") || !strcmp(o.cmd, "rescan") ||
	    !strcmp(o.cmd, "hello"))
		return cmd_call(&o, o.cmd, NULL);
	if (!strcmp(o.cmd, "logout"))
		return cmd_call(&o, "logout", o.safe ? "safe" : NULL);
	if (!strcmp(o.cmd, "list"))
		return cmd_list(&o);
	if (!strcmp(o.cmd, "cleanup"))
		return cmd_cleanup(&o);
	usage();
	return ISCSI_ERR_INVAL;
}
