/* iscsid/pool.c: slabs of session-lived objects. Objects are zeroed,
 * aligned, never overlap and keep what was written to them; a slab is
 * handed back when its last object is (one spare kept); an object type
 * too large for a slab gets NULL, not memory past the slab's end. The
 * slab checks are skipped under AddressSanitizer, where pool.c hands out
 * calloc'ed objects instead. */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLABS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLABS 0
#endif
#endif
#ifndef SLABS
#define SLABS 1
#endif

struct big { char b[2344]; };          /* a struct ksession's size, about */
struct small { char b[40]; };

static size_t slab_bytes(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	return ps > (long)POOL_SLAB_SIZE ? (size_t)ps : POOL_SLAB_SIZE;
}

/* the object at o (n bytes) lies inside one slab */
static bool in_one_slab(const void *o, size_t n)
{
	uintptr_t a = (uintptr_t)o, ss = slab_bytes();
	return (a & ~(ss - 1)) == ((a + n - 1) & ~(ss - 1));
}

static void fill(void *o, size_t n, unsigned tag)
{
	memset(o, (int)(tag % 251u) + 1, n);
}

static bool intact(const void *o, size_t n, unsigned tag)
{
	const unsigned char *c = o;
	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(tag % 251u + 1))
			return false;
	return true;
}

static bool zeroed(const void *o, size_t n)
{
	const unsigned char *c = o;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

/* Random allocs and frees over two pools against a table of what each
 * live object holds: every new object is zeroed, 16-aligned and inside
 * one slab, and no write to one object shows in another. */
START_TEST(test_pool_random)
{
	enum { N = 600, OPS = 60000 };
	static struct pool pb = POOL_INIT(struct big), psm = POOL_INIT(struct small);
	struct pool *pools[2] = { &pb, &psm };
	const size_t sizes[2] = { sizeof(struct big), sizeof(struct small) };
	static void *live[2][N];
	unsigned seed = 12345;

	for (long it = 0; it < OPS; it++) {
		seed = seed * 1103515245u + 12345u;
		unsigned w = (seed >> 16) & 1, i = (seed >> 17) % N;
		/* phases: mostly allocating, mostly freeing, even */
		unsigned phase = (unsigned)(it / 5000) % 3, r = (seed >> 8) % 4;
		bool alloc = phase == 0 ? r != 0 : phase == 1 ? r == 0 : (r & 1);
		unsigned tag = w * N + i;
		if (live[w][i] && !alloc) {
			ck_assert_msg(intact(live[w][i], sizes[w], tag), "object %u overwritten", tag);
			pool_free(pools[w], live[w][i]);
			live[w][i] = NULL;
		} else if (!live[w][i] && alloc) {
			void *o = pool_alloc(pools[w]);
			ck_assert_ptr_nonnull(o);
			ck_assert(zeroed(o, sizes[w]));
			ck_assert_uint_eq((uintptr_t)o % 16, 0);
			if (SLABS)
				ck_assert(in_one_slab(o, sizes[w]));
			fill(o, sizes[w], tag);
			live[w][i] = o;
		}
	}
	for (unsigned w = 0; w < 2; w++) {
		for (unsigned i = 0; i < N; i++) {
			if (!live[w][i])
				continue;
			ck_assert(intact(live[w][i], sizes[w], w * N + i));
			pool_free(pools[w], live[w][i]);
		}
		ck_assert_uint_eq(pools[w]->nobjs, 0);
		if (SLABS) /* the spare slab only */
			ck_assert_uint_eq(pool_bytes(pools[w]), slab_bytes());
	}
}
END_TEST

/* Slabs are filled before a new one is mapped, a freed slot of a full
 * slab is used again, and empty slabs go back (one kept). */
START_TEST(test_pool_slab_accounting)
{
	static struct pool p = POOL_INIT(struct big);
	if (!SLABS)
		return;
	/* the head takes less than 64 bytes of a slab */
	size_t most = slab_bytes() / sizeof(struct big), least = (slab_bytes() - 64) / (sizeof(struct big) + 15);
	void **v = calloc(3 * most + 1, sizeof(*v));
	ck_assert_ptr_nonnull(v);
	/* as many as fit in one slab */
	size_t per = 0;
	while (per <= most) {
		ck_assert_ptr_nonnull(v[per] = pool_alloc(&p));
		if (pool_bytes(&p) > slab_bytes())
			break;
		per++;
	}
	ck_assert_uint_ge(per, least);
	ck_assert_uint_le(per, most);
	size_t n = 3 * per;
	for (size_t i = per + 1; i < n; i++)
		ck_assert_ptr_nonnull(v[i] = pool_alloc(&p));
	ck_assert_uint_eq(pool_bytes(&p), 3 * slab_bytes());
	ck_assert_ptr_nonnull(v[n] = pool_alloc(&p));
	ck_assert_uint_eq(pool_bytes(&p), 4 * slab_bytes());
	pool_free(&p, v[n]); /* that slab, empty again, becomes the spare */
	ck_assert_uint_eq(pool_bytes(&p), 4 * slab_bytes());
	/* one freed in the first (full) slab: the next object takes its place */
	void *hole = v[1];
	pool_free(&p, hole);
	ck_assert_ptr_eq(v[1] = pool_alloc(&p), hole);
	ck_assert_uint_eq(pool_bytes(&p), 4 * slab_bytes());
	/* all freed: one spare slab stays mapped, the others are unmapped */
	for (size_t i = 0; i < n; i++)
		pool_free(&p, v[i]);
	ck_assert_uint_eq(p.nobjs, 0);
	ck_assert_uint_eq(pool_bytes(&p), slab_bytes());
	/* and serves the next allocation without a new mapping */
	ck_assert_ptr_nonnull(v[0] = pool_alloc(&p));
	ck_assert_uint_eq(pool_bytes(&p), slab_bytes());
	pool_free(&p, v[0]);
	free(v);
}
END_TEST

/* The largest object POOL_INIT allows: four in a slab, each whole. One
 * byte more (a pool not made by POOL_INIT): NULL, where it used to be
 * memory past the end of the slab. */
START_TEST(test_pool_object_size_limit)
{
	struct largest { char b[POOL_MAX_OBJ]; };
	static struct pool p = POOL_INIT(struct largest);
	void *v[8];
	for (int i = 0; i < 8; i++) {
		ck_assert_ptr_nonnull(v[i] = pool_alloc(&p));
		ck_assert(zeroed(v[i], sizeof(struct largest)));
		fill(v[i], sizeof(struct largest), (unsigned)i);
		if (SLABS)
			ck_assert(in_one_slab(v[i], sizeof(struct largest)));
	}
	if (SLABS && slab_bytes() == POOL_SLAB_SIZE)
		ck_assert_uint_eq(pool_bytes(&p), 2 * POOL_SLAB_SIZE);
	for (int i = 0; i < 8; i++) {
		ck_assert(intact(v[i], sizeof(struct largest), (unsigned)i));
		pool_free(&p, v[i]);
	}

	struct pool too_big = { .size = POOL_MAX_OBJ + 1 };
	ck_assert_ptr_null(pool_alloc(&too_big));
	ck_assert_uint_eq(too_big.nobjs, 0);
	ck_assert_uint_eq(pool_bytes(&too_big), 0);
	pool_free(&too_big, NULL);
}
END_TEST

/* A pointer into an object, not one pool_alloc returned: abort, not
 * free lists quietly corrupted (slabs only; registered when SLABS). */
START_TEST(test_pool_stray_free)
{
	static struct pool p = POOL_INIT(struct big);
	char *o = pool_alloc(&p);
	ck_assert_ptr_nonnull(o);
	pool_free(&p, o + 8);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");
	tcase_add_test(tc, test_pool_random);
	tcase_add_test(tc, test_pool_slab_accounting);
	tcase_add_test(tc, test_pool_object_size_limit);
	if (SLABS)
		tcase_add_test_raise_signal(tc, test_pool_stray_free, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
