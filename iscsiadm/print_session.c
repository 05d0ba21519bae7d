/* `-m session` output: the flat line and the -P 1..3 tree of open-iscsi
 * (inventory §1.4), and the JSON form of the same fields. */
#include "print.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *or_empty(const char *s)
{
	return s && *s ? s : PRINT_EMPTY;
}

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "Unknown";
}

/* The persistent portal is what the user configured (a redirect changes
 * only the current one); fall back to the current one on old kernels. */
static void persistent_portal(const struct sess_view *v, const char **addr, int *port)
{
	if (v->have_conn && *v->c.persistent_address) {
		*addr = v->c.persistent_address;
		*port = v->c.persistent_port;
	} else if (v->have_conn) {
		*addr = v->c.address;
		*port = v->c.port;
	} else {
		*addr = "";
		*port = 0;
	}
}

void print_session_flat(FILE *f, const struct sess_view *v)
{
	const char *addr;
	int port;
	char ap[SYSFS_SHORT_MAX + 16];

	persistent_portal(v, &addr, &port);
	print_fmt_addr_port(ap, sizeof(ap), addr, port);
	fprintf(f, "%s: [%" PRIu32 "] %s,%d %s (%s)\n", or_empty(v->transport), v->s.sid, ap, v->s.tpgt,
		v->s.targetname, v->flash ? "flash" : "non-flash");
}

static bool same_target(const struct sess_view *a, const struct sess_view *b)
{
	return !strcmp(a->s.targetname, b->s.targetname);
}

static bool same_portal(const struct sess_view *a, const struct sess_view *b)
{
	return !strcmp(a->c.address, b->c.address) && a->c.port == b->c.port;
}

void print_sessions_order(struct sess_view *v, size_t n)
{
	/* Insert each session (in sid order) right after the first one with
	 * the same target and portal, else after the last one with the same
	 * target, else at the end — the grouping open-iscsi's tree uses. */
	struct sess_view tmp;

	for (size_t i = 1; i < n; i++) {
		size_t at = i;
		for (size_t k = 0; k < i; k++) {
			if (!same_target(&v[k], &v[i]))
				continue;
			at = k + 1;
			if (same_portal(&v[k], &v[i]))
				break;
		}
		if (at == i)
			continue;
		tmp = v[i];
		memmove(&v[at + 1], &v[at], (i - at) * sizeof(*v));
		v[at] = tmp;
	}
}

static void print_ip_line(FILE *f, const char *prefix, const char *label, const char *ip)
{
	if (!*ip)
		fprintf(f, "%s%s%s\n", prefix, label, PRINT_EMPTY);
	else if (strchr(ip, ':'))
		fprintf(f, "%s%s[%s]\n", prefix, label, ip);
	else
		fprintf(f, "%s%s%s\n", prefix, label, ip);
}

static void print_iface_block(FILE *f, const struct sess_view *v, const char *p)
{
	fprintf(f, "%s\t\t**********\n%s\t\tInterface:\n%s\t\t**********\n", p, p, p);
	fprintf(f, "%s\t\tIface Name: %s\n", p, or_empty(v->s.ifacename));
	fprintf(f, "%s\t\tIface Transport: %s\n", p, or_empty(v->transport));
	fprintf(f, "%s\t\tIface Initiatorname: %s\n", p, or_empty(v->s.initiatorname));
	print_ip_line(f, p, "\t\tIface IPaddress: ", v->have_host ? v->h.ipaddress : "");
	fprintf(f, "%s\t\tIface HWaddress: %s\n", p, or_empty(v->have_host ? v->h.hwaddress : ""));
	fprintf(f, "%s\t\tIface Netdev: %s\n", p, or_empty(v->have_host ? v->h.netdev : ""));
}

static void print_tmo(FILE *f, const char *p, const char *label, int v)
{
	if (v == SYSFS_UNSET || v < 0)
		fprintf(f, "%s\t\t%s: %s\n", p, label, PRINT_EMPTY);
	else
		fprintf(f, "%s\t\t%s: %d\n", p, label, v);
}

static void print_chap(FILE *f, const struct sess_view *v, const char *p, bool show)
{
	const char *user = v->s.username, *user_in = v->s.username_in;
	const char *pw = "********", *pw_in = "********";

	fprintf(f, "%s\t\t*****\n%s\t\tCHAP:\n%s\t\t*****\n", p, p, p);
	if (show && v->auth_ok) {
		user = v->auth.username;
		user_in = v->auth.username_in;
		pw = v->auth.password;
		pw_in = v->auth.password_in;
	}
	fprintf(f, "%s\t\tusername: %s\n", p, or_empty(user));
	fprintf(f, "%s\t\tpassword: %s\n", p, or_empty(pw));
	fprintf(f, "%s\t\tusername_in: %s\n", p, or_empty(user_in));
	fprintf(f, "%s\t\tpassword_in: %s\n", p, or_empty(pw_in));
}

static void print_params(FILE *f, const struct sess_view *v, const char *p)
{
	const struct sysfs_conn *c = &v->c;
	const struct sysfs_session *s = &v->s;

	fprintf(f, "%s\t\t************************\n%s\t\tNegotiated iSCSI params:\n"
		   "%s\t\t************************\n", p, p, p);
	/* A value the kernel does not export is left out, as open-iscsi
	 * does for "invalid operational values". */
	if (v->have_conn && c->header_digest != SYSFS_UNSET)
		fprintf(f, "%s\t\tHeaderDigest: %s\n", p, c->header_digest ? "CRC32C" : "None");
	if (v->have_conn && c->data_digest != SYSFS_UNSET)
		fprintf(f, "%s\t\tDataDigest: %s\n", p, c->data_digest ? "CRC32C" : "None");
	if (v->have_conn && c->max_recv_dlength != SYSFS_UNSET)
		fprintf(f, "%s\t\tMaxRecvDataSegmentLength: %d\n", p, c->max_recv_dlength);
	if (v->have_conn && c->max_xmit_dlength != SYSFS_UNSET)
		fprintf(f, "%s\t\tMaxXmitDataSegmentLength: %d\n", p, c->max_xmit_dlength);
	if (s->first_burst_len != SYSFS_UNSET)
		fprintf(f, "%s\t\tFirstBurstLength: %d\n", p, s->first_burst_len);
	if (s->max_burst_len != SYSFS_UNSET)
		fprintf(f, "%s\t\tMaxBurstLength: %d\n", p, s->max_burst_len);
	if (s->immediate_data != SYSFS_UNSET)
		fprintf(f, "%s\t\tImmediateData: %s\n", p, s->immediate_data ? "Yes" : "No");
	if (s->initial_r2t != SYSFS_UNSET)
		fprintf(f, "%s\t\tInitialR2T: %s\n", p, s->initial_r2t ? "Yes" : "No");
	if (s->max_outstanding_r2t != SYSFS_UNSET)
		fprintf(f, "%s\t\tMaxOutstandingR2T: %d\n", p, s->max_outstanding_r2t);
}

/* The state a LUN of a uspace session is in, in the words sysfs uses for
 * SCSI devices: I/O held while the connection is replaced (blocked),
 * failed after replacement_timeout (transport-offline). */
static const char *uspace_lun_state(const struct sess_view *v)
{
	const char *st = v->uspace_state;
	if (!strcmp(st, "LOGGED_IN"))
		return "running";
	if (!strcmp(st, "RECOVERY"))
		return "blocked";
	if (!strcmp(st, "FAILED"))
		return "transport-offline";
	if (!strcmp(st, "LOGOUT"))
		return "cancel";
	return "Unknown";
}

/* A uspace session has no SCSI host: its LUNs are files on a FUSE mount
 * and loop devices on them (doc/iscsiadm.8, -P 3):
 *	Host Number: none (uspace)
 *	Lun: 1	Size: 16777216	Block Size: 512
 *		Attached scsi disk loop0		State: running
 *		Attached file /run/iscsi-uspace/1000000/luns/lun1		State: running */
static void print_uspace_devices(FILE *f, const struct sess_view *v, const char *p)
{
	const char *st = uspace_lun_state(v);
	fprintf(f, "%s\t\tHost Number: none (uspace)\n", p);
	for (size_t i = 0; i < v->n_ulun; i++) {
		const struct uspace_lun *l = &v->ulun[i];
		fprintf(f, "%s\t\tLun: %" PRIu64 "\tSize: %" PRIu64 "\tBlock Size: %" PRIu32 "\n", p, l->lun, l->size,
			l->block_size);
		if (l->loop[0])
			fprintf(f, "%s\t\t\tAttached scsi disk %s\t\tState: %s\n", p, uspace_lun_device(l), st);
		fprintf(f, "%s\t\t\tAttached file %s\t\tState: %s\n", p, l->file, st);
	}
}

static void print_devices(FILE *f, const struct sess_view *v, const char *p)
{
	fprintf(f, "%s\t\t************************\n%s\t\tAttached SCSI devices:\n"
		   "%s\t\t************************\n", p, p, p);
	if (v->uspace) {
		print_uspace_devices(f, v, p);
		return;
	}
	if (v->s.host_no == SYSFS_UNSET) {
		fprintf(f, "%s\t\tUnavailable\n", p);
		return;
	}
	fprintf(f, "%s\t\tHost Number: %d\tState: %s\n", p, v->s.host_no,
		or_unknown(v->have_host ? v->h.state : ""));
	for (size_t i = 0; v->luns_ok && i < v->n_luns; i++) {
		const struct sysfs_lun *l = &v->luns[i];
		fprintf(f, "%s\t\tscsi%" PRIu32 " Channel %02" PRIu32 " Id %" PRIu32 " Lun: %" PRIu64 "\n", p,
			l->hctl.host, l->hctl.channel, l->hctl.target, l->hctl.lun);
		/* The disk line appears only once sd has probed the LUN:
		 * scripts wait for it. */
		for (size_t b = 0; b < l->n_block; b++)
			fprintf(f, "%s\t\t\tAttached scsi disk %s\t\tState: %s\n", p, l->block[b],
				or_unknown(l->state));
	}
}

void print_sessions_tree(FILE *f, const struct sess_view *v, size_t n, int level, const char *p,
			 bool show_secrets)
{
	const struct sess_view *prev = NULL;
	char ap[SYSFS_SHORT_MAX + 16];

	for (size_t i = 0; i < n; i++) {
		const struct sess_view *cur = &v[i];
		if (!prev || !same_target(prev, cur)) {
			fprintf(f, "%sTarget: %s (%s)\n", p, cur->s.targetname, cur->flash ? "flash" : "non-flash");
			prev = NULL;
		}
		if (!prev || !same_portal(prev, cur)) {
			const char *paddr;
			int pport;
			print_fmt_addr_port(ap, sizeof(ap), cur->have_conn ? cur->c.address : "",
					    cur->have_conn ? cur->c.port : 0);
			fprintf(f, "%s\tCurrent Portal: %s,%d\n", p, ap, cur->s.tpgt);
			persistent_portal(cur, &paddr, &pport);
			print_fmt_addr_port(ap, sizeof(ap), paddr, pport);
			fprintf(f, "%s\tPersistent Portal: %s,%d\n", p, ap, cur->s.tpgt);
		} else {
			/* open-iscsi prints an empty line for a second session
			 * on the same portal; parsers count on the shape. */
			fputc('\n', f);
		}
		print_iface_block(f, cur, p);
		fprintf(f, "%s\t\tSID: %" PRIu32 "\n", p, cur->s.sid);
		fprintf(f, "%s\t\tiSCSI Connection State: %s\n", p, or_unknown(cur->conn_state));
		fprintf(f, "%s\t\tiSCSI Session State: %s\n", p, or_unknown(cur->s.state_str));
		fprintf(f, "%s\t\tInternal iscsid Session State: %s\n", p, or_unknown(cur->iscsid_state));
		if (level >= 2) {
			fprintf(f, "%s\t\t*********\n%s\t\tTimeouts:\n%s\t\t*********\n", p, p, p);
			if (cur->s.recovery_tmo == SYSFS_UNSET)
				fprintf(f, "%s\t\tRecovery Timeout: %s\n", p, PRINT_EMPTY);
			else
				fprintf(f, "%s\t\tRecovery Timeout: %d\n", p, cur->s.recovery_tmo);
			print_tmo(f, p, "Target Reset Timeout", cur->s.tgt_reset_tmo);
			print_tmo(f, p, "LUN Reset Timeout", cur->s.lu_reset_tmo);
			print_tmo(f, p, "Abort Timeout", cur->s.abort_tmo);
			print_chap(f, cur, p, show_secrets);
			print_params(f, cur, p);
		}
		if (level >= 3)
			print_devices(f, cur, p);
		prev = cur;
	}
}

static void json_int_or_null(struct json *j, const char *key, int v)
{
	json_key(j, key);
	if (v == SYSFS_UNSET)
		json_null(j);
	else
		json_int(j, v);
}

static void json_bool_or_null(struct json *j, const char *key, int v)
{
	json_key(j, key);
	if (v == SYSFS_UNSET)
		json_null(j);
	else
		json_bool(j, v != 0);
}

static void json_portal(struct json *j, const char *key, const char *addr, int port)
{
	json_key(j, key);
	json_object_begin(j);
	json_kv_str_or_null(j, "address", addr);
	json_kv_int(j, "port", port);
	json_object_end(j);
}

/* A CHAP secret: in clear only when -S read it, null when none is set,
 * "********" when one is set or when we cannot tell (not root). */
static void json_secret(struct json *j, bool have_clear, const char *clear, enum sysfs_secret state)
{
	if (have_clear)
		json_string(j, *clear ? clear : NULL);
	else if (state == SYSFS_SECRET_UNSET)
		json_null(j);
	else
		json_string(j, "********");
}

static void json_session_params(struct json *j, const struct sess_view *v)
{
	const struct sysfs_session *s = &v->s;

	json_key(j, "timeouts");
	json_object_begin(j);
	json_int_or_null(j, "recovery", s->recovery_tmo);
	json_int_or_null(j, "target_reset", s->tgt_reset_tmo);
	json_int_or_null(j, "lun_reset", s->lu_reset_tmo);
	json_int_or_null(j, "abort", s->abort_tmo);
	json_object_end(j);

	json_key(j, "chap");
	json_object_begin(j);
	json_kv_str_or_null(j, "username", s->username);
	json_key(j, "password");
	json_secret(j, v->auth_ok, v->auth.password, s->password);
	json_kv_str_or_null(j, "username_in", s->username_in);
	json_key(j, "password_in");
	json_secret(j, v->auth_ok, v->auth.password_in, s->password_in);
	json_object_end(j);

	json_key(j, "negotiated");
	json_object_begin(j);
	if (v->have_conn) {
		json_key(j, "HeaderDigest");
		if (v->c.header_digest == SYSFS_UNSET)
			json_null(j);
		else
			json_string(j, v->c.header_digest ? "CRC32C" : "None");
		json_key(j, "DataDigest");
		if (v->c.data_digest == SYSFS_UNSET)
			json_null(j);
		else
			json_string(j, v->c.data_digest ? "CRC32C" : "None");
		json_int_or_null(j, "MaxRecvDataSegmentLength", v->c.max_recv_dlength);
		json_int_or_null(j, "MaxXmitDataSegmentLength", v->c.max_xmit_dlength);
	}
	json_int_or_null(j, "FirstBurstLength", s->first_burst_len);
	json_int_or_null(j, "MaxBurstLength", s->max_burst_len);
	json_bool_or_null(j, "ImmediateData", s->immediate_data);
	json_bool_or_null(j, "InitialR2T", s->initial_r2t);
	json_int_or_null(j, "MaxOutstandingR2T", s->max_outstanding_r2t);
	json_object_end(j);
}

/* A uspace session: no host; per LUN its file and loop device. */
static void json_uspace_devices(struct json *j, const struct sess_view *v)
{
	json_key(j, "host");
	json_object_begin(j);
	json_key(j, "number");
	json_null(j);
	json_key(j, "state");
	json_null(j);
	json_object_end(j);
	json_key(j, "devices");
	json_array_begin(j);
	for (size_t i = 0; i < v->n_ulun; i++) {
		const struct uspace_lun *l = &v->ulun[i];
		json_object_begin(j);
		json_key(j, "host");
		json_null(j);
		json_key(j, "channel");
		json_null(j);
		json_key(j, "id");
		json_null(j);
		json_key(j, "lun");
		json_uint(j, l->lun);
		json_kv_str(j, "state", uspace_lun_state(v));
		json_key(j, "disks");
		json_array_begin(j);
		if (l->loop[0])
			json_string(j, uspace_lun_device(l));
		json_array_end(j);
		json_kv_str(j, "file", l->file);
		json_key(j, "size");
		json_uint(j, l->size);
		json_kv_int(j, "block_size", (int)l->block_size);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_session_devices(struct json *j, const struct sess_view *v)
{
	if (v->uspace) {
		json_uspace_devices(j, v);
		return;
	}
	json_key(j, "host");
	json_object_begin(j);
	json_int_or_null(j, "number", v->s.host_no);
	json_kv_str_or_null(j, "state", v->have_host ? v->h.state : NULL);
	json_object_end(j);
	json_key(j, "devices");
	json_array_begin(j);
	for (size_t i = 0; v->luns_ok && i < v->n_luns; i++) {
		const struct sysfs_lun *l = &v->luns[i];
		json_object_begin(j);
		json_kv_int(j, "host", l->hctl.host);
		json_kv_int(j, "channel", l->hctl.channel);
		json_kv_int(j, "id", l->hctl.target);
		json_key(j, "lun");
		json_uint(j, l->hctl.lun);
		json_kv_str_or_null(j, "state", l->state);
		json_key(j, "disks");
		json_array_begin(j);
		for (size_t b = 0; b < l->n_block; b++)
			json_string(j, l->block[b]);
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

void json_session(struct json *j, const struct sess_view *v, int level, bool show_secrets)
{
	const char *paddr;
	int pport;

	(void)show_secrets;   /* v->auth_ok is only set when -S asked for it */
	json_object_begin(j);
	json_kv_int(j, "sid", v->s.sid);
	json_kv_str_or_null(j, "transport", v->transport);
	json_kv_str(j, "target", v->s.targetname);
	json_kv_int(j, "tpgt", v->s.tpgt);
	persistent_portal(v, &paddr, &pport);
	json_portal(j, "persistent_portal", paddr, pport);
	json_portal(j, "current_portal", v->have_conn ? v->c.address : NULL, v->have_conn ? v->c.port : 0);
	json_kv_bool(j, "flash", v->flash);
	if (level >= 1) {
		json_key(j, "iface");
		json_object_begin(j);
		json_kv_str_or_null(j, "name", v->s.ifacename);
		json_kv_str_or_null(j, "transport", v->transport);
		json_kv_str_or_null(j, "initiatorname", v->s.initiatorname);
		json_kv_str_or_null(j, "ipaddress", v->have_host ? v->h.ipaddress : NULL);
		json_kv_str_or_null(j, "hwaddress", v->have_host ? v->h.hwaddress : NULL);
		json_kv_str_or_null(j, "netdev", v->have_host ? v->h.netdev : NULL);
		json_object_end(j);
		json_kv_str_or_null(j, "connection_state", v->conn_state);
		json_kv_str_or_null(j, "session_state", v->s.state_str);
		json_kv_str_or_null(j, "iscsid_session_state", v->iscsid_state);
	}
	if (level >= 2)
		json_session_params(j, v);
	if (level >= 3)
		json_session_devices(j, v);
	json_object_end(j);
}
