/* iscsistart: open-iscsi's command line for boot-time logins (see
 * iscsistart.h and iscsistart(8)).
 *
 * As open-iscsi's: -N, -f, -h and -v act as soon as the parser meets
 * them (later options are not read); everything else is collected and
 * acted on at the end. Secrets given with -w, -W or -P ...password=...
 * are copied and wiped from argv as the parser meets them, so they stay
 * in /proc/<pid>/cmdline only until the program starts running. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"
#include "ibft.h"
#include "iscsistart.h"
#include "names.h"
#include "netcfg.h"
#include "paths.h"
#include "secmem.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0"
#endif
#ifndef ISCSISTART_SBINDIR
#define ISCSISTART_SBINDIR "/usr/sbin"
#endif

enum {
	OPT_SYSFS = 0x100,
	OPT_ISCSID,
	OPT_MODPROBE,
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "initiatorname", required_argument, NULL, 'i' },
	{ "targetname", required_argument, NULL, 't' },
	{ "tgpt", required_argument, NULL, 'g' },
	{ "address", required_argument, NULL, 'a' },
	{ "port", required_argument, NULL, 'p' },
	{ "username", required_argument, NULL, 'u' },
	{ "password", required_argument, NULL, 'w' },
	{ "username_in", required_argument, NULL, 'U' },
	{ "password_in", required_argument, NULL, 'W' },
	{ "debug", required_argument, NULL, 'd' },
	{ "fwparam_connect", no_argument, NULL, 'b' },
	{ "fwparam_network", no_argument, NULL, 'N' },
	{ "fwparam_print", no_argument, NULL, 'f' },
	{ "param", required_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'v' },
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "iscsid", required_argument, NULL, OPT_ISCSID },
	{ "modprobe", required_argument, NULL, OPT_MODPROBE },
	{ NULL, 0, NULL, 0 },
};

struct param {
	char name[REC_EXTRA_KEY_SIZE];
	char value[REC_AUTH_SIZE];      /* may be a secret */
};

struct opts {
	const char *config;
	const char *iname;
	const char *target;
	const char *tpgt;
	const char *address;
	const char *port;
	char username[REC_AUTH_SIZE];
	char password[REC_AUTH_SIZE];
	char username_in[REC_AUTH_SIZE];
	char password_in[REC_AUTH_SIZE];
	int debug;
	bool firmware;
	struct param params[ISCSISTART_MAX_PARAMS];
	size_t n_params;
	const char *sysfs;
	const char *iscsid;
	const char *modprobe;
};

static void usage(void)
{
	printf("Usage: iscsistart [OPTION]\n"
	       "iSCSI boot login (logs in without a running iscsid).\n"
	       "  -c, --config=[path]      set config file (default " PATHS_DEFAULT_CONFIG_DIR "/iscsid.conf).\n"
	       "  -i, --initiatorname=name set InitiatorName to name (Required)\n"
	       "  -t, --targetname=name    set TargetName to name (Required)\n"
	       "  -g, --tgpt=N             set target portal group tag to N (Required)\n"
	       "  -a, --address=A.B.C.D    set IP address to A.B.C.D (Required)\n"
	       "  -p, --port=N             set port to N (Default 3260)\n"
	       "  -u, --username=N         set username to N (optional)\n"
	       "  -w, --password=N         set password to N (optional)\n"
	       "  -U, --username_in=N      set incoming username to N (optional)\n"
	       "  -W, --password_in=N      set incoming password to N (optional)\n"
	       "  -d, --debug=debuglevel   print debugging information\n"
	       "  -b, --fwparam_connect    create a session to the target using iBFT\n"
	       "  -N, --fwparam_network    bring up the network as specified by iBFT\n"
	       "  -f, --fwparam_print      print the iBFT info to STDOUT\n"
	       "  -P, --param=NAME=VALUE   set parameter with the name NAME to VALUE\n"
	       "  -h, --help               display this help and exit\n"
	       "  -v, --version            display version and exit\n"
	       "Options this iscsistart adds:\n"
	       "      --sysfs=DIR          read the firmware table and sessions from DIR\n"
	       "                           instead of /sys (also $ISCSI_SYSFS_ROOT)\n"
	       "      --iscsid=PATH        the iscsid that performs the login (default: the\n"
	       "                           one next to iscsistart, else " ISCSISTART_SBINDIR "/iscsid)\n"
	       "      --modprobe=PROG      how that iscsid loads iscsi_tcp (\"\" = never)\n");
}

static void try_help(void)
{
	fputs("Try `iscsistart --help' for more information.\n", stderr);
}

/* Overwrites a command line argument (what /proc/<pid>/cmdline shows). */
static void wipe_arg(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

static int copy_secret(char *dst, size_t cap, char *arg, const char *what)
{
	size_t n = strlen(arg);

	if (n >= cap) {
		wipe_arg(arg);
		start_err("invalid %s. Max %s length is %zu.", what, what, cap - 1);
		return ISCSI_ERR_INVAL;
	}
	memcpy(dst, arg, n + 1);
	wipe_arg(arg);
	return 0;
}

static int parse_num(const char *s, long lo, long hi, int *ret)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

static int add_param(struct opts *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || !eq[1]) {
		/* open-iscsi's words; the value is not shown (it may be a
		 * password) */
		start_err("Invalid --param %.*s. Missing value.", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		wipe_arg(arg);
		return ISCSI_ERR_INVAL;
	}
	if (o->n_params == ISCSISTART_MAX_PARAMS) {
		wipe_arg(arg);
		start_err("too many --param options (at most %d)", ISCSISTART_MAX_PARAMS);
		return ISCSI_ERR_INVAL;
	}
	struct param *p = &o->params[o->n_params];
	size_t nl = (size_t)(eq - arg), vl = strlen(eq + 1);
	if (nl >= sizeof(p->name) || vl >= sizeof(p->value)) {
		wipe_arg(arg);
		start_err("Invalid --param: %s too long", nl >= sizeof(p->name) ? "name" : "value");
		return ISCSI_ERR_INVAL;
	}
	memcpy(p->name, arg, nl);
	p->name[nl] = '\0';
	memcpy(p->value, eq + 1, vl + 1);
	if (rec_key_secret(REC_KIND_NODE, p->name))
		wipe_arg(eq + 1);
	o->n_params++;
	return 0;
}

/* -P on a record, then open-iscsi's boot defaults for what -P left
 * alone: 30 login retries (the network may still be coming up), no
 * NOP-Outs (nobody would answer a failed one once iscsistart is gone),
 * scan auto. */
static int apply_params(const struct opts *o, struct node_rec *rec)
{
	bool retry = false, nopi = false, nopt = false, scan = false;
	char err[256];

	for (size_t i = 0; i < o->n_params; i++) {
		const char *k = o->params[i].name;
		int r;
		if (!strcmp(k, "node.name") || !strcmp(k, "node.tpgt") || !strcmp(k, "node.conn[0].address") ||
		    !strcmp(k, "node.conn[0].port")) {
			start_err("invalid --param %s: give it with -t, -g, -a or -p", k);
			return ISCSI_ERR_INVAL;
		}
		if (!strncmp(k, "iface.", 6)) {
			/* the iface is made on the fly: its keys may be set;
			 * a new device or MAC replaces the other binding */
			if (!strcmp(k, "iface.net_ifacename"))
				rec->iface.hwaddress[0] = '\0';
			else if (!strcmp(k, "iface.hwaddress"))
				rec->iface.netdev[0] = '\0';
			r = rec_set(REC_KIND_IFACE, &rec->iface, k, o->params[i].value, REC_SET_CONFIG, err,
				    sizeof(err));
		} else {
			r = rec_set(REC_KIND_NODE, rec, k, o->params[i].value, REC_SET_UPDATE, err, sizeof(err));
		}
		if (r) {
			start_err("invalid --param %s: %s", k, err);
			return ISCSI_ERR_INVAL;
		}
		retry |= !strcmp(k, "node.session.initial_login_retry_max");
		nopi |= !strcmp(k, "node.conn[0].timeo.noop_out_interval");
		nopt |= !strcmp(k, "node.conn[0].timeo.noop_out_timeout");
		scan |= !strcmp(k, "node.session.scan");
	}
	if (!retry)
		rec->session.initial_login_retry_max = 30;
	if (!nopi)
		rec->conn.noop_out_interval = 0;
	if (!nopt)
		rec->conn.noop_out_timeout = 0;
	if (!scan)
		rec->session.scan = REC_SCAN_AUTO;
	return 0;
}

static int load_config(const struct opts *o, struct iscsi_config *ret)
{
	struct iscsi_paths paths;
	struct rec_diags d;
	const char *path = o->config;

	if (!path) {
		if (paths_init(&paths, NULL) < 0) {
			start_err("invalid $%s", PATHS_ENV_ROOT);
			return ISCSI_ERR_INVAL;
		}
		path = paths.config_file;
	}
	rec_diags_init(&d);
	int r = config_load(path, ret, &d);
	for (size_t i = 0; i < d.n; i++) {
		char line[512];
		if (d.v[i].level == REC_DIAG_WARNING && o->debug < 1)
			continue;
		rec_diag_format(&d.v[i], line, sizeof(line));
		start_err("%s", line);
	}
	rec_diags_free(&d);
	if (r && r != -ENOENT) {
		start_err("could not read %s: %s", path, r == -EINVAL ? "invalid content (see above)" : strerror(-r));
		return ISCSI_ERR_IDBM;
	}
	return 0;
}

/* ---- the firmware ---- */

static int fw_read(const struct opts *o, struct ibft *t, const char *none)
{
	struct rec_diags d;
	char line[PATH_MAX + 300];

	rec_diags_init(&d);
	int r = ibft_read(o->sysfs, t, &d);
	for (size_t i = 0; i < d.n; i++) {
		if (d.v[i].level == REC_DIAG_WARNING && o->debug < 1)
			continue;
		rec_diag_format(&d.v[i], line, sizeof(line));
		start_err("%s", line);
	}
	rec_diags_free(&d);
	if (r == -ENOENT || (r == 0 && t->n_targets == 0)) {
		ibft_free(t);
		start_err("%s", none);
		return ISCSI_ERR_NO_OBJS_FOUND;
	}
	if (r < 0) {
		start_err("cannot read the boot firmware table %s/%s: %s", o->sysfs ? o->sysfs : "/sys", IBFT_DIR,
			  strerror(-r));
		return r == -EACCES || r == -EPERM ? ISCSI_ERR_ACCESS : ISCSI_ERR_SYSFS_LOOKUP;
	}
	return 0;
}

static int fw_print(const struct opts *o)
{
	struct ibft t;
	int r = fw_read(o, &t, "Could not get list of targets from firmware.");

	if (r)
		return r;
	for (size_t i = 0; i < t.n_targets && !r; i++)
		if (ibft_target_fprint(&t, i, false, stdout) < 0)
			r = ISCSI_ERR;
	ibft_free(&t);
	return r;
}

/* -N: every NIC a target uses, once. */
static int fw_network(const struct opts *o)
{
	struct ibft t;
	int r = fw_read(o, &t, "Could not setup fw entries."), first = 0;

	if (r)
		return r;
	for (size_t i = 0; i < t.n_targets; i++) {
		const struct ibft_target *tg = &t.targets[i];
		const struct ibft_nic *n = &t.nics[tg->nic];
		char err[300];
		int prefix = n->prefix_len;

		if (!n->netdev[0]) {
			start_err("no network device has the firmware's MAC address %s (ethernet%u)", n->mac,
				  n->dir_index);
			first = first ? first : ISCSI_ERR;
			continue;
		}
		if (n->vlan > 0 && (n->vlan & 0xfff)) {
			start_err("%s: VLAN %d in the firmware: VLAN devices are not set up by iscsistart", n->netdev,
				  n->vlan & 0xfff);
			first = first ? first : ISCSI_ERR;
			continue;
		}
		if (prefix <= 0 && n->subnet_mask[0])
			prefix = netcfg_mask_to_prefix(n->subnet_mask);
		printf("Setting up software interface %s\n", n->netdev);
		fflush(stdout);
		struct netcfg_req req = {
			.ifname = n->netdev, .address = n->ipaddr, .prefix_len = prefix,
			.gateway = n->gateway, .target = tg->ipaddr,
		};
		/* two targets on one NIC: the address is set again (no
		 * change), each gets its route */
		r = netcfg_apply(&req, err, sizeof(err));
		if (r) {
			printf("Setting up software interface %s failed\n", n->netdev);
			start_err("%s", err);
			first = first ? first : ISCSI_ERR;
		}
	}
	ibft_free(&t);
	return first;
}

/* ---- main ---- */

static const char *default_iscsid(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		size_t dl = slash ? (size_t)(slash - self) : 0;
		if (slash && dl + sizeof("/iscsid") <= len) {
			memcpy(buf, self, dl);
			memcpy(buf + dl, "/iscsid", sizeof("/iscsid"));
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return ISCSISTART_SBINDIR "/iscsid";
}

/* The records to log in to: the firmware's targets (-b) or the one of
 * the command line. */
static int build_records(struct opts *o, struct node_rec **ret, size_t *ret_n, char *iname, size_t inamelen)
{
	struct iscsi_config cfg;
	struct node_rec *recs = NULL;
	size_t n = 0;
	char why[256];
	int r = load_config(o, &cfg);

	if (r)
		return r;
	if (o->firmware) {
		struct ibft t;
		r = fw_read(o, &t, "Could not get boot entry.");
		if (r)
			return r;
		recs = calloc(t.n_targets, sizeof(*recs));
		if (!recs) {
			ibft_free(&t);
			return ISCSI_ERR_NOMEM;
		}
		for (size_t i = 0; i < t.n_targets; i++) {
			if (ibft_target_rec(&t, i, &cfg.node, &recs[n], why, sizeof(why)) < 0) {
				start_err("Could not convert firmware info to node record: %s", why);
				continue;
			}
			n++;
		}
		if (!o->iname)
			snprintf(iname, inamelen, "%s", t.initiator_name);
		ibft_free(&t);
	} else {
		int tpgt = 0, port = PORTAL_DEFAULT_PORT;
		char addr[REC_HOST_SIZE];
		if (parse_num(o->tpgt, 0, 65535, &tpgt) < 0) {
			start_err("invalid portal group tag '%s': a number from 0 to 65535", o->tpgt);
			return ISCSI_ERR_INVAL;
		}
		if (o->port && parse_num(o->port, 1, 65535, &port) < 0) {
			start_err("invalid port '%s': a number from 1 to 65535", o->port);
			return ISCSI_ERR_INVAL;
		}
		/* a bracketed IPv6 address is taken as well */
		size_t al = strlen(o->address);
		if (al >= 2 && o->address[0] == '[' && o->address[al - 1] == ']')
			snprintf(addr, sizeof(addr), "%.*s", (int)(al - 2), o->address + 1);
		else
			snprintf(addr, sizeof(addr), "%s", o->address);
		recs = calloc(1, sizeof(*recs));
		if (!recs)
			return ISCSI_ERR_NOMEM;
		if (node_rec_from_template(&cfg.node, o->target, addr, port, tpgt, NULL, &recs[0], why, sizeof(why))) {
			start_err("%s", why);
			free(recs);
			return ISCSI_ERR_INVAL;
		}
		struct rec_auth *a = &recs[0].session.auth;
		memcpy(a->username, o->username, sizeof(a->username));
		memcpy(a->password, o->password, sizeof(a->password));
		memcpy(a->username_in, o->username_in, sizeof(a->username_in));
		memcpy(a->password_in, o->password_in, sizeof(a->password_in));
		a->authmethod = a->username[0] || a->password[0] ? REC_AUTH_CHAP : REC_AUTH_NONE;
		recs[0].startup = recs[0].conn.startup = REC_STARTUP_ONBOOT;
		n = 1;
	}
	if (o->iname)
		snprintf(iname, inamelen, "%s", o->iname);
	explicit_bzero(&cfg, sizeof(cfg));
	for (size_t i = 0; i < n; i++) {
		snprintf(recs[i].iface.iname, sizeof(recs[i].iface.iname), "%s", iname);
		r = apply_params(o, &recs[i]);
		if (r) {
			explicit_bzero(recs, n * sizeof(*recs));
			free(recs);
			return r;
		}
	}
	*ret = recs;
	*ret_n = n;
	return 0;
}

static int check_static(const struct opts *o)
{
	char why[200];

	/* open-iscsi's order and words */
	if (!o->iname) {
		start_err("InitiatorName not set. Exiting iscsistart");
		return ISCSI_ERR_INVAL;
	}
	if (!o->tpgt) {
		start_err("Portal Group not set. Exiting iscsistart");
		return ISCSI_ERR_INVAL;
	}
	if (!o->target) {
		start_err("TargetName not set. Exiting iscsistart");
		return ISCSI_ERR_INVAL;
	}
	if (!o->address) {
		start_err("IP Address not set. Exiting iscsistart");
		return ISCSI_ERR_INVAL;
	}
	if (name_validate(o->target, why, sizeof(why)) < 0) {
		start_err("invalid target name: %s", why);
		return ISCSI_ERR_INVAL;
	}
	return 0;
}

static int run(struct opts *o, int argc, char **argv)
{
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:P:i:t:g:a:p:d:u:w:U:W:bNfvh", long_options, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'i': o->iname = optarg; break;
		case 't':
			if (strlen(optarg) > NAME_MAX_LEN) {
				start_err("invalid targetname %.40s... Max targetname length is %d.", optarg, NAME_MAX_LEN);
				return ISCSI_ERR_INVAL;
			}
			o->target = optarg;
			break;
		case 'g': o->tpgt = optarg; break;
		case 'a':
			if (strlen(optarg) >= REC_HOST_SIZE) {
				start_err("invalid address %.40s... Max address length is %d.", optarg, REC_HOST_SIZE - 1);
				return ISCSI_ERR_INVAL;
			}
			o->address = optarg;
			break;
		case 'p': o->port = optarg; break;
		case 'u':
			if ((r = copy_secret(o->username, sizeof(o->username), optarg, "username")))
				return r;
			break;
		case 'w':
			if ((r = copy_secret(o->password, sizeof(o->password), optarg, "password")))
				return r;
			break;
		case 'U':
			if ((r = copy_secret(o->username_in, sizeof(o->username_in), optarg, "username_in")))
				return r;
			break;
		case 'W':
			if ((r = copy_secret(o->password_in, sizeof(o->password_in), optarg, "password_in")))
				return r;
			break;
		case 'd':
			if (parse_num(optarg, 0, 8, &o->debug) < 0) {
				start_err("invalid debug level '%s': 0 to 8", optarg);
				return ISCSI_ERR_INVAL;
			}
			break;
		case 'b': o->firmware = true; break;
		case 'N': return fw_network(o);
		case 'f': return fw_print(o);
		case 'P':
			if ((r = add_param(o, optarg)))
				return r;
			break;
		case OPT_SYSFS: o->sysfs = optarg; break;
		case OPT_ISCSID: o->iscsid = optarg; break;
		case OPT_MODPROBE: o->modprobe = optarg; break;
		case 'v':
			printf("iscsistart version %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage();
			return 0;
		default:
			if (optopt && strchr("cPitgapdbuwUW", optopt))
				start_err("option '-%c' requires an argument", optopt);
			else if (optopt)
				start_err("unrecognized option '-%c'", optopt);
			else
				start_err("unrecognized option '%s'", argv[optind - 1]);
			try_help();
			return ISCSI_ERR_INVAL;
		}
	}
	if (optind < argc) {
		start_err("unexpected argument '%s'", argv[optind]);
		try_help();
		return ISCSI_ERR_INVAL;
	}
	if (!o->firmware && (r = check_static(o)))
		return r;
	if (o->iname && name_validate(o->iname, NULL, 0) < 0) {
		char why[200];
		name_validate(o->iname, why, sizeof(why));
		start_err("invalid initiator name: %s", why);
		return ISCSI_ERR_INVAL;
	}

	struct node_rec *recs = NULL;
	size_t n = 0;
	char iname[REC_NAME_SIZE] = "";
	r = build_records(o, &recs, &n, iname, sizeof(iname));
	if (r)
		return r;
	if (!iname[0]) {
		start_err("InitiatorName not set. Exiting iscsistart");
		r = ISCSI_ERR_INVAL;
	} else if (n == 0) {
		start_err("Could not setup fw entries.");
		r = ISCSI_ERR_NO_OBJS_FOUND;
	} else {
		char buf[PATH_MAX];
		struct boot b = {
			.iscsid = o->iscsid ? o->iscsid : default_iscsid(buf, sizeof(buf)),
			.config = o->config,
			.sysfs = o->sysfs,
			.modprobe = o->modprobe,
			.iname = iname,
			.debug = o->debug,
		};
		r = boot_login(&b, recs, n);
	}
	explicit_bzero(recs, n * sizeof(*recs));
	free(recs);
	return r;
}

int main(int argc, char **argv)
{
	struct opts *o;
	int r;

	/* CHAP secrets: no core dumps, no ptrace */
	(void)secmem_protect_process();
	umask(0077);
	o = calloc(1, sizeof(*o));
	if (!o) {
		start_err("out of memory");
		return ISCSI_ERR_NOMEM;
	}
	const char *e = getenv("ISCSI_SYSFS_ROOT");
	if (e && *e)
		o->sysfs = e;
	r = run(o, argc, argv);
	explicit_bzero(o, sizeof(*o));
	free(o);
	if (fflush(stdout) && r == 0)
		r = ISCSI_ERR;
	return r;
}
