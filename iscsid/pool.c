/* Slabs of session-lived objects (pool.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

static size_t page_size(void)
{
	static size_t ps;
	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);
		ps = v > 0 ? (size_t)v : 4096u;
	}
	return ps;
}

/* POOL_SLAB_SIZE, or a page where pages are larger (both powers of two):
 * munmap and madvise work on whole pages. */
static size_t slab_size(void)
{
	return page_size() > POOL_SLAB_SIZE ? page_size() : POOL_SLAB_SIZE;
}

static size_t obj_size(const struct pool *p)
{
	size_t sz = p->size < sizeof(void *) ? sizeof(void *) : p->size;
	return (sz + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN;
}

static size_t head_size(void)
{
	return (sizeof(struct pool_slab) + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN;
}

_Static_assert(sizeof(struct pool_slab) <= 64u, "POOL_MAX_OBJ assumes a slab head of at most 64 bytes");

static size_t per_slab(const struct pool *p)
{
	return (slab_size() - head_size()) / obj_size(p);
}

static bool slab_full(const struct pool *p, const struct pool_slab *sl)
{
	return !sl->nfree && sl->ntouched == per_slab(p);
}

static void unlink_slab(struct pool_slab **head, struct pool_slab *sl)
{
	if (sl->prev)
		sl->prev->next = sl->next;
	else
		*head = sl->next;
	if (sl->next)
		sl->next->prev = sl->prev;
	sl->next = sl->prev = NULL;
}

static void push_front(struct pool_slab **head, struct pool_slab *sl)
{
	sl->prev = NULL;
	sl->next = *head;
	if (*head)
		(*head)->prev = sl;
	*head = sl;
}

/* A slab aligned to its size: map twice the size, unmap the rest. */
static struct pool_slab *slab_map(void)
{
	size_t ss = slab_size(), len = 2u * ss;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)m + ss - 1) & ~(uintptr_t)(ss - 1);
	uint8_t *start = (uint8_t *)a;
	if (start > m)
		munmap(m, (size_t)(start - m));
	if (start + ss < m + len)
		munmap(start + ss, (size_t)(m + len - (start + ss)));
	struct pool_slab *sl = (struct pool_slab *)start;
	memset(sl, 0, sizeof(*sl));
	return sl;
}

static struct pool_slab *slab_of(const void *obj)
{
	return (struct pool_slab *)((uintptr_t)obj & ~(uintptr_t)(slab_size() - 1));
}

void *pool_alloc(struct pool *p)
{
	if (p->size > POOL_MAX_OBJ)
		return NULL;
	struct pool_slab *sl = p->slabs;
	if (!sl) {
		if (p->spare) {
			sl = p->spare;
			p->spare = NULL;
		} else {
			sl = slab_map();
			if (!sl)
				return NULL;
			p->nslabs++;
		}
		push_front(&p->slabs, sl);
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
	if (slab_full(p, sl)) {
		unlink_slab(&p->slabs, sl);
		push_front(&p->full, sl);
	}
	memset(o, 0, p->size);
	p->nobjs++;
	return o;
}

void pool_free(struct pool *p, void *obj)
{
	if (!obj)
		return;
	struct pool_slab *sl = slab_of(obj);
	/* not an object this slab handed out (a stray pointer, or a free
	 * into the wrong pool): the lists would be corrupted quietly */
	size_t off = (size_t)((uint8_t *)obj - ((uint8_t *)sl + head_size()));
	if (!sl->nused || (uint8_t *)obj < (uint8_t *)sl + head_size() || off % obj_size(p) ||
	    off / obj_size(p) >= sl->ntouched)
		abort();
	p->nobjs--;
	if (slab_full(p, sl)) {
		/* room again */
		unlink_slab(&p->full, sl);
		push_front(&p->slabs, sl);
	}
	memcpy(obj, &sl->free, sizeof(void *));
	sl->free = obj;
	sl->nfree++;
	sl->nused--;
	if (!sl->nused) {
		unlink_slab(&p->slabs, sl);
		if (!p->spare) {
			/* reset: it starts afresh, its pages after the head's
			 * handed back (unless iscsid is locked in memory) */
			size_t ss = slab_size(), ps = page_size();
			sl->free = NULL;
			sl->nfree = sl->ntouched = 0;
			if (ss > ps)
				(void)madvise((uint8_t *)sl + ps, ss - ps, MADV_DONTNEED);
			p->spare = sl;
		} else {
			munmap(sl, slab_size());
			p->nslabs--;
		}
	}
}

size_t pool_bytes(const struct pool *p)
{
	return p->nslabs * slab_size();
}

#else /* POOL_MALLOC */

void *pool_alloc(struct pool *p)
{
	if (p->size > POOL_MAX_OBJ)
		return NULL;
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
