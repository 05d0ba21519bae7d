/* What of a node record libiscsi 1.19 can honour.
 *
 * The rule: a setting that protects something (CHAP, mutual CHAP, the CHAP
 * algorithm, a required digest, a source address) is either done or the
 * login is refused with a message and open-iscsi's exit code; a setting
 * that only tunes (burst lengths, markers, ERL) and that libiscsi
 * negotiates on its own is logged as not applied. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <iscsi/iscsi.h>

#include "chap.h"
#include "errbuf.h"
#include "errors.h"
#include "usp.h"

const char *usp_state_name(enum usp_state s)
{
	switch (s) {
	case USP_STATE_LOGIN: return "LOGIN";
	case USP_STATE_LOGGED_IN: return "LOGGED_IN";
	case USP_STATE_RECOVERY: return "RECOVERY";
	case USP_STATE_FAILED: return "FAILED";
	case USP_STATE_LOGOUT: return "LOGOUT";
	}
	return "UNKNOWN";
}

/* iface.hwaddress -> the netdev that has it (/sys/class/net/<dev>/address). */
static int netdev_by_mac(const char *mac, char *ret, size_t len)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *de;
	int r = -ENODEV;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX], addr[64] = "";
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", de->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(addr, sizeof(addr), f))
			addr[strcspn(addr, "\n")] = '\0';
		fclose(f);
		if (!strcasecmp(addr, mac) && strlen(de->d_name) < len) {
			snprintf(ret, len, "%s", de->d_name);
			r = 0;
			break;
		}
	}
	closedir(d);
	return r;
}

static int check_auth(struct usp_config *c, char *msg, size_t msglen)
{
	const struct rec_auth *a = &c->rec.session.auth;

	/* As the kernel path does (iscsid/kconn.c): CHAP whenever credentials
	 * are there, mutual CHAP when the incoming pair is there too. */
	c->chap = a->username[0] && a->password[0];
	c->mutual = c->chap && a->username_in[0] && a->password_in[0];
	if (!c->chap && (a->username_in[0] || a->password_in[0])) {
		errbuf_set(msg, msglen, "node.session.auth.username_in/password_in need "
			   "node.session.auth.username/password too (mutual CHAP)");
		return ISCSI_ERR_INVAL;
	}
	if (!c->chap && a->authmethod == REC_AUTH_CHAP && (a->username[0] || a->password[0])) {
		errbuf_set(msg, msglen, "node.session.auth.authmethod is CHAP but the "
			   "username or password is empty");
		return ISCSI_ERR_INVAL;
	}
	if (!c->chap)
		return 0;
	enum chap_alg algs[CHAP_ALG_LIST_BUF];
	size_t n = 0;
	if (chap_alg_list_parse(a->chap_algs[0] ? a->chap_algs : NULL, algs, &n) < 0) {
		errbuf_set(msg, msglen, "invalid node.session.auth.chap_algs '%s'", a->chap_algs);
		return ISCSI_ERR_INVAL;
	}
	/* libiscsi 1.19 offers CHAP_A=5 and nothing else. chap_alg_list_parse
	 * appends MD5 (mandatory to implement), but a list that does not name
	 * it asks for something stronger: refuse rather than do less. */
	bool md5 = !a->chap_algs[0];
	char list[REC_CHAP_ALGS_SIZE], *save = NULL;
	snprintf(list, sizeof(list), "%s", a->chap_algs);
	for (char *t = strtok_r(list, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save))
		md5 |= !strcasecmp(t, "MD5") || !strcmp(t, "5");
	if (!md5) {
		errbuf_set(msg, msglen, "the uspace transport (libiscsi) can only do CHAP with MD5, "
			   "node.session.auth.chap_algs = %s does not allow it", a->chap_algs);
		return ISCSI_ERR_TRANS_CAPS;
	}
	if (n > 1)
		usp_info("CHAP: libiscsi offers MD5 only (node.session.auth.chap_algs = %s)", a->chap_algs);
	if (c->mutual && !strcmp(a->password, a->password_in)) {
		/* RFC 7143 §12.1.3: the two secrets must differ. */
		errbuf_set(msg, msglen, "mutual CHAP needs two different secrets "
			   "(node.session.auth.password and password_in are the same)");
		return ISCSI_ERR_INVAL;
	}
	return 0;
}

static int check_digests(struct usp_config *c, char *msg, size_t msglen)
{
	switch (c->rec.conn.header_digest) {
	case REC_DIGEST_NONE: c->header_digest = ISCSI_HEADER_DIGEST_NONE; break;
	case REC_DIGEST_CRC32C: c->header_digest = ISCSI_HEADER_DIGEST_CRC32C; break;
	case REC_DIGEST_CRC32C_NONE: c->header_digest = ISCSI_HEADER_DIGEST_CRC32C_NONE; break;
	case REC_DIGEST_NONE_CRC32C: c->header_digest = ISCSI_HEADER_DIGEST_NONE_CRC32C; break;
	}
	switch (c->rec.conn.data_digest) {
	case REC_DIGEST_NONE:
	case REC_DIGEST_NONE_CRC32C:
		break;
	case REC_DIGEST_CRC32C:
		errbuf_set(msg, msglen, "the uspace transport (libiscsi) cannot do data digests: "
			   "node.conn[0].iscsi.DataDigest = CRC32C requires one");
		return ISCSI_ERR_TRANS_CAPS;
	case REC_DIGEST_CRC32C_NONE:
		usp_warn("node.conn[0].iscsi.DataDigest = CRC32C,None: libiscsi offers None only");
		break;
	}
	return 0;
}

static int check_iface(struct usp_config *c, char *msg, size_t msglen)
{
	const struct iface_rec *i = &c->rec.iface;

	if (i->ipaddress[0] && strcmp(i->ipaddress, "<empty>") && strcmp(i->ipaddress, "0.0.0.0")) {
		errbuf_set(msg, msglen, "the uspace transport (libiscsi) cannot bind to a source "
			   "address (iface.ipaddress = %s)", i->ipaddress);
		return ISCSI_ERR_TRANS_CAPS;
	}
	if (i->netdev[0] && strcmp(i->netdev, "default")) {
		snprintf(c->bind_if, sizeof(c->bind_if), "%s", i->netdev);
	} else if (i->hwaddress[0] && strcmp(i->hwaddress, "default")) {
		if (netdev_by_mac(i->hwaddress, c->bind_if, sizeof(c->bind_if))) {
			errbuf_set(msg, msglen, "no network interface has iface.hwaddress %s", i->hwaddress);
			return ISCSI_ERR_INVAL;
		}
	}
	return 0;
}

/* Tunables libiscsi 1.19 has no setter for: it proposes its own values
 * (MaxRecvDataSegmentLength 262144, FirstBurstLength 262144,
 * MaxBurstLength 16776192, ERL 0, no markers) and the target chooses. */
static void note_unapplied(const struct usp_config *c)
{
	const struct node_session *s = &c->rec.session;
	const struct node_conn *cn = &c->rec.conn;

	if (cn->max_recv_dlength && cn->max_recv_dlength != 262144)
		usp_info("node.conn[0].iscsi.MaxRecvDataSegmentLength = %d not applied (libiscsi proposes 262144)",
			 cn->max_recv_dlength);
	if (s->first_burst_length != 262144)
		usp_info("node.session.iscsi.FirstBurstLength = %d not applied (libiscsi proposes 262144)",
			 s->first_burst_length);
	if (s->max_burst_length != 16776192)
		usp_info("node.session.iscsi.MaxBurstLength = %d not applied (libiscsi proposes 16776192)",
			 s->max_burst_length);
	if (s->erl > 0)
		usp_info("node.session.iscsi.ERL = %d not applied (libiscsi does ERL 0)", s->erl);
	if (cn->ifmarker || cn->ofmarker)
		usp_info("markers not applied (libiscsi proposes IFMarker=No, OFMarker=No)");
}

int usp_config_check(struct usp_config *c, char *msg, size_t msglen)
{
	const struct node_rec *r = &c->rec;
	int e;

	if (!r->name[0] || !r->conn.address[0] || r->conn.port <= 0) {
		errbuf_set(msg, msglen, "the record names no target or portal");
		return ISCSI_ERR_INVAL;
	}
	if (strchr(r->conn.address, ':'))
		snprintf(c->portal, sizeof(c->portal), "[%s]:%d", r->conn.address, r->conn.port);
	else
		snprintf(c->portal, sizeof(c->portal), "%s:%d", r->conn.address, r->conn.port);
	if (!c->iname[0] && r->iface.iname[0])
		snprintf(c->iname, sizeof(c->iname), "%s", r->iface.iname);
	if (!c->iname[0]) {
		errbuf_set(msg, msglen, "no initiator name (iface.initiatorname or --initiator-name)");
		return ISCSI_ERR_INVAL;
	}
	if ((e = check_auth(c, msg, msglen)) || (e = check_digests(c, msg, msglen)) ||
	    (e = check_iface(c, msg, msglen)))
		return e;
	note_unapplied(c);

	c->replacement_timeout = r->session.replacement_timeout;
	c->login_timeout = r->conn.login_timeout > 0 ? r->conn.login_timeout : 15;
	c->login_retries = r->session.initial_login_retry_max >= 0 ? r->session.initial_login_retry_max : 8;
	c->noop_interval = r->conn.noop_out_interval;
	c->noop_timeout = r->conn.noop_out_timeout > 0 ? r->conn.noop_out_timeout : 5;
	c->cmds_max = r->session.cmds_max > 0 ? r->session.cmds_max : 128;
	return 0;
}
