/* Wiping memory that may hold secrets (see secmem.h). */
#include "secmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

void *secmem_grow(void *old, size_t used, size_t old_cap, size_t new_cap)
{
	void *n;

	if (used > old_cap || used > new_cap) {
		errno = EINVAL;
		return NULL;
	}
	n = malloc(new_cap ? new_cap : 1);
	if (!n)
		return NULL;
	if (old) {
		memcpy(n, old, used);
		explicit_bzero(old, old_cap);
		free(old);
	}
	return n;
}

void secmem_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

int secmem_protect_process(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
