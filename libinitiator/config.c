#include "config.h"
#include "fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record_int.h"
#include "secmem.h"

/* Keys newer (or older) open-iscsi versions put in iscsid.conf that this
 * initiator accepts without using them. */
static const char *const accepted_unused[] = {
	"node.session.sess_reopen_log_freq",
	"node.session.conn_reopen_log_freq",
	"node.conn[0].tcp.congestion_control",
	"discovery.sendtargets.timeo.idle_timeout",
	"node.conn[0].timeo.active_timeout",
	"node.conn[0].timeo.idle_timeout",
	"node.conn[0].timeo.ping_timeout",
	"node.session.err_timeo.reset_timeout",
	NULL,
};

void config_init(struct iscsi_config *c)
{
	memset(c, 0, sizeof(*c));
	c->safe_logout = false;
	c->ipc_auth_uid = true;
	c->metrics_interval = CONFIG_METRICS_INTERVAL_DEFAULT;
	c->automatic_login_wait = CONFIG_AUTOMATIC_LOGIN_WAIT;
	c->isns_port = 3205;
	node_rec_init(&c->node);
	discovery_rec_init(&c->sendtargets, REC_DISC_SENDTARGETS);
	discovery_rec_init(&c->isns, REC_DISC_ISNS);
}

static int parse_bool(const char *v, bool *ret)
{
	if (strcasecmp(v, "Yes") == 0)
		*ret = true;
	else if (strcasecmp(v, "No") == 0)
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

/* One "key = value": 0 applied, 1 warning (in err), -1 error (in err). */
static int apply(struct iscsi_config *c, const char *key, const char *value, char *err, size_t errlen)
{
	if (strcmp(key, "iscsid.startup") == 0) {
		if (strlen(value) >= sizeof(c->startup)) {
			snprintf(err, errlen, "iscsid.startup: value too long");
			return -1;
		}
		memcpy(c->startup, value, strlen(value) + 1);
		return 0;
	}
	if (strcmp(key, "iscsid.safe_logout") == 0 || strcmp(key, "iscsid.ipc_auth_uid") == 0) {
		bool *dst = key[7] == 's' ? &c->safe_logout : &c->ipc_auth_uid;
		if (parse_bool(value, dst) < 0) {
			snprintf(err, errlen, "%s: expected Yes or No", key);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "iscsid.metrics_dir") == 0) {
		/* an absolute path, or nothing (off) */
		if (strlen(value) >= sizeof(c->metrics_dir)) {
			snprintf(err, errlen, "%s: value too long", key);
			return -1;
		}
		if (value[0] && value[0] != '/') {
			snprintf(err, errlen, "%s: expected an absolute path", key);
			return -1;
		}
		memcpy(c->metrics_dir, value, strlen(value) + 1);
		return 0;
	}
	if (strcmp(key, "iscsid.metrics_interval") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end || errno || v < CONFIG_METRICS_INTERVAL_MIN ||
		    v > CONFIG_METRICS_INTERVAL_MAX) {
			snprintf(err, errlen, "%s: expected seconds from %d to %d", key, CONFIG_METRICS_INTERVAL_MIN,
				 CONFIG_METRICS_INTERVAL_MAX);
			return -1;
		}
		c->metrics_interval = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "iscsid.automatic_login_wait") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end || errno || v > CONFIG_AUTOMATIC_LOGIN_WAIT_MAX) {
			snprintf(err, errlen, "%s: expected seconds, 0..%d", key, CONFIG_AUTOMATIC_LOGIN_WAIT_MAX);
			return -1;
		}
		c->automatic_login_wait = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "isns.address") == 0) {
		/* as node.conn[0].address: a host name or a numeric address */
		if (value[0] && !rec_address_valid(value)) {
			snprintf(err, errlen, "%s: not a host name or address", key);
			return -1;
		}
		if (strlen(value) >= sizeof(c->isns_address)) {
			snprintf(err, errlen, "%s: value too long", key);
			return -1;
		}
		memcpy(c->isns_address, value, strlen(value) + 1);
		return 0;
	}
	if (strcmp(key, "isns.iface") == 0) {
		if (value[0] && (strlen(value) >= sizeof(c->isns_iface) || !rec_iface_name_valid(value))) {
			snprintf(err, errlen, "%s: not a valid iface name", key);
			return -1;
		}
		memcpy(c->isns_iface, value, strlen(value) + 1);
		return 0;
	}
	if (strcmp(key, "isns.port") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end || errno || v < 1 || v > 65535) {
			snprintf(err, errlen, "%s: expected a TCP port, 1..65535", key);
			return -1;
		}
		c->isns_port = (int)v;
		return 0;
	}
	for (size_t i = 0; accepted_unused[i]; i++) {
		if (strcmp(key, accepted_unused[i]) == 0) {
			snprintf(err, errlen, "%s is not used by this initiator; ignored", key);
			return 1;
		}
	}

	/* node.session.auth.chap_algs sets both the node and the discovery
	 * default, as in open-iscsi (the discovery record stores it under
	 * the node key). */
	bool known = false, ident = false;
	struct {
		enum rec_kind kind;
		void *rec;
	} targets[] = {
		{ REC_KIND_NODE, &c->node },
		{ REC_KIND_DISCOVERY, &c->sendtargets },
		{ REC_KIND_DISCOVERY, &c->isns },
	};
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		size_t base;
		unsigned sflags;
		const struct rec_field *f = rec_schema_find(targets[i].kind, key, &base, &sflags);
		if (!f || (f->flags & REC_F_HIDDEN))
			continue;
		/* Rows belong to one discovery type; the other struct skips. */
		if (targets[i].rec == &c->sendtargets && (f->flags & REC_F_ISNS))
			continue;
		if (targets[i].rec == &c->isns && (f->flags & REC_F_ST))
			continue;
		if ((f->flags & REC_F_IDENT) || (sflags & REC_S_NODE_IFACE)) {
			ident = true;
			continue;
		}
		known = true;
		if (rec_set(targets[i].kind, targets[i].rec, key, value, REC_SET_CONFIG, err, errlen) < 0)
			return -1;
	}
	if (known)
		return 0;
	if (ident) {
		snprintf(err, errlen, "%s cannot have a default (it identifies a record); ignored", key);
		return 1;
	}
	/* The key is quoted in a diagnostic that ends up on a terminal or in
	 * the log: printable ASCII only. */
	char shown[101];
	size_t n = 0;
	for (; key[n] && n < sizeof(shown) - 1; n++)
		shown[n] = (unsigned char)key[n] > 0x20 && (unsigned char)key[n] < 0x7f ? key[n] : '?';
	shown[n] = '\0';
	snprintf(err, errlen, "unknown key %s; ignored", shown);
	return 1;
}

int config_parse(const char *buf, size_t len, const char *name, struct iscsi_config *ret,
		 struct rec_diags *diags)
{
	struct iscsi_config *c;
	char line[CONFIG_LINE_MAX + 1];
	char err[256];
	unsigned lineno = 0;
	bool bad = false;

	if (!ret || (!buf && len))
		return -EINVAL;
	if (len > CONFIG_FILE_MAX) {
		rec_diags_add(diags, REC_DIAG_ERROR, name, 0, "file larger than %d bytes", CONFIG_FILE_MAX);
		return -EINVAL;
	}
	if (len && memchr(buf, '\0', len)) {
		rec_diags_add(diags, REC_DIAG_ERROR, name, 0, "NUL byte in file");
		return -EINVAL;
	}
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	config_init(c);

	size_t off = 0;
	int got;
	while ((got = rec_next_line(buf, len, &off, line, sizeof(line), &lineno, name, diags)) != 0) {
		if (got < 0) {
			bad = true;
			continue;
		}

		char *key, *value;
		int r = rec_split_line(line, &key, &value);
		if (r == 0)
			continue;
		if (r < 0 || !*value) {
			rec_diags_add(diags, REC_DIAG_ERROR, name, lineno, "expected \"key = value\"");
			bad = true;
			continue;
		}
		r = apply(c, key, value, err, sizeof(err));
		if (r < 0) {
			rec_diags_add(diags, REC_DIAG_ERROR, name, lineno, "%s", err);
			bad = true;
		} else if (r > 0) {
			rec_diags_add(diags, REC_DIAG_WARNING, name, lineno, "%s", err);
		}
	}
	explicit_bzero(line, sizeof(line));
	if (!bad)
		memcpy(ret, c, sizeof(*c));
	explicit_bzero(c, sizeof(*c));
	free(c);
	return bad ? -EINVAL : 0;
}

int config_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	size_t cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t len = 0;
	for (;;) {
		if (len == cap) {
			/* The file grew while we read it: never past max + 1. */
			if (cap > max)
				break;
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			/* the text may hold CHAP secrets */
			char *n = secmem_grow(buf, len, cap + 1, ncap + 1);
			if (!n) {
				secmem_free(buf, len);
				close(fd);
				return -ENOMEM;
			}
			buf = n;
			cap = ncap;
		}
		size_t n = 0, want = cap - len;
		int r = fs_read_full(fd, buf + len, want, &n);
		len += n;
		if (r < 0) {
			explicit_bzero(buf, len);
			free(buf);
			close(fd);
			return r;
		}
		if (n < want)
			break;          /* end of file */
	}
	close(fd);
	if (len > max) {
		explicit_bzero(buf, len);
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int config_load(const char *path, struct iscsi_config *ret, struct rec_diags *diags)
{
	char *buf;
	size_t len;

	if (!path || !ret)
		return -EINVAL;
	int r = config_read_file(path, CONFIG_FILE_MAX, &buf, &len);
	if (r == -ENOENT) {
		config_init(ret);
		return -ENOENT;
	}
	if (r == -EFBIG) {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "file larger than %d bytes", CONFIG_FILE_MAX);
		return -EINVAL;
	}
	if (r < 0)
		return r;
	r = config_parse(buf, len, path, ret, diags);
	explicit_bzero(buf, len);
	free(buf);
	return r;
}
