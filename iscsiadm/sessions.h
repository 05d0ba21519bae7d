/* Sessions as sysfs shows them (kmod-glue/sysfs.h, root from --sysfs or
 * $ISCSI_SYSFS_ROOT), completed with iscsid's states when it answers. */
#ifndef ISCSIADM_SESSIONS_H
#define ISCSIADM_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adm.h"
#include "print.h"

/* Every session, in sid order: the kernel's (sysfs) and the userspace
 * transport's (sessions_uspace.c: the uspace run directory; from level 1
 * on also iscsid's view).
 * level: SESS_LOAD_FLAT (< 0) only what the one-line listing prints
 * (print_session_flat: target, tpgt, portals, transport, flash; every
 * other field unset), else what to read besides the basics (>= 1 host and iscsid states,
 * >= 2 the uspace records, >= 3 LUNs). show_secrets: read the CHAP
 * secrets (root only). Returns an exit code; *ret_n may be 0. */
#define SESS_LOAD_FLAT (-1)
int sessions_load(struct adm *a, int level, bool show_secrets, struct sess_view **ret, size_t *ret_n);
/* One session; 2 (ISCSI_ERR_SESS_NOT_FOUND) when there is none. */
int sessions_load_one(struct adm *a, uint32_t sid, int level, bool show_secrets, struct sess_view *ret);
void sessions_free(struct sess_view *v, size_t n);
/* What one view holds (LUN lists, secrets), not the view itself: for a
 * view of sessions_load_one() in the caller's own storage. */
void sessions_view_clear(struct sess_view *v);

/* True when a session runs for the record's target, portal (persistent
 * address and port) and iface. */
bool sessions_match_rec(const struct sess_view *v, size_t n, const struct node_rec *rec);
bool session_matches_rec(const struct sess_view *v, const struct node_rec *rec);

/* Addresses compare as addresses ("FD00::1" is "fd00::1"), host names
 * case-insensitively. */
bool sessions_addr_equal(const char *x, const char *y);

/* ---- sessions_uspace.c ---- */
struct ctl_state;
/* The uspace run directory for this iscsiadm's root. */
int sessions_uspace_rundir(struct adm *a, char *buf, size_t len);
/* Appends to *v (n entries, realloc'ed) the uspace sessions not there yet:
 * the run directory's live processes, then iscsid's sessions (st) of a
 * transport other than tcp. 0 or -ENOMEM. */
int sessions_uspace_add(struct adm *a, int level, const struct ctl_state *st, size_t nst, struct sess_view **v,
			size_t *n);
/* One of them; -ENOENT. */
int sessions_uspace_one(struct adm *a, uint32_t sid, int level, const struct ctl_state *st, size_t nst,
			struct sess_view *ret);

/* -r: a number or a sysfs path ending in .../sessionN[/...]. 0 or 7. */
int sessions_parse_sid(const char *arg, uint32_t *ret);

#endif
