/* iscsid's session table (see session.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

void session_table_init(struct session_table *t)
{
	t->head = NULL;
	t->n = 0;
}

void session_table_clear(struct session_table *t)
{
	while (t->head) {
		struct session *s = t->head;
		t->head = s->next;
		free(s);
	}
	t->n = 0;
}

struct session *session_find(const struct session_table *t, uint32_t sid)
{
	for (struct session *s = t->head; s; s = s->next)
		if (s->sid == sid)
			return s;
	return NULL;
}

int session_add(struct session_table *t, const struct session *s)
{
	if (session_find(t, s->sid))
		return -EEXIST;
	if (t->n >= SESSION_MAX)
		return -ENOSPC;
	struct session *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = *s;
	/* keep the list in sid order, as listings print it */
	struct session **pp = &t->head;
	while (*pp && (*pp)->sid < c->sid)
		pp = &(*pp)->next;
	c->next = *pp;
	*pp = c;
	t->n++;
	return 0;
}

int session_remove(struct session_table *t, uint32_t sid)
{
	for (struct session **pp = &t->head; *pp; pp = &(*pp)->next) {
		if ((*pp)->sid != sid)
			continue;
		struct session *s = *pp;
		*pp = s->next;
		free(s);
		t->n--;
		return 0;
	}
	return -ENOENT;
}

bool session_matches(const struct session *s, const char *target, const char *portal,
		     const char *iface)
{
	if (strcmp(s->target, target) != 0)
		return false;
	if (portal && *portal && strcmp(s->portal, portal) != 0)
		return false;
	if (iface && *iface && strcmp(s->iface, iface) != 0)
		return false;
	return true;
}

size_t session_match(const struct session_table *t, const char *target, const char *portal,
		     const char *iface, struct session **ret_first)
{
	size_t n = 0;
	struct session *first = NULL;
	for (struct session *s = t->head; s; s = s->next) {
		if (!session_matches(s, target, portal, iface))
			continue;
		if (!first)
			first = s;
		n++;
	}
	if (ret_first)
		*ret_first = first;
	return n;
}
