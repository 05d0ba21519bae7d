/* libinitiator/secmem.c and its users: a block that holds a CHAP secret
 * is never handed back to the allocator as it is, however the holder
 * grows (node and discovery lists, record text, iscsid.conf text, login
 * key data).
 *
 * The test is linked with -Wl,--wrap=free,--wrap=realloc,--wrap=malloc:
 * while `armed`, every block passed to free() or realloc() is searched
 * for the secret; realloc() of such a block counts even when it would
 * not move (it may). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "nodedb_fixture.h"
#include "record.h"
#include "secmem.h"
#include "text.h"

#define SECRET "Xq7-not-a-real-secret-Zr5"

void *__real_malloc(size_t n);
void __real_free(void *p);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t n);

static bool armed;
static int leaks;                 /* blocks released with the secret in them */
static bool fail_malloc;          /* the next malloc fails */
static const void *watch;         /* secmem_grow: the block that must be wiped */
static size_t watch_len;
static int watch_seen_clean;      /* 1: freed all zero, -1: freed dirty */

static bool holds_secret(void *p)
{
	return p && memmem(p, malloc_usable_size(p), SECRET, strlen(SECRET)) != NULL;
}

void *__wrap_malloc(size_t n)
{
	if (fail_malloc) {
		fail_malloc = false;
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

void __wrap_free(void *p)
{
	if (p && p == watch) {
		const unsigned char *b = p;
		watch_seen_clean = 1;
		for (size_t i = 0; i < watch_len; i++)
			if (b[i])
				watch_seen_clean = -1;
		watch = NULL;
	}
	if (armed && holds_secret(p))
		leaks++;
	__real_free(p);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (armed && holds_secret(p))
		leaks++;
	return __real_realloc(p, n);
}

START_TEST(test_grow_copies_and_wipes)
{
	char *a = malloc(32);
	ck_assert_ptr_nonnull(a);
	memset(a, 'x', 32);
	memcpy(a, SECRET, strlen(SECRET));
	watch = a;
	watch_len = 32;
	watch_seen_clean = 0;
	char *b = secmem_grow(a, strlen(SECRET), 32, 4096);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(watch_seen_clean, 1);
	ck_assert_mem_eq(b, SECRET, strlen(SECRET));
	/* from nothing */
	char *c = secmem_grow(NULL, 0, 0, 16);
	ck_assert_ptr_nonnull(c);
	secmem_free(c, 16);
	/* more used than there is: refused, nothing changes */
	ck_assert_ptr_null(secmem_grow(b, 5000, 4096, 8192));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_mem_eq(b, SECRET, strlen(SECRET));
	watch = b;
	watch_len = 4096;
	watch_seen_clean = 0;
	secmem_free(b, 4096);
	ck_assert_int_eq(watch_seen_clean, 1);
	secmem_free(NULL, 10);
}
END_TEST

START_TEST(test_grow_without_memory_keeps_the_old_block)
{
	char *a = malloc(64);
	ck_assert_ptr_nonnull(a);
	strcpy(a, SECRET);
	watch = a;
	watch_len = 64;
	watch_seen_clean = 0;
	fail_malloc = true;
	ck_assert_ptr_null(secmem_grow(a, strlen(SECRET) + 1, 64, 128));
	ck_assert_int_eq(watch_seen_clean, 0);         /* not freed */
	ck_assert_str_eq(a, SECRET);
	watch = NULL;
	secmem_free(a, 64);
}
END_TEST

static void set_chap(struct rec_auth *a)
{
	a->authmethod = REC_AUTH_CHAP;
	snprintf(a->username, sizeof(a->username), "user");
	snprintf(a->password, sizeof(a->password), "%s", SECRET);
	snprintf(a->username_in, sizeof(a->username_in), "target");
	snprintf(a->password_in, sizeof(a->password_in), "%s", SECRET);
}

/* 40 node records with secrets: the list that holds them grows 16, 32,
 * 64 while nodedb_node_find() reads them. */
START_TEST(test_node_list_growth)
{
	struct nodedb *db = open_db(NULL);
	struct node_list l = { 0 };
	char target[96];

	for (int i = 0; i < 40; i++) {
		snprintf(target, sizeof(target), "iqn.2020-01.org.example:t%02d", i);
		struct node_rec *r = new_rec(target, "192.0.2.1", 3260, 1, NULL);
		set_chap(&r->session.auth);
		ck_assert_int_eq(nodedb_node_save(db, r, 0), 0);
		explicit_bzero(r, sizeof(*r));
		free(r);
	}
	leaks = 0;
	armed = true;
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 40);
	ck_assert_str_eq(l.v[39].rec.session.auth.password, SECRET);
	node_list_free(&l);
	armed = false;
	ck_assert_int_eq(leaks, 0);
	close_db(db);
}
END_TEST

/* The same for discovery records (discovery CHAP). */
START_TEST(test_disc_list_growth)
{
	struct nodedb *db = open_db(NULL);
	struct disc_list l = { 0 };

	for (int i = 0; i < 20; i++) {
		struct discovery_rec d;
		discovery_rec_init(&d, REC_DISC_SENDTARGETS);
		snprintf(d.address, sizeof(d.address), "192.0.2.%d", i + 1);
		set_chap(&d.auth);
		ck_assert_int_eq(nodedb_disc_save(db, &d), 0);
		explicit_bzero(&d, sizeof(d));
	}
	leaks = 0;
	armed = true;
	ck_assert_int_eq(nodedb_disc_list(db, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 20);
	disc_list_free(&l);
	armed = false;
	ck_assert_int_eq(leaks, 0);
	close_db(db);
}
END_TEST

/* A record's text (what is written to disk, secrets in clear). */
START_TEST(test_record_text)
{
	struct node_rec *r = new_rec("iqn.2020-01.org.example:text", "192.0.2.1", 3260, 1, NULL);
	char *buf = NULL;
	size_t len = 0;

	set_chap(&r->session.auth);
	leaks = 0;
	armed = true;
	ck_assert_int_eq(rec_format(REC_KIND_NODE, r, REC_FMT_DISK, &buf, &len), 0);
	ck_assert_ptr_nonnull(strstr(buf, SECRET));
	secmem_free(buf, len);
	armed = false;
	ck_assert_int_eq(leaks, 0);
	explicit_bzero(r, sizeof(*r));
	free(r);
}
END_TEST

/* A file whose size is not known up front (st_size 0, as /proc files
 * have): config_read_file()'s buffer grows from one byte while it reads
 * the secret. The file is /proc/PID/cmdline of a shell given the secret
 * as arguments. */
START_TEST(test_config_text)
{
	char path[64], *buf = NULL, *argv[44];
	size_t len = 0;
	int n = 0, st;

	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = "sleep 30; :";
	argv[n++] = "sh";
	for (int i = 0; i < 39; i++)
		argv[n++] = SECRET;
	argv[n] = NULL;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execv("/bin/sh", argv);
		_exit(127);
	}
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	for (int i = 0; i < 500; i++) {
		if (config_read_file(path, 65536, &buf, &len) == 0 && len > 39 * strlen(SECRET)) {
			secmem_free(buf, len);
			break;
		}
		if (buf)
			secmem_free(buf, len);
		buf = NULL;
		usleep(10000);
	}
	leaks = 0;
	armed = true;
	ck_assert_int_eq(config_read_file(path, 65536, &buf, &len), 0);
	ck_assert_uint_gt(len, 39 * strlen(SECRET));
	secmem_free(buf, len);
	armed = false;
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(leaks, 0);
}
END_TEST

/* Login text data assembled from many PDUs. */
START_TEST(test_text_asm)
{
	struct text_asm a;
	char chunk[200];
	int n = snprintf(chunk, sizeof(chunk), "CHAP_N=user%cX=%s%c", 0, SECRET, 0);

	text_asm_init(&a, 65536);
	leaks = 0;
	armed = true;
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(text_asm_feed(&a, (const uint8_t *)chunk, (size_t)n), 0);
	text_asm_free(&a);
	armed = false;
	ck_assert_int_eq(leaks, 0);
}
END_TEST

START_TEST(test_protect_process)
{
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	ck_assert_int_eq(secmem_protect_process(), 0);
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("secmem");
	TCase *tc = tcase_create("secmem");

	tcase_add_test(tc, test_grow_copies_and_wipes);
	tcase_add_test(tc, test_grow_without_memory_keeps_the_old_block);
	tcase_add_test(tc, test_node_list_growth);
	tcase_add_test(tc, test_disc_list_growth);
	tcase_add_test(tc, test_record_text);
	tcase_add_test(tc, test_config_text);
	tcase_add_test(tc, test_text_asm);
	tcase_add_test(tc, test_protect_process);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
