/* Slabs of session-lived objects (pool.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pool.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_MALLOC 1
#endif
#endif

#ifndef POOL_MALLOC

#define POOL_ALIGN 16u

/* The head of a slab; its objects follow. */
struct pool_slab {
	struct pool_slab *next, *prev;
	void *free;                     /* free objects, linked through their first word */
	size_t nfree;
	size_t nused;
	size_t ntouched;                /* objects ever handed out: the rest are untouched memory */
};

static size_t obj_size(const struct pool *p)
{
	size_t sz = p->size < sizeof(void *) ? sizeof(void *) : p->size;
	return (sz + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN;
}

static size_t head_size(void)
{
	return (sizeof(struct pool_slab) + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN;
}

static size_t per_slab(const struct pool *p)
{
	return (POOL_SLAB_SIZE - head_size()) / obj_size(p);
}

static void unlink_slab(struct pool *p, struct pool_slab *sl)
{
	if (sl->prev)
		sl->prev->next = sl->next;
	else
		p->slabs = sl->next;
	if (sl->next)
		sl->next->prev = sl->prev;
	sl->next = sl->prev = NULL;
}

static void push_front(struct pool *p, struct pool_slab *sl)
{
	sl->prev = NULL;
	sl->next = p->slabs;
	if (p->slabs)
		p->slabs->prev = sl;
	p->slabs = sl;
}

/* A slab aligned to its size: map twice the size, unmap the rest. */
static struct pool_slab *slab_map(void)
{
	size_t len = 2u * POOL_SLAB_SIZE;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)m + POOL_SLAB_SIZE - 1) & ~(uintptr_t)(POOL_SLAB_SIZE - 1);
	uint8_t *start = (uint8_t *)a;
	if (start > m)
		munmap(m, (size_t)(start - m));
	if (start + POOL_SLAB_SIZE < m + len)
		munmap(start + POOL_SLAB_SIZE, (size_t)(m + len - (start + POOL_SLAB_SIZE)));
	struct pool_slab *sl = (struct pool_slab *)start;
	memset(sl, 0, sizeof(*sl));
	return sl;
}

static struct pool_slab *slab_of(const void *obj)
{
	return (struct pool_slab *)((uintptr_t)obj & ~(uintptr_t)(POOL_SLAB_SIZE - 1));
}

void *pool_alloc(struct pool *p)
{
	struct pool_slab *sl = p->slabs;
	if (!sl || (!sl->nfree && sl->ntouched == per_slab(p))) {
		if (p->spare) {
			sl = p->spare;
			p->spare = NULL;
		} else {
			sl = slab_map();
			if (!sl)
				return NULL;
			p->nslabs++;
		}
		push_front(p, sl);
	}
	void *o;
	if (sl->free) {
		o = sl->free;
		memcpy(&sl->free, o, sizeof(void *));
		sl->nfree--;
	} else {
		o = (uint8_t *)sl + head_size() + sl->ntouched * obj_size(p);
		sl->ntouched++;
	}
	sl->nused++;
	if (!sl->nfree && sl->ntouched == per_slab(p)) {
		/* full: behind the slabs with room */
		unlink_slab(p, sl);
		struct pool_slab **pp = &p->slabs;
		struct pool_slab *prev = NULL;
		while (*pp) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		sl->prev = prev;
		*pp = sl;
	}
	memset(o, 0, p->size);
	p->nobjs++;
	return o;
}

void pool_free(struct pool *p, void *obj)
{
	if (!obj)
		return;
	p->nobjs--;
	struct pool_slab *sl = slab_of(obj);
	bool was_full = !sl->nfree && sl->ntouched == per_slab(p);
	memcpy(obj, &sl->free, sizeof(void *));
	sl->free = obj;
	sl->nfree++;
	sl->nused--;
	if (!sl->nused) {
		unlink_slab(p, sl);
		if (!p->spare) {
			/* reset: it starts afresh, its pages handed back (unless
			 * iscsid is locked in memory) */
			sl->free = NULL;
			sl->nfree = sl->ntouched = 0;
			(void)madvise((uint8_t *)sl + 4096, POOL_SLAB_SIZE - 4096, MADV_DONTNEED);
			p->spare = sl;
		} else {
			munmap(sl, POOL_SLAB_SIZE);
			p->nslabs--;
		}
	} else if (was_full) {
		/* room again: to the front */
		unlink_slab(p, sl);
		push_front(p, sl);
	}
}

size_t pool_bytes(const struct pool *p)
{
	return p->nslabs * POOL_SLAB_SIZE;
}

#else /* POOL_MALLOC */

void *pool_alloc(struct pool *p)
{
	void *o = calloc(1, p->size);
	if (o)
		p->nobjs++;
	return o;
}

void pool_free(struct pool *p, void *obj)
{
	if (!obj)
		return;
	p->nobjs--;
	free(obj);
}

size_t pool_bytes(const struct pool *p)
{
	return p->nobjs * p->size;
}

#endif
