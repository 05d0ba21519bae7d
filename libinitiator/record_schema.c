/* The record schema: one row per key, in the order open-iscsi prints
 * them (checked against `iscsiadm -m node -o show`, `-m iface -o show`
 * and `-m discoverydb -o show` of Debian's open-iscsi 2.1.8). Parsing,
 * printing and `-o update` all walk these rows. */
#include "record_int.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

_Static_assert(sizeof(enum rec_startup) == sizeof(int), "enum size");
_Static_assert(sizeof(enum rec_disc_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum rec_authmethod) == sizeof(int), "enum size");
_Static_assert(sizeof(enum rec_digest) == sizeof(int), "enum size");
_Static_assert(sizeof(enum rec_scan) == sizeof(int), "enum size");

static const char *const w_startup3[] = { "manual", "automatic", "onboot", NULL };
static const char *const w_startup2[] = { "manual", "automatic", NULL };
static const char *const w_node_disc[] = { "send_targets", "isns", "offload_send_targets", "slp", "static", "fw",
					   NULL };
static const char *const w_disc[] = { "sendtargets", "isns", "offload_send_targets", "slp", "static", "fw", NULL };
static const char *const w_auth[] = { "None", "CHAP", NULL };
static const char *const w_digest[] = { "None", "CRC32C", "CRC32C,None", "None,CRC32C", NULL };
static const char *const w_scan[] = { "manual", "auto", NULL };

#define FSIZE(st, f) sizeof(((st *)0)->f)

#define STR(k, st, f, chk, fl) \
	{ .key = (k), .type = REC_T_STR, .check = (chk), .flags = (fl), \
	  .offset = offsetof(st, f), .size = FSIZE(st, f) }
#define INT(k, st, f, lo, hi, fl) \
	{ .key = (k), .type = REC_T_INT, .flags = (fl), .offset = offsetof(st, f), \
	  .size = sizeof(int), .min = (lo), .max = (hi) }
#define BOOL(k, st, f, fl) \
	{ .key = (k), .type = REC_T_BOOL, .flags = (fl), .offset = offsetof(st, f), .size = sizeof(bool) }
#define ENUM(k, st, f, w, fl) \
	{ .key = (k), .type = REC_T_ENUM, .flags = (fl), .offset = offsetof(st, f), .size = sizeof(int), \
	  .words = (w) }
#define IGNORE(k) { .key = (k), .type = REC_T_IGNORE, .flags = REC_F_HIDDEN }

/* Limits. Lengths: RFC 7143 §13.12/13.13/13.14 (512..2^24-1); times in
 * seconds, bounded at a day where open-iscsi has no bound, so a typo of
 * extra digits is caught. */
#define DLEN_MIN 512
#define DLEN_MAX 16777215
#define TMO_MAX 86400
#define RETRY_MAX 1000000

/* ---- iface.* ---- */
#define IF struct iface_rec
static const struct rec_field iface_fields[] = {
	STR("iface.iscsi_ifacename", IF, name, REC_C_IFACE_NAME, REC_F_IDENT),
	STR("iface.net_ifacename", IF, netdev, REC_C_NETDEV, 0),
	STR("iface.ipaddress", IF, ipaddress, REC_C_IPADDR, 0),
	INT("iface.prefix_len", IF, prefix_len, 0, 128, 0),
	STR("iface.hwaddress", IF, hwaddress, REC_C_HWADDR, 0),
	STR("iface.transport_name", IF, transport_name, REC_C_TRANSPORT, REC_F_NODE_RW),
	STR("iface.initiatorname", IF, iname, REC_C_NAME, 0),
	STR("iface.state", IF, state, REC_C_TOKEN, 0),
	INT("iface.vlan_id", IF, vlan_id, 0, 4095, 0),
	INT("iface.vlan_priority", IF, vlan_priority, 0, 7, 0),
	STR("iface.vlan_state", IF, vlan_state, REC_C_TOKEN, 0),
	INT("iface.iface_num", IF, iface_num, 0, INT_MAX, 0),
	INT("iface.mtu", IF, mtu, 0, 65535, 0),
	INT("iface.port", IF, port, 0, 65535, 0),
	STR("iface.bootproto", IF, bootproto, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.subnet_mask", IF, subnet_mask, REC_C_IPADDR, REC_F_IPV4),
	STR("iface.gateway", IF, gateway, REC_C_IPADDR, REC_F_IPV4),
	STR("iface.dhcp_alt_client_id_state", IF, dhcp_alt_client_id_state, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.dhcp_alt_client_id", IF, dhcp_alt_client_id, REC_C_TEXT, REC_F_IPV4),
	STR("iface.dhcp_dns", IF, dhcp_dns, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.dhcp_learn_iqn", IF, dhcp_learn_iqn, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.dhcp_req_vendor_id_state", IF, dhcp_req_vendor_id_state, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.dhcp_vendor_id_state", IF, dhcp_vendor_id_state, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.dhcp_vendor_id", IF, dhcp_vendor_id, REC_C_TEXT, REC_F_IPV4),
	STR("iface.dhcp_slp_da", IF, dhcp_slp_da, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.fragmentation", IF, fragmentation, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.gratuitous_arp", IF, gratuitous_arp, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.incoming_forwarding", IF, incoming_forwarding, REC_C_TOKEN, REC_F_IPV4),
	STR("iface.tos_state", IF, tos_state, REC_C_TOKEN, REC_F_IPV4),
	INT("iface.tos", IF, tos, 0, 255, REC_F_IPV4),
	INT("iface.ttl", IF, ttl, 0, 255, REC_F_IPV4),
	STR("iface.ipv6_autocfg", IF, ipv6_autocfg, REC_C_TOKEN, REC_F_IPV6),
	STR("iface.linklocal_autocfg", IF, linklocal_autocfg, REC_C_TOKEN, REC_F_IPV6),
	STR("iface.router_autocfg", IF, router_autocfg, REC_C_TOKEN, REC_F_IPV6),
	STR("iface.ipv6_linklocal", IF, ipv6_linklocal, REC_C_IPADDR, REC_F_IPV6),
	STR("iface.ipv6_router", IF, ipv6_router, REC_C_IPADDR, REC_F_IPV6),
	INT("iface.dup_addr_detect_cnt", IF, dup_addr_detect_cnt, 0, 255, REC_F_IPV6),
	INT("iface.flow_label", IF, flow_label, 0, 1048575, REC_F_IPV6),
	STR("iface.gratuitous_neighbor_adv", IF, gratuitous_neighbor_adv, REC_C_TOKEN, REC_F_IPV6),
	INT("iface.hop_limit", IF, hop_limit, 0, 255, REC_F_IPV6),
	STR("iface.mld", IF, mld, REC_C_TOKEN, REC_F_IPV6),
	INT("iface.nd_reachable_tmo", IF, nd_reachable_tmo, 0, INT_MAX, REC_F_IPV6),
	INT("iface.nd_rexmit_time", IF, nd_rexmit_time, 0, INT_MAX, REC_F_IPV6),
	INT("iface.nd_stale_tmo", IF, nd_stale_tmo, 0, INT_MAX, REC_F_IPV6),
	INT("iface.router_adv_link_mtu", IF, router_adv_link_mtu, 0, INT_MAX, REC_F_IPV6),
	INT("iface.traffic_class", IF, traffic_class, 0, 255, REC_F_IPV6),
	STR("iface.delayed_ack", IF, delayed_ack, REC_C_TOKEN, 0),
	STR("iface.tcp_nagle", IF, tcp_nagle, REC_C_TOKEN, 0),
	STR("iface.tcp_wsf_state", IF, tcp_wsf_state, REC_C_TOKEN, 0),
	INT("iface.tcp_wsf", IF, tcp_wsf, 0, 255, 0),
	INT("iface.tcp_timer_scale", IF, tcp_timer_scale, 0, 255, 0),
	STR("iface.tcp_timestamp", IF, tcp_timestamp, REC_C_TOKEN, 0),
	STR("iface.redirect", IF, redirect, REC_C_TOKEN, 0),
	INT("iface.def_task_mgmt_timeout", IF, def_task_mgmt_timeout, 0, 65535, 0),
	STR("iface.header_digest", IF, header_digest, REC_C_TOKEN, 0),
	STR("iface.data_digest", IF, data_digest, REC_C_TOKEN, 0),
	STR("iface.immediate_data", IF, immediate_data, REC_C_TOKEN, 0),
	STR("iface.initial_r2t", IF, initial_r2t, REC_C_TOKEN, 0),
	STR("iface.data_seq_inorder", IF, data_seq_inorder, REC_C_TOKEN, 0),
	STR("iface.data_pdu_inorder", IF, data_pdu_inorder, REC_C_TOKEN, 0),
	INT("iface.erl", IF, erl, 0, 2, 0),
	INT("iface.max_receive_data_len", IF, max_receive_data_len, 0, DLEN_MAX, 0),
	INT("iface.first_burst_len", IF, first_burst_len, 0, DLEN_MAX, 0),
	INT("iface.max_outstanding_r2t", IF, max_outstanding_r2t, 0, 65535, 0),
	INT("iface.max_burst_len", IF, max_burst_len, 0, DLEN_MAX, 0),
	STR("iface.chap_auth", IF, chap_auth, REC_C_TOKEN, 0),
	STR("iface.bidi_chap", IF, bidi_chap, REC_C_TOKEN, 0),
	STR("iface.strict_login_compliance", IF, strict_login_compliance, REC_C_TOKEN, 0),
	STR("iface.discovery_auth", IF, discovery_auth, REC_C_TOKEN, 0),
	STR("iface.discovery_logout", IF, discovery_logout, REC_C_TOKEN, 0),
};
#undef IF

/* ---- node.* ---- */
#define NR struct node_rec
static const struct rec_field node_head[] = {
	STR("node.name", NR, name, REC_C_NAME, REC_F_IDENT),
	INT("node.tpgt", NR, tpgt, -1, 65535, REC_F_IDENT),
	ENUM("node.startup", NR, startup, w_startup3, 0),
	BOOL("node.leading_login", NR, leading_login, 0),
};

static const struct rec_field node_tail[] = {
	STR("node.discovery_address", NR, disc_address, REC_C_HOST, REC_F_IDENT),
	INT("node.discovery_port", NR, disc_port, 0, 65535, REC_F_IDENT),
	ENUM("node.discovery_type", NR, disc_type, w_node_disc, REC_F_IDENT),
	INT("node.session.initial_cmdsn", NR, session.initial_cmdsn, 0, INT_MAX, 0),
	INT("node.session.initial_login_retry_max", NR, session.initial_login_retry_max, 0, RETRY_MAX, 0),
	INT("node.session.xmit_thread_priority", NR, session.xmit_thread_priority, -20, 19, 0),
	INT("node.session.cmds_max", NR, session.cmds_max, 2, 2048, REC_F_POW2),
	INT("node.session.queue_depth", NR, session.queue_depth, 1, 1024, 0),
	INT("node.session.nr_sessions", NR, session.nr_sessions, 1, 256, 0),
	ENUM("node.session.auth.authmethod", NR, session.auth.authmethod, w_auth, 0),
	STR("node.session.auth.username", NR, session.auth.username, REC_C_TEXT, 0),
	STR("node.session.auth.password", NR, session.auth.password, REC_C_TEXT, REC_F_SECRET),
	STR("node.session.auth.username_in", NR, session.auth.username_in, REC_C_TEXT, 0),
	STR("node.session.auth.password_in", NR, session.auth.password_in, REC_C_TEXT, REC_F_SECRET),
	STR("node.session.auth.chap_algs", NR, session.auth.chap_algs, REC_C_CHAP_ALGS, 0),
	/* Negative: queue I/O forever (inventory §2.10), so no lower bound. */
	INT("node.session.timeo.replacement_timeout", NR, session.replacement_timeout, INT_MIN, INT_MAX, 0),
	INT("node.session.err_timeo.abort_timeout", NR, session.abort_timeout, 0, TMO_MAX, 0),
	INT("node.session.err_timeo.lu_reset_timeout", NR, session.lu_reset_timeout, 0, TMO_MAX, 0),
	INT("node.session.err_timeo.tgt_reset_timeout", NR, session.tgt_reset_timeout, 0, TMO_MAX, 0),
	INT("node.session.err_timeo.host_reset_timeout", NR, session.host_reset_timeout, 0, TMO_MAX, 0),
	BOOL("node.session.iscsi.FastAbort", NR, session.fast_abort, 0),
	BOOL("node.session.iscsi.InitialR2T", NR, session.initial_r2t, 0),
	BOOL("node.session.iscsi.ImmediateData", NR, session.immediate_data, 0),
	INT("node.session.iscsi.FirstBurstLength", NR, session.first_burst_length, DLEN_MIN, DLEN_MAX, 0),
	INT("node.session.iscsi.MaxBurstLength", NR, session.max_burst_length, DLEN_MIN, DLEN_MAX, 0),
	INT("node.session.iscsi.DefaultTime2Retain", NR, session.default_time2retain, 0, 3600, 0),
	INT("node.session.iscsi.DefaultTime2Wait", NR, session.default_time2wait, 0, 3600, 0),
	INT("node.session.iscsi.MaxConnections", NR, session.max_connections, 1, 65535, 0),
	INT("node.session.iscsi.MaxOutstandingR2T", NR, session.max_outstanding_r2t, 1, 65535, 0),
	INT("node.session.iscsi.ERL", NR, session.erl, 0, 2, 0),
	ENUM("node.session.scan", NR, session.scan, w_scan, 0),
	INT("node.session.reopen_max", NR, session.reopen_max, 0, RETRY_MAX, 0),
	STR("node.conn[0].address", NR, conn.address, REC_C_HOST, REC_F_IDENT),
	INT("node.conn[0].port", NR, conn.port, 1, 65535, REC_F_IDENT),
	ENUM("node.conn[0].startup", NR, conn.startup, w_startup3, 0),
	INT("node.conn[0].tcp.window_size", NR, conn.tcp_window_size, 0, INT_MAX, 0),
	INT("node.conn[0].tcp.type_of_service", NR, conn.tcp_type_of_service, 0, 255, 0),
	INT("node.conn[0].timeo.logout_timeout", NR, conn.logout_timeout, 0, TMO_MAX, 0),
	INT("node.conn[0].timeo.login_timeout", NR, conn.login_timeout, 1, TMO_MAX, 0),
	INT("node.conn[0].timeo.auth_timeout", NR, conn.auth_timeout, 0, TMO_MAX, 0),
	INT("node.conn[0].timeo.noop_out_interval", NR, conn.noop_out_interval, 0, TMO_MAX, 0),
	INT("node.conn[0].timeo.noop_out_timeout", NR, conn.noop_out_timeout, 0, TMO_MAX, 0),
	INT("node.conn[0].iscsi.MaxXmitDataSegmentLength", NR, conn.max_xmit_dlength, DLEN_MIN, DLEN_MAX,
	    REC_F_ZERO_OK),
	INT("node.conn[0].iscsi.MaxRecvDataSegmentLength", NR, conn.max_recv_dlength, DLEN_MIN, DLEN_MAX, 0),
	ENUM("node.conn[0].iscsi.HeaderDigest", NR, conn.header_digest, w_digest, 0),
	ENUM("node.conn[0].iscsi.DataDigest", NR, conn.data_digest, w_digest, 0),
	BOOL("node.conn[0].iscsi.IFMarker", NR, conn.ifmarker, 0),
	BOOL("node.conn[0].iscsi.OFMarker", NR, conn.ofmarker, 0),
	/* Written by older open-iscsi versions; their values are derived. */
	IGNORE("node.session.auth.password_length"),
	IGNORE("node.session.auth.password_in_length"),
	/* Pre-iface records named the transport here. */
	{ .key = "node.transport_name", .type = REC_T_STR, .check = REC_C_TRANSPORT, .flags = REC_F_HIDDEN,
	  .offset = offsetof(NR, iface.transport_name), .size = FSIZE(NR, iface.transport_name) },
};
#undef NR

/* ---- discovery.* ---- */
#define DR struct discovery_rec
static const struct rec_field disc_fields[] = {
	ENUM("discovery.startup", DR, startup, w_startup2, 0),
	ENUM("discovery.type", DR, type, w_disc, REC_F_IDENT),
	STR("discovery.sendtargets.address", DR, address, REC_C_HOST, REC_F_IDENT | REC_F_ST),
	INT("discovery.sendtargets.port", DR, port, 1, 65535, REC_F_IDENT | REC_F_ST),
	ENUM("discovery.sendtargets.auth.authmethod", DR, auth.authmethod, w_auth, REC_F_ST),
	STR("discovery.sendtargets.auth.username", DR, auth.username, REC_C_TEXT, REC_F_ST),
	STR("discovery.sendtargets.auth.password", DR, auth.password, REC_C_TEXT, REC_F_ST | REC_F_SECRET),
	STR("discovery.sendtargets.auth.username_in", DR, auth.username_in, REC_C_TEXT, REC_F_ST),
	STR("discovery.sendtargets.auth.password_in", DR, auth.password_in, REC_C_TEXT,
	    REC_F_ST | REC_F_SECRET),
	/* open-iscsi stores the discovery CHAP list under the node key. */
	STR("node.session.auth.chap_algs", DR, auth.chap_algs, REC_C_CHAP_ALGS, REC_F_ST),
	INT("discovery.sendtargets.timeo.login_timeout", DR, login_timeout, 1, TMO_MAX, REC_F_ST),
	BOOL("discovery.sendtargets.use_discoveryd", DR, use_discoveryd, REC_F_ST),
	INT("discovery.sendtargets.discoveryd_poll_inval", DR, discoveryd_poll_inval, 0, TMO_MAX, REC_F_ST),
	INT("discovery.sendtargets.reopen_max", DR, reopen_max, 0, RETRY_MAX, REC_F_ST),
	INT("discovery.sendtargets.timeo.auth_timeout", DR, auth_timeout, 0, TMO_MAX, REC_F_ST),
	INT("discovery.sendtargets.timeo.active_timeout", DR, active_timeout, 0, TMO_MAX, REC_F_ST),
	INT("discovery.sendtargets.iscsi.MaxRecvDataSegmentLength", DR, max_recv_dlength, DLEN_MIN, DLEN_MAX,
	    REC_F_ST),
	STR("discovery.isns.address", DR, address, REC_C_HOST, REC_F_IDENT | REC_F_ISNS),
	INT("discovery.isns.port", DR, port, 1, 65535, REC_F_IDENT | REC_F_ISNS),
	BOOL("discovery.isns.use_discoveryd", DR, use_discoveryd, REC_F_ISNS),
	/* -1: never poll (open-iscsi's iSNS default). */
	INT("discovery.isns.discoveryd_poll_inval", DR, discoveryd_poll_inval, -1, TMO_MAX, REC_F_ISNS),
	IGNORE("discovery.sendtargets.auth.password_length"),
	IGNORE("discovery.sendtargets.auth.password_in_length"),
};
#undef DR

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct rec_section node_sections[] = {
	{ node_head, N(node_head), 0, 0 },
	{ iface_fields, N(iface_fields), offsetof(struct node_rec, iface), REC_S_NODE_IFACE },
	{ node_tail, N(node_tail), 0, 0 },
};
static const struct rec_section iface_sections[] = {
	{ iface_fields, N(iface_fields), 0, 0 },
};
static const struct rec_section disc_sections[] = {
	{ disc_fields, N(disc_fields), 0, 0 },
};

static const struct rec_schema schemas[] = {
	[REC_KIND_NODE] = { node_sections, N(node_sections), offsetof(struct node_rec, extras) },
	[REC_KIND_DISCOVERY] = { disc_sections, N(disc_sections), offsetof(struct discovery_rec, extras) },
	[REC_KIND_IFACE] = { iface_sections, N(iface_sections), offsetof(struct iface_rec, extras) },
};

const struct rec_schema *rec_schema_get(enum rec_kind kind)
{
	if ((unsigned)kind >= N(schemas))
		return NULL;
	return &schemas[kind];
}

const struct rec_field *rec_schema_find(enum rec_kind kind, const char *key, size_t *ret_base,
					unsigned *ret_section_flags)
{
	const struct rec_schema *s = rec_schema_get(kind);

	if (!s || !key)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		const struct rec_section *sec = &s->sections[i];
		for (size_t j = 0; j < sec->n; j++) {
			if (strcmp(sec->fields[j].key, key) != 0)
				continue;
			if (ret_base)
				*ret_base = sec->base;
			if (ret_section_flags)
				*ret_section_flags = sec->flags;
			return &sec->fields[j];
		}
	}
	return NULL;
}

int rec_field_visible(enum rec_kind kind, const void *rec, const struct rec_field *f, size_t base)
{
	if (f->flags & REC_F_HIDDEN)
		return 0;
	if (f->flags & (REC_F_IPV4 | REC_F_IPV6)) {
		/* open-iscsi picks the block by the iface's name. */
		const struct iface_rec *ifr = (const struct iface_rec *)((const char *)rec + base);
		bool v6 = strstr(ifr->name, "ipv6") != NULL;
		return (f->flags & REC_F_IPV6) ? v6 : !v6;
	}
	if (kind == REC_KIND_DISCOVERY && (f->flags & (REC_F_ST | REC_F_ISNS))) {
		const struct discovery_rec *d = rec;
		if (f->flags & REC_F_ST)
			return d->type == REC_DISC_SENDTARGETS;
		return d->type == REC_DISC_ISNS;
	}
	return 1;
}
