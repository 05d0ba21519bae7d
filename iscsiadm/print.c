/* open-iscsi's output formats for records, ifaces, discovery records and
 * hosts, and their JSON forms. Sessions are in print_session.c. */
#include "print.h"

#include <stdlib.h>
#include <string.h>

void print_fmt_addr_port(char *buf, size_t len, const char *addr, int port)
{
	if (strchr(addr, ':'))
		snprintf(buf, len, "[%s]:%d", addr, port);
	else
		snprintf(buf, len, "%s:%d", addr, port);
}

static const char *or_empty(const char *s)
{
	return s && *s ? s : PRINT_EMPTY;
}

/* ---- node records ---- */

void node_id_from_rec(const struct node_rec *r, struct node_id *ret)
{
	ret->target = r->name;
	ret->address = r->conn.address;
	ret->port = r->conn.port;
	ret->tpgt = r->tpgt;
	ret->iface = r->iface.name[0] ? r->iface.name : "default";
}

/* The decimal digits of v at p (no NUL); returns the end. */
static char *put_int(char *p, int v)
{
	char tmp[12];
	size_t n = 0;
	unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*p++ = '-';
	while (n)
		*p++ = tmp[--n];
	return p;
}

#define FLAT_LINE_MAX (REC_HOST_SIZE + REC_NAME_SIZE + 40)

/* "ADDR:PORT,TPGT TARGET\n" ("[ADDR]" for IPv6), open-iscsi's flat node
 * line, at line (FLAT_LINE_MAX bytes); its length, or 0 when the
 * strings are longer than any record holds (then printf does it). Built
 * by hand: printf's format parsing cost more than the rest of a
 * 1000-target discovery's output. */
static size_t flat_line(char *line, const struct node_id *id)
{
	size_t al = strlen(id->address), tl = strlen(id->target);
	char *p = line;

	if (al >= REC_HOST_SIZE || tl >= REC_NAME_SIZE)
		return 0;
	bool v6 = memchr(id->address, ':', al) != NULL;
	if (v6)
		*p++ = '[';
	memcpy(p, id->address, al);
	p += al;
	if (v6)
		*p++ = ']';
	*p++ = ':';
	p = put_int(p, id->port);
	*p++ = ',';
	p = put_int(p, id->tpgt);
	*p++ = ' ';
	memcpy(p, id->target, tl);
	p += tl;
	*p++ = '\n';
	return (size_t)(p - line);
}

static void flat_line_printf(FILE *f, const struct node_id *id)
{
	char ap[REC_HOST_SIZE + 16];

	print_fmt_addr_port(ap, sizeof(ap), id->address, id->port);
	fprintf(f, "%s,%d %s\n", ap, id->tpgt, id->target);
}

void print_node_id_flat(FILE *f, const struct node_id *id)
{
	char line[FLAT_LINE_MAX];
	size_t n = flat_line(line, id);

	if (n)
		fwrite(line, 1, n, f);
	else
		flat_line_printf(f, id);
}

void print_node_ids_flat(FILE *f, const struct node_id *ids, size_t n)
{
	/* Lines gathered in chunks larger than stdio's buffer, which
	 * fwrite() passes on in one write(): a few system calls for a
	 * thousand lines instead of one per 4 KiB. */
	enum { CHUNK = 64 * 1024 };
	char *buf = n > 1 ? malloc(CHUNK) : NULL;
	size_t used = 0;

	if (!buf) {
		for (size_t i = 0; i < n; i++)
			print_node_id_flat(f, &ids[i]);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (used + FLAT_LINE_MAX > CHUNK) {
			fwrite(buf, 1, used, f);
			used = 0;
		}
		size_t l = flat_line(buf + used, &ids[i]);
		if (l) {
			used += l;
			continue;
		}
		fwrite(buf, 1, used, f);
		used = 0;
		flat_line_printf(f, &ids[i]);
	}
	fwrite(buf, 1, used, f);
	free(buf);
}

void print_node_flat(FILE *f, const struct node_rec *r)
{
	struct node_id id;

	node_id_from_rec(r, &id);
	print_node_id_flat(f, &id);
}

void print_node_id_tree(FILE *f, const struct node_id *ids, size_t n, enum print_tree form)
{
	const struct node_id *prev = NULL;
	const char *prefix = form == PRINT_TREE_IFACE ? "\t" : "";
	char ap[REC_HOST_SIZE + 16];

	for (size_t i = 0; i < n; i++) {
		const struct node_id *r = &ids[i];
		if (!prev || strcmp(prev->target, r->target)) {
			fprintf(f, "%sTarget: %s\n", prefix, r->target);
			prev = NULL;
		}
		if (form != PRINT_TREE_DISC || !prev || strcmp(prev->address, r->address) || prev->port != r->port) {
			print_fmt_addr_port(ap, sizeof(ap), r->address, r->port);
			fprintf(f, "%s\tPortal: %s,%d\n", prefix, ap, r->tpgt);
		}
		if (form != PRINT_TREE_IFACE)
			fprintf(f, "\t\tIface Name: %s\n", r->iface);
		prev = r;
	}
}

void print_node_tree(FILE *f, const struct node_rec *const *recs, size_t n, enum print_tree form)
{
	struct node_id *ids = calloc(n ? n : 1, sizeof(*ids));

	if (!ids)
		return;
	for (size_t i = 0; i < n; i++)
		node_id_from_rec(recs[i], &ids[i]);
	print_node_id_tree(f, ids, n, form);
	free(ids);
}

void json_node_id(struct json *j, const struct node_id *id)
{
	json_object_begin(j);
	json_kv_str(j, "target", id->target);
	json_kv_str(j, "address", id->address);
	json_kv_int(j, "port", id->port);
	json_kv_int(j, "tpgt", id->tpgt);
	json_kv_str(j, "iface", id->iface);
	json_object_end(j);
}

void json_node(struct json *j, const struct node_rec *r)
{
	struct node_id id;

	node_id_from_rec(r, &id);
	json_node_id(j, &id);
}

struct json_rec_ctx {
	struct json *j;
};

static int json_rec_visit(const char *key, const char *value, void *userdata)
{
	struct json_rec_ctx *c = userdata;

	json_kv_str_or_null(c->j, key, value);
	return 0;
}

void json_record(struct json *j, enum rec_kind kind, const void *rec, bool show_secrets)
{
	struct json_rec_ctx c = { .j = j };

	json_object_begin(j);
	rec_foreach(kind, rec, show_secrets ? REC_FMT_SECRETS : REC_FMT_SHOW, json_rec_visit, &c);
	json_object_end(j);
}

/* ---- ifaces ---- */

void print_iface_flat(FILE *f, const struct iface_rec *r)
{
	fprintf(f, "%s %s,%s,%s,%s,%s\n", r->name, or_empty(r->transport_name), or_empty(r->hwaddress),
		or_empty(r->ipaddress), or_empty(r->netdev), or_empty(r->iname));
}

void json_iface(struct json *j, const struct iface_rec *r)
{
	json_object_begin(j);
	json_kv_str(j, "name", r->name);
	json_kv_str_or_null(j, "transport", r->transport_name);
	json_kv_str_or_null(j, "hwaddress", r->hwaddress);
	json_kv_str_or_null(j, "ipaddress", r->ipaddress);
	json_kv_str_or_null(j, "netdev", r->netdev);
	json_kv_str_or_null(j, "initiatorname", r->iname);
	json_object_end(j);
}

/* ---- discovery records ---- */

static const char *disc_type_word(enum rec_disc_type t)
{
	return t == REC_DISC_ISNS ? "isns" : "sendtargets";
}

void print_disc_flat(FILE *f, const struct discovery_rec *r)
{
	char ap[REC_HOST_SIZE + 16];

	print_fmt_addr_port(ap, sizeof(ap), r->address, r->port);
	fprintf(f, "%s via %s\n", ap, disc_type_word(r->type));
}

void json_disc(struct json *j, const struct discovery_rec *r)
{
	json_object_begin(j);
	json_kv_str(j, "address", r->address);
	json_kv_int(j, "port", r->port);
	json_kv_str(j, "type", disc_type_word(r->type));
	json_object_end(j);
}

/* ---- hosts ---- */

void print_transport_from_proc(const char *proc_name, char *buf, size_t len)
{
	if (!proc_name || !*proc_name)
		snprintf(buf, len, "%s", "");
	else if (!strncmp(proc_name, "iscsi_", 6))
		snprintf(buf, len, "%s", proc_name + 6);
	else if (!strcmp(proc_name, "ib_iser") || strstr(proc_name, "iSER"))
		snprintf(buf, len, "%s", "iser");
	else
		snprintf(buf, len, "%s", proc_name);
}

static void print_ip(FILE *f, const char *ip, const char *suffix)
{
	if (!*ip)
		fprintf(f, "%s%s", PRINT_EMPTY, suffix);
	else if (strchr(ip, ':'))
		fprintf(f, "[%s]%s", ip, suffix);
	else
		fprintf(f, "%s%s", ip, suffix);
}

void print_host_flat(FILE *f, const struct host_view *v)
{
	fprintf(f, "%s: [%u] ", or_empty(v->transport), v->h.host_no);
	print_ip(f, v->h.ipaddress, ",");
	fprintf(f, "[%s],%s %s\n", or_empty(v->h.hwaddress), or_empty(v->h.netdev), or_empty(v->h.initiatorname));
}

void print_host_tree(FILE *f, const struct host_view *v)
{
	fprintf(f, "Host Number: %u\n", v->h.host_no);
	fprintf(f, "\tState: %s\n", *v->h.state ? v->h.state : "Unknown");
	fprintf(f, "\tTransport: %s\n", or_empty(v->transport));
	fprintf(f, "\tInitiatorname: %s\n", or_empty(v->h.initiatorname));
	fputs("\tIPaddress: ", f);
	print_ip(f, v->h.ipaddress, "\n");
	fprintf(f, "\tHWaddress: %s\n", or_empty(v->h.hwaddress));
	fprintf(f, "\tNetdev: %s\n", or_empty(v->h.netdev));
}

void json_host(struct json *j, const struct host_view *v)
{
	json_object_begin(j);
	json_kv_int(j, "host_no", v->h.host_no);
	json_kv_str_or_null(j, "transport", v->transport);
	json_kv_str_or_null(j, "state", v->h.state);
	json_kv_str_or_null(j, "ipaddress", v->h.ipaddress);
	json_kv_str_or_null(j, "hwaddress", v->h.hwaddress);
	json_kv_str_or_null(j, "netdev", v->h.netdev);
	json_kv_str_or_null(j, "initiatorname", v->h.initiatorname);
	json_object_end(j);
}
