/* What a firmware target becomes: open-iscsi's `-m fw` keys and a node
 * record to log in with (see ibft.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "ibft.h"

/* open-iscsi reads "DHCP" into the boot protocol when the address came
 * from DHCP or a DHCP server is named (some firmware writes 0.0.0.0 for
 * none). */
static const char *bootproto(const struct ibft_nic *n)
{
	if (n->origin == IBFT_ORIGIN_DHCP || (n->dhcp[0] && strcmp(n->dhcp, "0.0.0.0")))
		return "DHCP";
	return "STATIC";
}

int ibft_target_foreach(const struct ibft *t, size_t i, bool show_secrets, ibft_visit_fn cb, void *userdata)
{
	const struct ibft_target *tg;
	const struct ibft_nic *n;
	char num[16];
	int r = 0;

	if (!t || i >= t->n_targets || t->targets[i].nic >= t->n_nics)
		return -EINVAL;
	tg = &t->targets[i];
	n = &t->nics[tg->nic];
#define KV(k, v) do { if ((r = cb((k), (v), userdata)) != 0) return r; } while (0)
#define KV_SET(k, v) do { if ((v)[0]) KV(k, v); } while (0)
	KV_SET("iface.initiatorname", t->initiator_name);
	KV("iface.transport_name", "tcp");
	KV_SET("iface.hwaddress", n->mac);
	KV("iface.bootproto", bootproto(n));
	KV_SET("iface.ipaddress", n->ipaddr);
	if (n->prefix_len > 0) {
		snprintf(num, sizeof(num), "%d", n->prefix_len);
		KV("iface.prefix_len", num);
	}
	KV_SET("iface.subnet_mask", n->subnet_mask);
	KV_SET("iface.gateway", n->gateway);
	KV_SET("iface.primary_dns", n->primary_dns);
	KV_SET("iface.secondary_dns", n->secondary_dns);
	if (n->vlan >= 0) {
		snprintf(num, sizeof(num), "%d", n->vlan);
		KV("iface.vlan_id", num);
	}
	KV_SET("iface.net_ifacename", n->netdev);
	KV("node.name", tg->name);
	KV("node.conn[0].address", tg->ipaddr);
	snprintf(num, sizeof(num), "%d", tg->port);
	KV("node.conn[0].port", num);
	KV_SET("node.session.auth.username", tg->chap_name);
	KV_SET("node.session.auth.password", show_secrets ? tg->chap_secret : tg->chap_secret[0] ? IBFT_MASK : "");
	KV_SET("node.session.auth.username_in", tg->rev_chap_name);
	KV_SET("node.session.auth.password_in",
	       show_secrets ? tg->rev_chap_secret : tg->rev_chap_secret[0] ? IBFT_MASK : "");
	KV_SET("node.boot_lun", tg->lun);
#undef KV_SET
#undef KV
	return 0;
}

static int print_kv(const char *key, const char *value, void *userdata)
{
	return fprintf(userdata, "%s = %s\n", key, value) < 0 ? -EIO : 0;
}

int ibft_target_fprint(const struct ibft *t, size_t i, bool show_secrets, FILE *f)
{
	if (fprintf(f, "%s %s\n", REC_BEGIN, REC_VERSION) < 0)
		return -EIO;
	int r = ibft_target_foreach(t, i, show_secrets, print_kv, f);
	if (r)
		return r;
	return fprintf(f, "%s\n", REC_END) < 0 ? -EIO : 0;
}

int ibft_target_rec(const struct ibft *t, size_t i, const struct node_rec *tmpl, struct node_rec *ret, char *err,
		    size_t errlen)
{
	struct node_rec rec;
	char why[200];

	if (!t || i >= t->n_targets || !tmpl || !ret)
		return -EINVAL;
	const struct ibft_target *tg = &t->targets[i];
	/* The table has no portal group tag; open-iscsi uses 1. */
	if (node_rec_from_template(tmpl, tg->name, tg->ipaddr, tg->port, 1, NULL, &rec, why, sizeof(why)) < 0) {
		errbuf_set(err, errlen, "firmware target%u: %s", tg->dir_index, why);
		explicit_bzero(&rec, sizeof(rec));
		return -EINVAL;
	}
	snprintf(rec.iface.iname, sizeof(rec.iface.iname), "%s", t->initiator_name);
	/* CHAP exactly as the firmware says: nothing inherited from
	 * iscsid.conf (its defaults are for other targets) */
	memset(&rec.session.auth, 0, sizeof(rec.session.auth));
	memcpy(rec.session.auth.chap_algs, tmpl->session.auth.chap_algs, sizeof(rec.session.auth.chap_algs));
	if (tg->chap_name[0] || tg->chap_secret[0]) {
		rec.session.auth.authmethod = REC_AUTH_CHAP;
		memcpy(rec.session.auth.username, tg->chap_name, sizeof(tg->chap_name));
		memcpy(rec.session.auth.password, tg->chap_secret, sizeof(tg->chap_secret));
		memcpy(rec.session.auth.username_in, tg->rev_chap_name, sizeof(tg->rev_chap_name));
		memcpy(rec.session.auth.password_in, tg->rev_chap_secret, sizeof(tg->rev_chap_secret));
	} else {
		rec.session.auth.authmethod = REC_AUTH_NONE;
	}
	rec.disc_type = REC_DISC_FW;
	rec.disc_address[0] = '\0';
	rec.disc_port = 0;
	/* boot targets: never logged out by --logoutall (open-iscsi #482) */
	rec.startup = REC_STARTUP_ONBOOT;
	rec.conn.startup = REC_STARTUP_ONBOOT;
	*ret = rec;
	explicit_bzero(&rec, sizeof(rec));
	return 0;
}
