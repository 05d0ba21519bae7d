/* Objects that live as long as a session (the layer's entry, the kernel
 * carrier's session), packed into slabs of their own.
 *
 * Why not malloc: a burst of N logins holds N logins' worth of request
 * buffers at once, and malloc places each session's objects between
 * them. Once the burst is over those buffers are free, but every page
 * that still holds a session object stays resident: iscsid kept ~9 KiB
 * of pages for each ~4.5 KiB session. In slabs the sessions' objects sit
 * side by side whatever else was allocated around them.
 *
 * A slab is POOL_SLAB_SIZE bytes of anonymous memory, or one page where
 * pages are larger (64 KiB on some arm64 and ppc64 kernels): mmap'ed at
 * an address that is a multiple of its size, so that pool_free finds it;
 * it is unmapped once its last object is freed (one empty slab is kept,
 * against thrashing). Small slabs: iscsid's memory is locked
 * (memlock.h), so a slab is resident as a whole from the start. An
 * object type must leave room for at least four in the smallest slab
 * (POOL_INIT fails to compile otherwise). Single-threaded, like the rest
 * of iscsid. Under AddressSanitizer objects come from calloc, so that
 * use after free is still caught (other sanitizers get slabs). pool_free
 * of a pointer no pool_alloc of p returned aborts where the slab can
 * tell. */
#ifndef ISCSID_POOL_H
#define ISCSID_POOL_H

#include <stddef.h>

#define POOL_SLAB_SIZE (16u * 1024u)
/* The largest object: four of them and a slab's head fit in a slab. */
#define POOL_MAX_OBJ ((POOL_SLAB_SIZE - 64u) / 4u)

struct pool_slab;

struct pool {
	size_t size;                    /* of an object (set by POOL_INIT) */
	struct pool_slab *slabs;        /* slabs with a free object */
	struct pool_slab *full;         /* slabs without */
	struct pool_slab *spare;        /* an empty slab kept */
	size_t nslabs;                  /* mapped, the spare included */
	size_t nobjs;                   /* allocated */
};

#define POOL_INIT(type)                                                                           \
	{ .size = sizeof(type) + 0 * sizeof(struct {                                                \
		  _Static_assert(sizeof(type) <= POOL_MAX_OBJ, #type " is too large for a pool slab"); \
		  char c;                                                                            \
	  }) }

/* A zeroed object, or NULL (out of memory, or p->size above
 * POOL_MAX_OBJ for a pool not made by POOL_INIT). */
void *pool_alloc(struct pool *p);
/* Returns obj (from pool_alloc(p)) to p. NULL is a no-op. */
void pool_free(struct pool *p, void *obj);
/* The memory p has mapped (resident, with iscsid's memory locked), or
 * under AddressSanitizer the bytes of its objects. */
size_t pool_bytes(const struct pool *p);

#endif
