#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iname.h"

static void check_suffix(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix);
	ck_assert_int_eq(strncmp(name, prefix, pl), 0);
	ck_assert_int_eq(name[pl], ':');
	ck_assert_uint_eq(strlen(name + pl + 1), 12);
	for (const char *p = name + pl + 1; *p; p++)
		ck_assert(isdigit((unsigned char)*p) || (*p >= 'a' && *p <= 'f'));
	ck_assert_int_eq(name_validate(name, NULL, 0), 0);
}

START_TEST(test_generate)
{
	char a[256], b[256];

	ck_assert_int_eq(iname_generate(NULL, a, sizeof(a)), 0);
	check_suffix(a, INAME_DEFAULT_PREFIX);
	ck_assert_int_eq(iname_generate("", b, sizeof(b)), 0);
	check_suffix(b, INAME_DEFAULT_PREFIX);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(iname_generate("iqn.1993-08.org.debian:01", a, sizeof(a)), 0);
	check_suffix(a, "iqn.1993-08.org.debian:01");

	/* 48 random bits: 200 names never collide in practice. */
	static char seen[200][64];
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(iname_generate(NULL, seen[i], sizeof(seen[i])), 0);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(seen[i], seen[j]);
	}

	strcpy(b, "untouched");
	ck_assert_int_eq(iname_generate("not a prefix", b, sizeof(b)), -EINVAL);
	ck_assert_int_eq(iname_generate("iqn.2004-13.com.x", b, sizeof(b)), -EINVAL);
	ck_assert_int_eq(iname_generate(NULL, b, 10), -ENOBUFS);
	ck_assert_str_eq(b, "untouched");
	char longp[300];
	strcpy(longp, "iqn.2004-10.com.");
	memset(longp + 16, 'a', 250);
	longp[266] = '\0';
	ck_assert_int_eq(iname_generate(longp, b, sizeof(b)), -EINVAL);
}
END_TEST

START_TEST(test_parse)
{
	const char *debian = "## DO NOT EDIT OR REMOVE THIS FILE!\n"
			     "InitiatorName=iqn.1993-08.org.debian:01:114a58c6e5a4\n";
	const char *alias = "  InitiatorName= iqn.2001-04.com.example:host \r\n# x\nInitiatorAlias=web server 1\n";
	struct initiator_name n;
	struct rec_diags d;

	rec_diags_init(&d);
	ck_assert_int_eq(iname_parse(debian, strlen(debian), "f", &n, &d), 0);
	ck_assert_str_eq(n.name, "iqn.1993-08.org.debian:01:114a58c6e5a4");
	ck_assert_str_eq(n.alias, "");
	ck_assert_int_eq(iname_parse(alias, strlen(alias), "f", &n, &d), 0);
	ck_assert_str_eq(n.name, "iqn.2001-04.com.example:host");
	ck_assert_str_eq(n.alias, "web server 1");
	ck_assert_uint_eq(d.n, 0);
	rec_diags_free(&d);

	static const struct {
		const char *text;
		unsigned line;
	} bad[] = {
		{ "# nothing\n", 0 },
		{ "InitiatorName=\n", 1 },
		{ "\nInitiatorName=iqn.bad\n", 2 },
		{ "InitiatorName=iqn.2001-04.com.example:h\nInitiatorAlias=a\x01" "b\n", 2 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rec_diags_init(&d);
		strcpy(n.name, "keep");
		ck_assert_int_eq(iname_parse(bad[i].text, strlen(bad[i].text), "f", &n, &d), -EINVAL);
		ck_assert_str_eq(n.name, "keep");
		ck_assert_uint_ge(d.n, 1);
		ck_assert_uint_eq(d.v[d.n - 1].line, bad[i].line);
		rec_diags_free(&d);
	}

	const char *twice = "InitiatorName=iqn.2001-04.com.example:a\nFoo=bar\nInitiatorName=iqn.2001-04.com.example:b\n";
	rec_diags_init(&d);
	ck_assert_int_eq(iname_parse(twice, strlen(twice), "f", &n, &d), 0);
	ck_assert_str_eq(n.name, "iqn.2001-04.com.example:b");
	ck_assert_uint_eq(rec_diags_count(&d, REC_DIAG_WARNING), 2);
	rec_diags_free(&d);

	const char nul[] = "InitiatorName=iqn.2001-04.com.example:a\0\n";
	ck_assert_int_eq(iname_parse(nul, sizeof(nul) - 1, "f", &n, NULL), -EINVAL);
}
END_TEST

START_TEST(test_write_load)
{
	char dir[] = "/tmp/test_iname.XXXXXX", path[256];
	struct initiator_name n = { 0 }, m;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/initiatorname.iscsi", dir);
	ck_assert_int_eq(iname_load(path, &m, NULL), -ENOENT);
	ck_assert_int_eq(iname_generate(NULL, n.name, sizeof(n.name)), 0);
	strcpy(n.alias, "lab box");
	ck_assert_int_eq(iname_write(path, &n, 0), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(iname_load(path, &m, NULL), 0);
	ck_assert_str_eq(m.name, n.name);
	ck_assert_str_eq(m.alias, "lab box");
	ck_assert_int_eq(iname_write(path, &n, 0), -EEXIST);
	n.alias[0] = '\0';
	ck_assert_int_eq(iname_write(path, &n, 1), 0);
	ck_assert_int_eq(iname_load(path, &m, NULL), 0);
	ck_assert_str_eq(m.alias, "");
	strcpy(n.name, "bogus");
	ck_assert_int_eq(iname_write(path, &n, 1), -EINVAL);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* First start: a new file with a unique name; nothing that already has
 * the name is ever replaced, not even a dangling symbolic link. */
START_TEST(test_create)
{
	char dir[] = "/tmp/test_iname.XXXXXX", sub[256], path[300], other[300], before[4096];
	struct initiator_name n = { 0 }, m = { 0 }, o = { 0 };
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/etc/iscsi", dir);
	snprintf(path, sizeof(path), "%s/initiatorname.iscsi", sub);
	/* the directory is created too */
	ck_assert_int_eq(iname_create(path, NULL, &n), 0);
	check_suffix(n.name, INAME_DEFAULT_PREFIX);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0755);
	ck_assert_int_eq(iname_load(path, &m, NULL), 0);
	ck_assert_str_eq(m.name, n.name);
	ck_assert_int_eq(entries(sub), 1); /* no temporary file left */
	snprintf(before, sizeof(before), "%s", slurp(path));

	/* existing file: untouched, byte for byte */
	ck_assert_int_eq(iname_create(path, NULL, &o), -EEXIST);
	ck_assert_str_eq(slurp(path), before);
	ck_assert_int_eq(entries(sub), 1);
	/* garbage is not "repaired" either */
	FILE *f = fopen(path, "w");
	fputs("this is not a name\n", f);
	fclose(f);
	ck_assert_int_eq(iname_create(path, NULL, &o), -EEXIST);
	ck_assert_str_eq(slurp(path), "this is not a name\n");

	/* another file gets another name, with the prefix asked for */
	snprintf(other, sizeof(other), "%s/second", sub);
	ck_assert_int_eq(iname_create(other, "iqn.1993-08.org.debian:01", &o), 0);
	check_suffix(o.name, "iqn.1993-08.org.debian:01");
	ck_assert_str_ne(o.name, n.name);
	unlink(other);

	/* a dangling symbolic link is not followed */
	snprintf(other, sizeof(other), "%s/target-of-link", sub);
	unlink(path);
	ck_assert_int_eq(symlink(other, path), 0);
	ck_assert_int_eq(iname_create(path, NULL, &o), -EEXIST);
	ck_assert_int_eq(access(other, F_OK), -1);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	unlink(path);

	/* a directory in the way */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(iname_create(path, NULL, &o), -EEXIST);
	ck_assert_int_eq(rmdir(path), 0);

	ck_assert_int_eq(iname_create("", NULL, &o), -EINVAL);
	ck_assert_int_eq(iname_create(path, "bad prefix", &o), -EINVAL);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(entries(sub), 0);
	ck_assert_int_eq(rmdir(sub), 0);
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	ck_assert_int_eq(rmdir(sub), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* The tool, when it has been built (make check builds it). */
START_TEST(test_tool)
{
	char line[512];

	if (access("iscsiadm/iscsi-iname", X_OK) != 0)
		return;
	FILE *p = popen("iscsiadm/iscsi-iname -g -p iqn.2005-03.com.example", "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	ck_assert_int_eq(pclose(p), 0);
	line[strcspn(line, "\n")] = '\0';
	ck_assert_int_eq(strncmp(line, "InitiatorName=", 14), 0);
	check_suffix(line + 14, "iqn.2005-03.com.example");
	p = popen("iscsiadm/iscsi-iname -p 'bad prefix' 2>/dev/null", "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(fgets(line, sizeof(line), p));
	ck_assert_int_ne(pclose(p), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("iname");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_generate);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_write_load);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_tool);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
