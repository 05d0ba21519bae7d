/* iscsiadm: the command line, open-iscsi's options and modes.
 *
 * main() only parses: every option lands in struct adm, the per-mode
 * whitelist (inventory §1.3) is checked, then the mode's cmd_*() runs. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "adm.h"
#include "errors.h"
#include "ctl.h"
#include "fsutil.h"
#include "secmem.h"

#define SYSFS_ENV_ROOT "ISCSI_SYSFS_ROOT"

enum {
	OPT_ROOT = 0x100,
	OPT_SYSFS,
	OPT_WAIT_DEVICES,
	OPT_ORDERED,
};

static const char short_options[] = "RlDVhjm:a:b:c:C:p:P:T:H:i:I:U:k:L:d:r:n:v:o:sSt:ux:A:W";

static const struct option long_options[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "portal", required_argument, NULL, 'p' },
	{ "targetname", required_argument, NULL, 'T' },
	{ "interface", required_argument, NULL, 'I' },
	{ "op", required_argument, NULL, 'o' },
	{ "type", required_argument, NULL, 't' },
	{ "name", required_argument, NULL, 'n' },
	{ "value", required_argument, NULL, 'v' },
	{ "host", required_argument, NULL, 'H' },
	{ "sid", required_argument, NULL, 'r' },
	{ "rescan", no_argument, NULL, 'R' },
	{ "print", required_argument, NULL, 'P' },
	{ "discover", no_argument, NULL, 'D' },
	{ "login", no_argument, NULL, 'l' },
	{ "loginall", required_argument, NULL, 'L' },
	{ "logout", no_argument, NULL, 'u' },
	{ "logoutall", required_argument, NULL, 'U' },
	{ "stats", no_argument, NULL, 's' },
	{ "killiscsid", required_argument, NULL, 'k' },
	{ "debug", required_argument, NULL, 'd' },
	{ "show", no_argument, NULL, 'S' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "submode", required_argument, NULL, 'C' },
	{ "ip", required_argument, NULL, 'a' },
	{ "packetsize", required_argument, NULL, 'b' },
	{ "count", required_argument, NULL, 'c' },
	{ "interval", required_argument, NULL, 'i' },
	{ "index", required_argument, NULL, 'x' },
	{ "portal_type", required_argument, NULL, 'A' },
	{ "no_wait", no_argument, NULL, 'W' },
	{ "json", no_argument, NULL, 'j' },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "wait-devices", no_argument, NULL, OPT_WAIT_DEVICES },
	{ "ordered", no_argument, NULL, OPT_ORDERED },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	const char *name;
	enum adm_mode mode;
	const char *allowed;    /* short options besides -m, -j, -h, -V */
} modes[] = {
	{ "discovery", ADM_MODE_DISCOVERY, "DSIPdntplov" },
	{ "discoverydb", ADM_MODE_DISCOVERYDB, "DSIPdntplov" },
	{ "node", ADM_MODE_NODE, "RsPIdlSonvupTULW" },
	{ "session", ADM_MODE_SESSION, "PiRdrusonSv" },
	{ "iface", ADM_MODE_IFACE, "HIdnvPoCabci" },
	{ "fw", ADM_MODE_FW, "dlWnvS" },
	{ "host", ADM_MODE_HOST, "CHdPotnvxA" },
};

static const struct {
	const char *name;
	unsigned op;
} op_names[] = {
	{ "new", ADM_OP_NEW }, { "delete", ADM_OP_DELETE }, { "update", ADM_OP_UPDATE },
	{ "show", ADM_OP_SHOW }, { "nonpersistent", ADM_OP_NONPERSISTENT },
	{ "apply", ADM_OP_APPLY }, { "applyall", ADM_OP_APPLYALL },
	{ "login", ADM_OP_LOGIN }, { "logout", ADM_OP_LOGOUT },
};

static void usage(FILE *f)
{
	fputs("iscsiadm -m discoverydb [-hV] [-d debug_level] [-P printlevel] [-t type -p ip:port -I ifaceN ... [-Dl]] | [[-p ip:port -t type] [-o operation] [-n name] [-v value] [-lD]]\n"
	      "iscsiadm -m discovery [-hV] [-d debug_level] [-P printlevel] [-t type -p ip:port -I ifaceN ... [-l]] | [[-p ip:port] [-l | -D]]\n"
	      "iscsiadm -m node [-hV] [-d debug_level] [-P printlevel] [-L all,manual,automatic,onboot] [-W] [-U all,manual,automatic] [-S] [[-T targetname -p ip:port -I ifaceN] [-l | -u | -R | -s]] [[-o operation ] [-n name] [-v value]]\n"
	      "iscsiadm -m session [-hV] [-d debug_level] [-P printlevel] [-r sessionid | sysfsdir [-R | -u | -s] [-o operation] [-n name] [-v value]]\n"
	      "iscsiadm -m iface [-hV] [-d debug_level] [-P printlevel] [-I ifacename | -H hostno|MAC] [[-o operation ] [-n name] [-v value]]\n"
	      "iscsiadm -m fw [-d debug_level] [-l] [-W] [-S] [[-n name] [-v value]]\n"
	      "iscsiadm -m host [-P printlevel] [-H hostno|MAC]\n"
	      "iscsiadm -k priority\n"
	      "\n"
	      "Options this iscsiadm adds (any mode):\n"
	      "  -j, --json        print listings and records as JSON\n"
	      "  --root DIR        keep iscsid.conf, initiatorname.iscsi, the node\n"
	      "                    database, the lock and iscsid's socket under DIR\n"
	      "                    (also $ISCSI_ROOT)\n"
	      "  --sysfs DIR       read sessions, hosts and the boot firmware table\n"
	      "                    (DIR/firmware/ibft) from DIR instead of /sys\n"
	      "                    (also $ISCSI_SYSFS_ROOT)\n"
	      "Options this iscsiadm adds to -m node -l / -L:\n"
	      "  --wait-devices    return once every disk of the session has its /dev\n"
	      "                    node, and print the disks' names\n"
	      "  --ordered         log in to all, then attach the disks one session at\n"
	      "                    a time, sorted by target, portal and iface, so that\n"
	      "                    sdX names come out the same on every boot\n", f);
}

static void try_help(void)
{
	fputs("Try `iscsiadm --help' for more information.\n", stderr);
}

/* Strict decimal within [lo, hi]. */
static int parse_int(const char *s, long lo, long hi, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

static int kill_iscsid(struct adm *a, const char *prio)
{
	int p;

	if (parse_int(prio, INT_MIN, INT_MAX, &p) || p != 0) {
		adm_err("Invalid iscsid priority %s. Priority must be 0.", prio);
		return ISCSI_ERR_INVAL;
	}
	int r = paths_init(&a->paths, a->root);
	if (r) {
		adm_err("invalid --root: %s", strerror(-r));
		return ISCSI_ERR_INVAL;
	}
	return ctl_stop_daemon(a);
}

static int run(struct adm *a, int argc, char **argv)
{
	bool seen[128] = { false };
	const char *mode_name = NULL, *kill_prio = NULL;
	int opt, r, p;

	a->print_level = -1;
	opterr = 0;

	while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		if (opt > 0 && opt < 128)
			seen[opt] = true;
		switch (opt) {
		case 'm':
			mode_name = optarg;
			break;
		case 'o': {
			size_t i;
			for (i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
				if (!strcmp(optarg, op_names[i].name))
					break;
			if (i == sizeof(op_names) / sizeof(op_names[0])) {
				adm_err("can not recognize operation: '%s'", optarg);
				return ISCSI_ERR_INVAL;
			}
			a->ops |= op_names[i].op;
			break;
		}
		case 'n':
			if (a->n_params == ADM_MAX_PARAMS) {
				adm_err("too many -n options (at most %d)", ADM_MAX_PARAMS);
				return ISCSI_ERR_INVAL;
			}
			a->params[a->n_params++].name = optarg;
			break;
		case 'v':
			if (a->n_params == 0 || a->params[a->n_params - 1].value) {
				adm_err("value '%s' has no name: give -n name before -v value", optarg);
				return ISCSI_ERR_INVAL;
			}
			a->params[a->n_params - 1].value = optarg;
			break;
		case 'T':
			a->target = optarg;
			break;
		case 'p':
			a->portal_arg = optarg;
			break;
		case 'I':
			if (a->n_ifaces == ADM_MAX_IFACES) {
				adm_err("too many -I options (at most %d)", ADM_MAX_IFACES);
				return ISCSI_ERR_INVAL;
			}
			a->ifaces[a->n_ifaces++] = optarg;
			break;
		case 't':
			a->disc_type = optarg;
			break;
		case 'r':
			a->sid_arg = optarg;
			break;
		case 'H':
			a->host_arg = optarg;
			break;
		case 'C':
			a->submode = optarg;
			break;
		case 'L':
			a->loginall = optarg;
			break;
		case 'U':
			a->logoutall = optarg;
			break;
		case 'P':
			if (parse_int(optarg, 0, 100, &p)) {
				adm_err("Invalid print level '%s'.", optarg);
				return ISCSI_ERR_INVAL;
			}
			a->print_level = p;
			break;
		case 'd':
			if (parse_int(optarg, 0, 8, &p)) {
				adm_err("Invalid debug level '%s'. Try 0 to 8.", optarg);
				return ISCSI_ERR_INVAL;
			}
			a->debug = p;
			break;
		case 'k':
			kill_prio = optarg;
			break;
		case 'D': a->discover = true; break;
		case 'l': a->login = true; break;
		case 'u': a->logout = true; break;
		case 'R': a->rescan = true; break;
		case 's': a->stats = true; break;
		case 'S': a->show_secrets = true; break;
		case 'W': a->no_wait = true; break;
		case 'j': a->json = true; break;
		case 'a': case 'b': case 'c': case 'i': case 'x': case 'A':
			/* offload HBA parameters (ping, CHAP table, flash
			 * nodes): accepted by the parser, refused by the modes */
			break;
		case OPT_ROOT:
			a->root = optarg;
			break;
		case OPT_SYSFS:
			a->sysfs_root = optarg;
			break;
		case OPT_WAIT_DEVICES:
			a->wait_devices = true;
			break;
		case OPT_ORDERED:
			a->ordered = true;
			break;
		case 'V':
			printf("iscsiadm version %s\n", ADM_VERSION_STRING);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (optopt > 0 && optopt < 128 && strchr(short_options, optopt))
				adm_err("option '-%c' requires an argument", optopt);
			else if (optopt)
				adm_err("unrecognized character '%c'", optopt);
			else
				adm_err("unrecognized option '%s'", argv[optind - 1]);
			try_help();
			return ISCSI_ERR_INVAL;
		}
	}
	if (optind < argc) {
		adm_err("unexpected argument '%s'", argv[optind]);
		try_help();
		return ISCSI_ERR_INVAL;
	}
	/* A -n without -v: open-iscsi keeps only complete pairs, so where
	 * nothing is set (a listing, show, delete, a login) it is ignored;
	 * update and new, which set values, say what is missing. */
	size_t kept = 0;
	for (size_t i = 0; i < a->n_params; i++) {
		if (a->params[i].value) {
			a->params[kept++] = a->params[i];
			continue;
		}
		if (a->ops & (ADM_OP_UPDATE | ADM_OP_NEW)) {
			adm_err("name '%s' has no value: give -v value after -n name", a->params[i].name);
			return ISCSI_ERR_INVAL;
		}
	}
	a->n_params = kept;
	if (!a->sysfs_root) {
		const char *e = getenv(SYSFS_ENV_ROOT);
		if (e && *e)
			a->sysfs_root = e;
	}
	/* many parallel logins (one control connection each) and
	 * discovery sockets, as open-iscsi allows (toward 16384) */
	(void)fs_raise_nofile(16384);

	/* -k alone stops iscsid; beside a mode it is refused below like
	 * any option the mode does not take (open-iscsi 2.1.8 answers
	 * "-m session -k 0" with exit 7 and stops nothing). */
	if (kill_prio && !mode_name)
		return kill_iscsid(a, kill_prio);

	if (!mode_name) {
		try_help();
		return ISCSI_ERR_INVAL;
	}
	size_t m;
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		if (!strcmp(mode_name, modes[m].name))
			break;
	if (m == sizeof(modes) / sizeof(modes[0])) {
		adm_err("unknown mode '%s': use discovery, discoverydb, node, session, iface, fw or host",
			mode_name);
		return ISCSI_ERR_INVAL;
	}
	a->mode = modes[m].mode;
	if ((a->wait_devices || a->ordered) && a->mode != ADM_MODE_NODE) {
		adm_err("--wait-devices and --ordered go with -m node --login/--loginall");
		return ISCSI_ERR_INVAL;
	}
	for (int c = 1; c < 128; c++) {
		if (!seen[c] || strchr("mjhV", c))
			continue;
		if (!strchr(modes[m].allowed, c)) {
			adm_err("%s mode: option '-%c' is not allowed/supported", modes[m].name, c);
			return ISCSI_ERR_INVAL;
		}
	}

	r = paths_init(&a->paths, a->root);
	if (r) {
		const char *root = a->root ? a->root : getenv(PATHS_ENV_ROOT);
		adm_err("cannot use root directory '%s': %s", root ? root : "",
			r == -EINVAL ? "not an absolute path" : strerror(-r));
		return ISCSI_ERR_INVAL;
	}
	if (a->portal_arg) {
		char why[128];
		if (portal_parse(a->portal_arg, &a->portal, why, sizeof(why))) {
			adm_err("invalid portal '%s': %s", a->portal_arg, why);
			adm_err("Please specify portal as <ipaddr>[:<ipport>]");
			return ISCSI_ERR_INVAL;
		}
	}
	for (size_t i = 0; i < a->n_ifaces; i++)
		if (!rec_iface_name_valid(a->ifaces[i])) {
			adm_err("invalid iface name '%s': 1 to %d characters of letters, digits, '_', '.', ':', '-'",
				a->ifaces[i], REC_IFACE_NAME_MAX);
			return ISCSI_ERR_INVAL;
		}

	switch (a->mode) {
	case ADM_MODE_DISCOVERY:
		r = cmd_discovery(a);
		break;
	case ADM_MODE_DISCOVERYDB:
		r = cmd_discoverydb(a);
		break;
	case ADM_MODE_NODE:
		r = cmd_node(a);
		break;
	case ADM_MODE_SESSION:
		r = cmd_session(a);
		break;
	case ADM_MODE_IFACE:
		r = cmd_iface(a);
		break;
	case ADM_MODE_HOST:
		r = cmd_host(a);
		break;
	case ADM_MODE_FW:
		r = cmd_fw(a);
		break;
	default:
		r = ISCSI_ERR_INVAL;
		break;
	}
	return r;
}

int main(int argc, char **argv)
{
	struct adm *a;
	int r;

	umask(0077);
	/* records and iscsid.conf hold CHAP secrets: no core dumps */
	(void)secmem_protect_process();
	a = calloc(1, sizeof(*a));
	if (!a) {
		adm_err("out of memory");
		return ISCSI_ERR_NOMEM;
	}
	r = run(a, argc, argv);
	/* iscsid.conf defaults may hold discovery CHAP secrets */
	explicit_bzero(a, sizeof(*a));
	free(a);
	if (fflush(stdout) && r == 0)
		r = ISCSI_ERR;
	return r;
}
