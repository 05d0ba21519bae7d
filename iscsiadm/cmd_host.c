/* -m host: the iSCSI SCSI hosts in sysfs (class/iscsi_host).
 * Offload-HBA sub-modes (-C chap|flashnode|stats|ping) need HBA drivers
 * this initiator does not drive: they answer "not supported". */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adm.h"
#include "errors.h"
#include "json.h"
#include "print.h"
#include "sessions.h"

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/* Sorted host numbers of class/iscsi_host/host*; an absent class (no
 * iSCSI module) is an empty list. */
static int list_hosts(const struct adm *a, uint32_t **ret, size_t *ret_n)
{
	char path[4096];
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;

	snprintf(path, sizeof(path), "%s/class/iscsi_host", a->sysfs_root ? a->sysfs_root : "/sys");
	DIR *d = opendir(path);
	if (!d) {
		*ret = NULL;
		*ret_n = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	struct dirent *e;
	while ((e = readdir(d)) && n < SYSFS_LIST_MAX) {
		char *end;
		if (strncmp(e->d_name, "host", 4) || !e->d_name[4])
			continue;
		unsigned long h = strtoul(e->d_name + 4, &end, 10);
		if (*end || h > UINT32_MAX)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			uint32_t *nv = realloc(v, nc * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = (uint32_t)h;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_u32);
	*ret = v;
	*ret_n = n;
	return 0;
}

static void host_view(const struct adm *a, uint32_t h, struct host_view *hv)
{
	memset(hv, 0, sizeof(*hv));
	if (sysfs_host_read(a->sysfs_root, h, &hv->h))
		hv->h.host_no = h;
	print_transport_from_proc(hv->h.proc_name, hv->transport, sizeof(hv->transport));
}

/* -P 2..4: the sessions on this host, in the session tree format. */
static void host_sessions(struct adm *a, uint32_t h, int level)
{
	struct sess_view *v = NULL;
	size_t n = 0, k = 0;
	/* open-iscsi: host -P 2 = session -P 1, 3 = 2, 4 = 3 */
	int slevel = level - 1;

	if (sessions_load(a, slevel, false, &v, &n))
		return;
	/* Shallow copies of this host's sessions: v keeps ownership. */
	struct sess_view *sel = calloc(n ? n : 1, sizeof(*sel));
	if (sel) {
		for (size_t i = 0; i < n; i++)
			if (v[i].s.host_no >= 0 && (uint32_t)v[i].s.host_no == h)
				sel[k++] = v[i];
		if (k) {
			printf("\t*********\n\tSessions:\n\t*********\n");
			print_sessions_order(sel, k);
			print_sessions_tree(stdout, sel, k, slevel, "\t", false);
		}
		free(sel);
	}
	sessions_free(v, n);
}

int cmd_host(struct adm *a)
{
	uint32_t *hosts = NULL, one;
	size_t n = 0;
	int level = a->print_level, r;

	if (a->submode || a->ops || a->n_params) {
		adm_err("host mode: %s is for offload HBAs, which this initiator does not manage",
			a->submode ? "-C" : "-o/-n/-v");
		return ISCSI_ERR_OP_NOT_SUPP;
	}
	if (level > 4) {
		adm_err("Invalid info level %d. Try 0 - 4.", level);
		return ISCSI_ERR_INVAL;
	}
	if (a->host_arg) {
		char *end;
		unsigned long h = strtoul(a->host_arg, &end, 10);
		if (*end || end == a->host_arg || h > UINT32_MAX) {
			adm_err("invalid host number '%s' (hosts named by MAC address are offload HBAs)",
				a->host_arg);
			return ISCSI_ERR_INVAL;
		}
		one = (uint32_t)h;
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/class/iscsi_host/host%" PRIu32,
			 a->sysfs_root ? a->sysfs_root : "/sys", one);
		if (stat(path, &st)) {
			adm_err("host%" PRIu32 " is not an iSCSI host", one);
			return ISCSI_ERR_HOST_NOT_FOUND;
		}
		hosts = malloc(sizeof(*hosts));
		if (!hosts)
			return ISCSI_ERR_NOMEM;
		hosts[0] = one;
		n = 1;
		if (level < 0)
			level = 1;
	} else {
		r = list_hosts(a, &hosts, &n);
		if (r) {
			adm_err("Can not get list of iSCSI hosts: %s", strerror(-r));
			return ISCSI_ERR_SYSFS_LOOKUP;
		}
	}

	struct json j;
	if (a->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "hosts");
		json_array_begin(&j);
	}
	for (size_t i = 0; i < n; i++) {
		struct host_view hv;
		host_view(a, hosts[i], &hv);
		if (a->json)
			json_host(&j, &hv);
		else if (level <= 0)
			print_host_flat(stdout, &hv);
		else {
			print_host_tree(stdout, &hv);
			if (level >= 2)
				host_sessions(a, hosts[i], level);
		}
	}
	r = 0;
	if (a->json) {
		json_array_end(&j);
		json_object_end(&j);
		r = json_end(&j) ? ISCSI_ERR : 0;
	}
	free(hosts);
	if (n == 0) {
		adm_err("No iSCSI hosts.");
		return ISCSI_ERR_NO_OBJS_FOUND;
	}
	return r;
}
