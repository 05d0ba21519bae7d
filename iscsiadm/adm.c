/* Context and message helpers shared by the mode files. */
#include "adm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "json.h"
#include "print.h"

void adm_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("iscsiadm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void adm_info(const struct adm *a, const char *fmt, ...)
{
	va_list ap;

	if (a->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void adm_dbg(const struct adm *a, int level, const char *fmt, ...)
{
	va_list ap;

	if (a->debug < level)
		return;
	fputs("iscsiadm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Whether a notice was printed already by this process: a command that
 * scans the node database twice (find, then update) names a directory it
 * leaves out once. Remembers the first NOTICES_SEEN (by hash); past
 * them, notices repeat rather than go unsaid. */
#define NOTICES_SEEN 64
static bool notice_seen(const char *line)
{
	static uint32_t seen[NOTICES_SEEN];
	static size_t n_seen;
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (const char *p = line; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (size_t i = 0; i < n_seen; i++)
		if (seen[i] == h)
			return true;
	if (n_seen < NOTICES_SEEN)
		seen[n_seen++] = h;
	return false;
}

/* Prints what a file parser reported: errors, REC_DIAG_FALLBACK (a value
 * not used as written) and REC_DIAG_NOTICE (once each) always, other
 * warnings at -d 1. */
void adm_print_diags(const struct adm *a, const struct rec_diags *d)
{
	char line[512];

	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].level == REC_DIAG_WARNING && a->debug < 1)
			continue;
		rec_diag_format(&d->v[i], line, sizeof(line));
		if (d->v[i].level == REC_DIAG_NOTICE && notice_seen(line))
			continue;
		adm_err("%s", line);
	}
	if (d->dropped && a->debug >= 1)
		adm_err("%zu more diagnostics not shown", d->dropped);
}

int adm_config(struct adm *a)
{
	struct rec_diags d;

	if (a->config_loaded)
		return 0;
	rec_diags_init(&d);
	int r = config_load(a->paths.config_file, &a->config, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r == -ENOENT) {
		/* No iscsid.conf: compiled defaults (config_load set them). */
		adm_dbg(a, 1, "%s not found, using built-in defaults", a->paths.config_file);
		r = 0;
	}
	if (r) {
		adm_err("could not read %s: %s", a->paths.config_file,
			r == -EINVAL ? "invalid content (see above)" : strerror(-r));
		return ISCSI_ERR_IDBM;
	}
	a->config_loaded = true;
	return 0;
}

int adm_iname(struct adm *a)
{
	struct rec_diags d;

	if (a->iname_loaded)
		return a->iname_err;
	rec_diags_init(&d);
	int r = iname_load(a->paths.iname_file, &a->iname, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	a->iname_loaded = true;
	if (r == -ENOENT) {
		adm_err("No initiator name set: %s does not exist. Create it with a line "
			"\"InitiatorName=<iqn>\" (iscsi-iname prints a fresh name).",
			a->paths.iname_file);
		a->iname_err = ISCSI_ERR_INVAL;
	} else if (r) {
		adm_err("could not read the initiator name from %s: %s", a->paths.iname_file,
			r == -EINVAL ? "invalid content (see above)" : strerror(-r));
		a->iname_err = r == -EINVAL ? ISCSI_ERR_INVAL : ISCSI_ERR_IDBM;
	}
	return a->iname_err;
}

const char *adm_param(const struct adm *a, const char *name)
{
	for (size_t i = a->n_params; i-- > 0;)
		if (!strcmp(a->params[i].name, name))
			return a->params[i].value;
	return NULL;
}

int adm_errno_to_exit(int e)
{
	switch (e) {
	case 0:
		return 0;
	case -ENOENT:
		return ISCSI_ERR_NO_OBJS_FOUND;
	case -EINVAL:
	case -ERANGE:
	case -EPERM:
	case -ENAMETOOLONG:
		return ISCSI_ERR_INVAL;
	case -ENOMEM:
		return ISCSI_ERR_NOMEM;
	case -EACCES:
		return ISCSI_ERR_ACCESS;
	default:
		return ISCSI_ERR_IDBM;
	}
}

const char *adm_iface_name(const struct adm *a)
{
	return a->n_ifaces ? a->ifaces[0] : "default";
}

int adm_show_record(const struct adm *a, enum rec_kind kind, const void *rec, unsigned flags)
{
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "records");
		json_array_begin(&j);
		json_record(&j, kind, rec, a->show_secrets);
		json_array_end(&j);
		json_object_end(&j);
		return json_end(&j) ? ISCSI_ERR : 0;
	}
	return rec_fprint(kind, rec, flags, stdout) ? ISCSI_ERR : 0;
}
