/* Memory that may hold secrets (CHAP passwords in node, discovery and
 * iface records, iscsid.conf text, login key lists): blocks are wiped
 * before they go back to the allocator, and the process keeps them out of
 * core dumps. realloc() is never used for such blocks: when it moves a
 * block it frees the old one as it is, secrets included. */
#ifndef LIBINITIATOR_SECMEM_H
#define LIBINITIATOR_SECMEM_H

#include <stddef.h>

/* A block of new_cap bytes holding the first `used` bytes of old (NULL:
 * none); old (old_cap bytes) is wiped and freed. NULL (errno ENOMEM) when
 * there is no memory; old is then untouched and still the caller's. */
void *secmem_grow(void *old, size_t used, size_t old_cap, size_t new_cap);

/* Wipes len bytes of p, then frees it. NULL is a no-op. */
void secmem_free(void *p, size_t len);

/* No core dumps of this process and no ptrace by other processes of the
 * same user (PR_SET_DUMPABLE 0), for programs that read secrets. Also
 * makes /proc/<pid> root's. 0 or a negative errno. */
int secmem_protect_process(void);

#endif
