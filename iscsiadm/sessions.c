#include "sessions.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "errors.h"

/* How much of each session sysfs must give: one open per attribute, so
 * a listing of hundreds reads only what it prints. */
static enum sysfs_detail detail_of(const struct adm *a, int level)
{
	if (level < 0)
		return SYSFS_BRIEF;
	if (a->lean_tree && level == 1)
		return SYSFS_TREE;
	return SYSFS_FULL;
}

static void fill_view(struct adm *a, struct sess_view *v, int level, bool show_secrets)
{
	uint32_t *cids = NULL;
	size_t ncid = 0;

	bool brief = level < 0;

	if (sysfs_conn_list(a->sysfs_root, v->s.sid, &cids, &ncid) == 0 && ncid > 0)
		v->have_conn = sysfs_conn_read_detail(a->sysfs_root, v->s.sid, cids[0], detail_of(a, level),
						      &v->c) == 0;
	free(cids);
	if (v->s.host_no != SYSFS_UNSET)
		v->have_host = (brief ? sysfs_host_read_brief : sysfs_host_read)(a->sysfs_root,
										 (uint32_t)v->s.host_no, &v->h) == 0;
	print_transport_from_proc(v->have_host ? v->h.proc_name : "", v->transport, sizeof(v->transport));
	if (!v->transport[0])
		snprintf(v->transport, sizeof(v->transport), "%s", "tcp");
	/* Sessions iscsid did not create (HBA firmware) have no netlink
	 * creator: the kernel records -1. */
	v->flash = v->s.creator == -1;
	if (level >= 3)
		v->luns_ok = sysfs_session_luns(a->sysfs_root, v->s.sid, &v->luns, &v->n_luns) == 0;
	if (level >= 2 && show_secrets)
		v->auth_ok = sysfs_session_auth_read(a->sysfs_root, v->s.sid, &v->auth) == 0;
}

/* iscsid's states of the sessions it knows. Not running is not an
 * error here: the states print "Unknown", as open-iscsi does. */
static void add_states(struct sess_view *v, size_t n, const struct ctl_state *st, size_t nst)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nst; k++)
			if (st[k].sid == v[i].s.sid) {
				if (st[k].conn_state[0] || !v[i].uspace)
					snprintf(v[i].conn_state, sizeof(v[i].conn_state), "%s", st[k].conn_state);
				snprintf(v[i].iscsid_state, sizeof(v[i].iscsid_state), "%s", st[k].session_state);
			}
}

static int cmp_sid(const void *x, const void *y)
{
	const struct sess_view *a = x, *b = y;
	return (a->s.sid > b->s.sid) - (a->s.sid < b->s.sid);
}

int sessions_load(struct adm *a, int level, bool show_secrets, struct sess_view **ret, size_t *ret_n)
{
	uint32_t *sids = NULL;
	size_t n = 0, k = 0;
	int r = sysfs_session_list(a->sysfs_root, &sids, &n);

	if (r) {
		adm_err("Can not get list of active sessions: %s", strerror(-r));
		return ISCSI_ERR_SYSFS_LOOKUP;
	}
	struct sess_view *v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		free(sids);
		return ISCSI_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		/* A session may vanish between listing and reading. */
		if (sysfs_session_read_detail(a->sysfs_root, sids[i], detail_of(a, level), &v[k].s))
			continue;
		fill_view(a, &v[k], level, show_secrets);
		k++;
	}
	free(sids);
	/* sysfs has no uspace sessions: the run directory has them (what
	 * runs, as sysfs says for the kernel), and from -P 1 on iscsid's
	 * view is merged in. The flat listing, logins and logouts do not
	 * wait for iscsid, as they never did for kernel sessions (a stopped
	 * daemon would hold them up for its answer timeout). */
	struct ctl_state *st = NULL;
	size_t nst = 0, nk = k;
	if (level < 1 || ctl_session_states(a, &st, &nst)) {
		st = NULL;
		nst = 0;
	}
	if (sessions_uspace_add(a, level, st, nst, &v, &k) < 0) {
		free(st);
		sessions_free(v, k);
		return ISCSI_ERR_NOMEM;
	}
	if (k > nk)
		qsort(v, k, sizeof(*v), cmp_sid);
	if (level >= 1)
		add_states(v, k, st, nst);
	free(st);
	*ret = v;
	*ret_n = k;
	return 0;
}

int sessions_load_one(struct adm *a, uint32_t sid, int level, bool show_secrets, struct sess_view *ret)
{
	struct ctl_state *st = NULL;
	size_t nst = 0;

	memset(ret, 0, sizeof(*ret));
	int r = sysfs_session_read_detail(a->sysfs_root, sid, detail_of(a, level), &ret->s);
	if (r && r != -ENOENT) {
		adm_err("could not read session %u: %s", sid, strerror(-r));
		return ISCSI_ERR_SYSFS_LOOKUP;
	}
	if (level < 1 || ctl_session_states(a, &st, &nst)) {
		st = NULL;
		nst = 0;
	}
	if (r == -ENOENT && sessions_uspace_one(a, sid, level, st, nst, ret) < 0) {
		free(st);
		return ISCSI_ERR_SESS_NOT_FOUND;
	}
	if (!r)
		fill_view(a, ret, level, show_secrets);
	if (level >= 1)
		add_states(ret, 1, st, nst);
	free(st);
	return 0;
}

void sessions_view_clear(struct sess_view *v)
{
	if (!v)
		return;
	free(v->luns);
	free(v->ulun);
	v->luns = NULL;
	v->ulun = NULL;
	v->n_luns = 0;
	sysfs_session_auth_wipe(&v->auth);
}

void sessions_free(struct sess_view *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		sessions_view_clear(&v[i]);
	free(v);
}

bool sessions_addr_equal(const char *x, const char *y)
{
	unsigned char bx[16], by[16];

	if (inet_pton(AF_INET6, x, bx) == 1 && inet_pton(AF_INET6, y, by) == 1)
		return !memcmp(bx, by, 16);
	return !strcasecmp(x, y);
}

bool session_matches_rec(const struct sess_view *v, const struct node_rec *rec)
{
	const char *addr = v->have_conn && v->c.persistent_address[0] ? v->c.persistent_address : v->c.address;
	int port = v->have_conn && v->c.persistent_address[0] ? v->c.persistent_port : v->c.port;
	const char *iface = v->s.ifacename[0] ? v->s.ifacename : "default";

	if (strcmp(v->s.targetname, rec->name))
		return false;
	if (!v->have_conn || !sessions_addr_equal(addr, rec->conn.address) || port != rec->conn.port)
		return false;
	return !strcmp(iface, rec->iface.name[0] ? rec->iface.name : "default");
}

bool sessions_match_rec(const struct sess_view *v, size_t n, const struct node_rec *rec)
{
	for (size_t i = 0; i < n; i++)
		if (session_matches_rec(&v[i], rec))
			return true;
	return false;
}

int sessions_parse_sid(const char *arg, uint32_t *ret)
{
	const char *p = arg;
	char *end;

	/* A sysfs path: the last "session<N>" component names the session
	 * (/sys/devices/platform/hostH/sessionS/targetH:B:I/H:B:I:L). */
	if (strchr(arg, '/')) {
		const char *found = NULL;
		for (const char *s = strstr(arg, "session"); s; s = strstr(s + 1, "session"))
			if ((s == arg || s[-1] == '/') && s[7] >= '0' && s[7] <= '9')
				found = s;
		if (!found)
			return ISCSI_ERR_INVAL;
		p = found + 7;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (errno || end == p || (*end && *end != '/') || v == 0 || v > UINT32_MAX)
			return ISCSI_ERR_INVAL;
		*ret = (uint32_t)v;
		return 0;
	}
	errno = 0;
	unsigned long v = strtoul(p, &end, 10);
	if (errno || end == p || *end || v == 0 || v > UINT32_MAX || *p == '-' || *p == '+')
		return ISCSI_ERR_INVAL;
	*ret = (uint32_t)v;
	return 0;
}
