/* iscsid's own view of its sessions (what SESSION_LIST_STATE reports as
 * "Internal iscsid Session State", what LOGOUT and RESCAN select from,
 * what duplicate logins are checked against). One writer: the transport
 * (for the kernel path ks_table_sync() in iscsid/ksession.c) adds a
 * session when it first reaches LOGGED_IN or is adopted, updates its
 * state, and removes it when it ends. Request handlers only read it. */
#ifndef ISCSID_SESSION_H
#define ISCSID_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_PORTAL_SIZE 300
#define SESSION_MAX 4096          /* cap on tracked sessions */

struct session {
	uint32_t sid;
	uint32_t host_no;
	char target[224];                  /* RFC 7143 §4.2.7.1: 223 bytes */
	char portal[SESSION_PORTAL_SIZE];  /* "address:port", "[v6]:port" */
	char iface[65];
	const char *state;                 /* static text: "LOGGED_IN", "REOPEN" ... */
	const char *conn_state;            /* static text: "LOGGED IN", "IN LOGIN" ... */
	struct session *next;
};

struct session_table {
	struct session *head;
	size_t n;
};

void session_table_init(struct session_table *t);
void session_table_clear(struct session_table *t);
/* Adds a copy. -EEXIST same sid, -ENOSPC over SESSION_MAX, -ENOMEM. */
int session_add(struct session_table *t, const struct session *s);
int session_remove(struct session_table *t, uint32_t sid);
struct session *session_find(const struct session_table *t, uint32_t sid);
/* Whether s is to target (exact), and to portal / iface when those are
 * not NULL or "". */
bool session_matches(const struct session *s, const char *target, const char *portal,
		     const char *iface);
/* Sessions to target (exact), and to portal / iface when not NULL or "".
 * Returns how many match; *ret_first is the first one (NULL if none). */
size_t session_match(const struct session_table *t, const char *target, const char *portal,
		     const char *iface, struct session **ret_first);

#endif
