/* iscsid: start-up, signals, reload, shut-down. The work happens in the
 * event loop (loop.c), the control server (control.c), the request
 * handlers (handlers.c) and the session layer (session.h) with its
 * carriers (carrier_kernel.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "errors.h"
#include "fsutil.h"
#include "ipc.h"
#include "isns_client.h"
#include "iscsid.h"
#include "log.h"
#include "memlock.h"
#include "loop.h"
#include "metrics.h"
#include "pidfile.h"
#include "sdnotify.h"
#include "secmem.h"
#include "session.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif
#ifndef OPENISCSI_COMPAT_VERSION
#define OPENISCSI_COMPAT_VERSION "2.1.8"
#endif

/* Exit statuses of the daemon itself (doc/iscsid.8). */
#define EXIT_OK 0
#define EXIT_STARTUP 1                 /* could not start; the log says why */
#define EXIT_USAGE ISCSI_ERR_INVAL     /* bad command line */

struct options {
	bool foreground;
	int debug;
	const char *config_file;
	const char *iname_file;
	const char *pid_file;
	bool no_pid_file;
	const char *root;
	const char *socket_path;
	const char *sysfs_root;
	const char *modprobe;
	long allow_gid;
};

enum {
	OPT_ROOT = 0x100,
	OPT_SYSFS_ROOT,
	OPT_MODPROBE,
	OPT_ALLOW_GID,
};

static const struct option long_options[] = {
	{ "foreground", no_argument, NULL, 'f' },
	{ "debug", required_argument, NULL, 'd' },
	{ "config", required_argument, NULL, 'c' },
	{ "initiatorname", required_argument, NULL, 'i' },
	{ "pid-file", required_argument, NULL, 'p' },
	{ "no-pid-file", no_argument, NULL, 'n' },
	{ "socket", required_argument, NULL, 's' },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT },
	{ "modprobe", required_argument, NULL, OPT_MODPROBE },
	{ "ipc-allow-gid", required_argument, NULL, OPT_ALLOW_GID },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iscsid [OPTION]...\n"
		"The iSCSI initiator daemon.\n\n"
		"  -f, --foreground         stay in the foreground, log to stderr\n"
		"  -d, --debug=N            debug level 0-8\n"
		"  -c, --config=FILE        iscsid.conf to read\n"
		"  -i, --initiatorname=FILE initiator name file\n"
		"  -p, --pid-file=FILE      pid file\n"
		"  -n, --no-pid-file        do not write a pid file\n"
		"  -s, --socket=PATH        control socket path\n"
		"      --root=DIR           keep every file under DIR (as $ISCSI_ROOT)\n"
		"      --sysfs-root=DIR     where sysfs is mounted (default /sys)\n"
		"      --modprobe=PROG      program that loads kernel modules (\"\" = never)\n"
		"      --ipc-allow-gid=GID  also accept control clients whose group is GID\n"
		"  -h, --help               this text\n"
		"  -v, --version            print the version\n");
}

static int parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* 0 to run, 1 to exit 0 (help, version), -1 to exit with EXIT_USAGE. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int c;
	long v;
	memset(o, 0, sizeof(*o));
	o->allow_gid = -1;
	while ((c = getopt_long(argc, argv, "fd:c:i:p:ns:hv", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->foreground = true;
			break;
		case 'd':
			if (parse_long(optarg, 0, 8, &v) < 0) {
				fprintf(stderr, "iscsid: -d wants a level from 0 to 8, not '%s'\n", optarg);
				return -1;
			}
			o->debug = (int)v;
			break;
		case 'c':
			o->config_file = optarg;
			break;
		case 'i':
			o->iname_file = optarg;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'n':
			o->no_pid_file = true;
			break;
		case 's':
			o->socket_path = optarg;
			break;
		case OPT_ROOT:
			o->root = optarg;
			break;
		case OPT_SYSFS_ROOT:
			o->sysfs_root = optarg;
			break;
		case OPT_MODPROBE:
			o->modprobe = optarg;
			break;
		case OPT_ALLOW_GID:
			if (parse_long(optarg, 0, INT_MAX, &v) < 0) {
				fprintf(stderr, "iscsid: --ipc-allow-gid wants a numeric group id, not '%s'\n", optarg);
				return -1;
			}
			o->allow_gid = v;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'v':
			/* open-iscsi's form first (scripts read the number after
			 * "version"), then what this daemon really is. */
			printf("iscsid version %s (iscsi-initiator %s, control protocol %d)\n",
			       OPENISCSI_COMPAT_VERSION, PACKAGE_VERSION, IPC_PROTO_VERSION);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iscsid: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int set_path(char *dst, size_t cap, const char *src, const char *what)
{
	if (!*src || strlen(src) >= cap) {
		fprintf(stderr, "iscsid: %s path is empty or too long: %s\n", what, src);
		return -1;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* ---- configuration ---- */

static void log_diags(const struct rec_diags *diags)
{
	for (size_t i = 0; i < diags->n; i++) {
		const struct rec_diag *e = &diags->v[i];
		char where[PATH_MAX + 16] = "";
		if (e->path && e->line)
			snprintf(where, sizeof(where), "%s:%u: ", e->path, e->line);
		else if (e->path)
			snprintf(where, sizeof(where), "%s: ", e->path);
		if (e->level == REC_DIAG_ERROR)
			log_errx("%s%s", where, e->msg);
		else
			log_warnx("%s%s", where, e->msg);
	}
}

static void first_error(const struct rec_diags *diags, int r, const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < diags->n; i++)
		if (diags->v[i].level == REC_DIAG_ERROR) {
			rec_diag_format(&diags->v[i], err, errlen);
			return;
		}
	snprintf(err, errlen, "%s: %s", path, strerror(-r));
}

/* A fresh `make install` has no initiator name, and every login would
 * fail. On start-up, create the file with a unique name, as distributions
 * do when the package is installed. Whatever already has that name (a
 * valid file, garbage, a directory) is left alone for iscsid_reload() to
 * judge. */
static void iname_first_start(const struct iscsi_paths *p)
{
	struct initiator_name n;
	struct stat st;

	if (lstat(p->iname_file, &st) == 0 || errno != ENOENT)
		return;
	int r = iname_create(p->iname_file, NULL, &n);
	if (r == 0)
		log_info("no initiator name was set: created %s with the unique name %s", p->iname_file, n.name);
	else if (r != -EEXIST)
		log_warnx("no initiator name was set, and %s cannot be created: %s", p->iname_file, strerror(-r));
}

int iscsid_reload(struct iscsid *d, char *err, size_t errlen)
{
	struct iscsi_config cfg;
	struct initiator_name in;
	struct rec_diags diags;
	int r;

	rec_diags_init(&diags);
	r = config_load(d->paths.config_file, &cfg, &diags);
	log_diags(&diags);
	if (r < 0 && r != -ENOENT) {
		first_error(&diags, r, d->paths.config_file, err, errlen);
		rec_diags_free(&diags);
		return -EINVAL;
	}
	if (r == -ENOENT)
		log_info("%s does not exist; using compiled defaults", d->paths.config_file);
	rec_diags_free(&diags);

	rec_diags_init(&diags);
	r = iname_load(d->paths.iname_file, &in, &diags);
	log_diags(&diags);
	if (r < 0 && r != -ENOENT) {
		first_error(&diags, r, d->paths.iname_file, err, errlen);
		rec_diags_free(&diags);
		return -EINVAL;
	}
	rec_diags_free(&diags);

	d->config = cfg;
	d->have_iname = r == 0;
	if (r == 0)
		d->iname = in;
	else
		log_warnx("no initiator name: %s does not exist; logins will fail until it names one",
			  d->paths.iname_file);
	if (d->ctl) {
		struct ctl_auth auth = { .uid_only = d->config.ipc_auth_uid, .allow_gid = d->allow_gid };
		control_set_auth(d->ctl, &auth);
	}
	if (d->sessions)
		session_layer_reload(d->sessions);
	if (d->metrics)
		metrics_configure(d->metrics, d->config.metrics_dir, d->config.metrics_interval);
	if (d->isns)
		isns_client_configure(d->isns);
	return 0;
}

void iscsid_stop(struct iscsid *d)
{
	d->stopping = true;
	loop_exit(d->loop, EXIT_OK);
}

/* ---- signals ---- */

static void on_stop_signal(struct loop *l, const struct signalfd_siginfo *si, void *data)
{
	struct iscsid *d = data;
	log_info("received %s; stopping (sessions in the kernel and uspace processes stay as they are)",
		 si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
	iscsid_stop(d);
}

static void on_sighup(struct loop *l, const struct signalfd_siginfo *si, void *data)
{
	struct iscsid *d = data;
	char err[300];
	char msg[128];
	/* systemd >= 253 matches RELOADING=1 to the reload by this timestamp */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading configuration",
		 (unsigned long long)loop_now_ms() * 1000ull);
	sdnotify_send(msg);
	if (iscsid_reload(d, err, sizeof(err)) < 0)
		log_errx("SIGHUP: configuration not reloaded, keeping the previous one: %s", err);
	else
		log_info("SIGHUP: reloaded %s and %s", d->paths.config_file, d->paths.iname_file);
	sdnotify_send("READY=1\nSTATUS=Ready");
}

/* ---- daemonizing ---- */

/* Forks; the parent waits until the child reports ready (one byte on the
 * pipe) so that `iscsid` returns once the socket answers, and exits with
 * the child's verdict. Returns the write end in the child. */
static int daemonize(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		char c;
		close(p[1]);
		ssize_t n = read(p[0], &c, 1);
		_exit(n == 1 ? EXIT_OK : EXIT_STARTUP);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	return p[1];
}

/* ---- main ---- */

/* All of the daemon stays in memory (memlock.h), as open-iscsi's does.
 * Locks are not inherited across fork(): called in the process that
 * runs the loop. Not under
 * AddressSanitizer, whose shadow memory is terabytes of reserved
 * address space. */
#if defined(__SANITIZE_ADDRESS__)
#define LOCK_MEMORY 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOCK_MEMORY 0
#endif
#endif
#ifndef LOCK_MEMORY
#define LOCK_MEMORY 1
#endif
static void lock_memory(void)
{
	if (!LOCK_MEMORY)
		return;
	int r = memlock_all();
	if (r == 0)
		return;
	/* without privileges (tests) only: root has CAP_IPC_LOCK */
	if (geteuid() == 0)
		log_warn("cannot lock iscsid in memory: a session carrying the root file system may not recover");
	else
		log_debug(1, "not locked in memory: %s", strerror(-r));
}

int main(int argc, char **argv)
{
	struct options o;
	struct iscsid d;
	struct pidfile *pidf = NULL;
	int listen_fd = -1, ready_fd = -1, r;
	bool activated = false;
	char err[512];

	r = parse_options(argc, argv, &o);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	log_init(true, o.debug);
	signal(SIGPIPE, SIG_IGN);
	/* iscsid holds CHAP secrets (configuration, logins): no core dumps,
	 * no ptrace by other processes of its user */
	r = secmem_protect_process();
	if (r < 0)
		log_warnx("cannot keep secrets out of core dumps: %s", strerror(-r));

	/* a descriptor per login in flight, control client and lookup:
	 * hundreds of sessions logging in at once pass 1024. Bounded: a
	 * forked worker on a kernel without close_range() closes every
	 * descriptor number below the limit (fs_child_keep_only()). */
	log_debug(1, "open files limit: %lu", fs_raise_nofile(65536));

	memset(&d, 0, sizeof(d));
	d.allow_gid = o.allow_gid;
	r = paths_init(&d.paths, o.root);
	if (r < 0) {
		const char *root = o.root ? o.root : getenv("ISCSI_ROOT");
		log_errx("cannot use root %s: %s", root ? root : "(default)",
			 r == -EINVAL ? "not an absolute path" : strerror(-r));
		return EXIT_USAGE;
	}
	if ((o.config_file && paths_set_config_file(&d.paths, o.config_file) < 0) ||
	    (o.iname_file && paths_set_iname_file(&d.paths, o.iname_file) < 0) ||
	    (o.pid_file && set_path(d.paths.pid_file, sizeof(d.paths.pid_file), o.pid_file, "pid file") < 0) ||
	    (o.socket_path && set_path(d.paths.control_socket, sizeof(d.paths.control_socket),
				       o.socket_path, "control socket") < 0)) {
		log_errx("invalid file name on the command line");
		return EXIT_USAGE;
	}

	iname_first_start(&d.paths);
	if (iscsid_reload(&d, err, sizeof(err)) < 0) {
		log_errx("%s", err);
		return EXIT_STARTUP;
	}

	if (!o.no_pid_file) {
		pid_t holder = 0;
		r = pidfile_acquire(d.paths.pid_file, &pidf, &holder);
		if (r == -EEXIST) {
			if (holder)
				log_errx("iscsid is already running (pid %ld holds %s)", (long)holder,
					 d.paths.pid_file);
			else
				log_errx("iscsid is already running (%s is locked)", d.paths.pid_file);
			return EXIT_STARTUP;
		}
		if (r < 0) {
			log_errx("cannot create pid file %s: %s", d.paths.pid_file, strerror(-r));
			return EXIT_STARTUP;
		}
	}

	r = sdnotify_listen_fd(&listen_fd);
	if (r < 0) {
		log_errx("socket activation: descriptor %d is not a listening UNIX stream socket",
			 SDNOTIFY_LISTEN_FDS_START);
		goto fail_pid;
	}
	activated = r > 0;
	if (!activated && ctl_socket_open(d.paths.control_socket, d.allow_gid, &listen_fd, err, sizeof(err)) < 0) {
		log_errx("%s", err);
		goto fail_pid;
	}

	if (!o.foreground) {
		ready_fd = daemonize();
		if (ready_fd < 0) {
			log_errx("cannot become a daemon: %s", strerror(-ready_fd));
			goto fail_socket;
		}
		log_init(false, o.debug);
	}
	if (pidf && (r = pidfile_write(pidf)) < 0) {
		log_errx("cannot write pid file %s: %s", d.paths.pid_file, strerror(-r));
		goto fail_socket;
	}

	lock_memory();
	r = loop_new(&d.loop);
	if (r < 0) {
		log_errx("cannot set up the event loop: %s", strerror(-r));
		goto fail_socket;
	}
	if (loop_signal(d.loop, SIGTERM, on_stop_signal, &d) < 0 ||
	    loop_signal(d.loop, SIGINT, on_stop_signal, &d) < 0 ||
	    loop_signal(d.loop, SIGHUP, on_sighup, &d) < 0) {
		log_err("cannot set up signal handling");
		goto fail_loop;
	}
	struct carrier_kernel_config kcfg = {
		.sysfs_root = o.sysfs_root,
		.modprobe = o.modprobe,
		.daemon = &d,
	};
	struct carrier_uspace_config ucfg = { .daemon = &d };
	struct carrier *kernel = NULL, *uspace = NULL;
	r = session_layer_new(d.loop, &d.sessions);
	if (r >= 0) {
		d.sessions->login_wanted = iscsid_login_wanted;
		d.sessions->login_wanted_data = &d;
		r = carrier_kernel_new(d.loop, &kcfg, &kernel);
		if (r >= 0 && (r = session_layer_add_carrier(d.sessions, kernel)) < 0)
			kernel->ops->free(kernel);
	}
	/* sessions in userspace processes (libiscsi): iface.transport_name = uspace */
	if (r >= 0) {
		r = carrier_uspace_new(d.loop, &ucfg, &uspace);
		if (r >= 0 && (r = session_layer_add_carrier(d.sessions, uspace)) < 0)
			uspace->ops->free(uspace);
	}
	/* after the carriers: the layer tells the metrics about changes */
	if (r >= 0 && (r = metrics_new(d.loop, d.sessions, &d.metrics)) >= 0)
		metrics_configure(d.metrics, d.config.metrics_dir, d.config.metrics_interval);
	if (r < 0) {
		log_errx("cannot set up the session layer: %s", strerror(-r));
		goto fail_transport;
	}
	struct ctl_auth auth = { .uid_only = d.config.ipc_auth_uid, .allow_gid = d.allow_gid };
	r = control_new(d.loop, listen_fd, NULL, &auth, iscsid_dispatch, &d, &d.ctl);
	if (r < 0) {
		log_errx("cannot serve the control socket: %s", strerror(-r));
		goto fail_transport;
	}
	/* Each carrier says whether it is usable and takes over the sessions
	 * that outlived the previous iscsid; the kernel's check may load a
	 * module: it runs in the background. */
	d.adopting = true;
	if (session_adopt_all(d.sessions, iscsid_adopted, &d) < 0) {
		d.adopting = false;
		log_warnx("cannot check the iSCSI transports");
	}

	/* registration with an iSNS server (isns.address), in the background */
	if (isns_client_new(&d, &d.isns) < 0)
		log_errx("cannot set up the iSNS client: out of memory; isns.address is not used");
	else
		isns_client_configure(d.isns);

	log_info("iscsid %s ready: control socket %s (protocol %d)", PACKAGE_VERSION,
		 activated ? "passed by systemd" : d.paths.control_socket, IPC_PROTO_VERSION);
	sdnotify_send("READY=1\nSTATUS=Ready");
	if (ready_fd >= 0) {
		ssize_t n = write(ready_fd, "1", 1);
		(void)n;
		close(ready_fd);
	}

	r = loop_run(d.loop);
	if (r < 0)
		log_errx("event loop failed: %s", strerror(-r));

	sdnotify_send("STOPPING=1\nSTATUS=Stopping");
	if (!activated)
		ctl_socket_unlink(d.paths.control_socket, listen_fd);
	/* No new clients; the carriers answer what is pending ("iscsid is
	 * stopping") while the clients' connections are still there to
	 * carry the answers; then they close. */
	control_stop_accepting(d.ctl);
	iscsid_unpark_all(&d);
	isns_client_stop(d.isns);
	metrics_stop(d.metrics);
	session_layer_free(d.sessions);
	metrics_free(d.metrics);
	isns_client_free(d.isns);
	control_free(d.ctl);
	loop_free(d.loop);
	pidfile_release(pidf);
	log_info("stopped");
	return r < 0 ? EXIT_STARTUP : EXIT_OK;

fail_transport:
	metrics_stop(d.metrics);
	session_layer_free(d.sessions);
	metrics_free(d.metrics);
fail_loop:
	loop_free(d.loop);
fail_socket:
	if (!activated)
		ctl_socket_unlink(d.paths.control_socket, listen_fd);
	close(listen_fd);
fail_pid:
	pidfile_release(pidf);
	return EXIT_STARTUP;
}
