#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "names.h"

/* RFC 3720 §3.2.6.3 examples. */
START_TEST(test_names_rfc_examples)
{
	static const char *good[] = {
		"iqn.2001-04.com.example:storage:diskarrays-sn-a8675309",
		"iqn.2001-04.com.example",
		"iqn.2001-04.com.example:storage.tape1.sys1.xyz",
		"iqn.2001-04.com.example:storage.disk2.sys1.xyz",
		"eui.02004567A425678D",
		"naa.52004567BA64678D",
		"naa.62004567BA64678D0123456789ABCDEF",
	};
	char err[128];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(name_validate(good[i], err, sizeof(err)) == 0, "%s: %s", good[i], err);
}
END_TEST

START_TEST(test_names_real_world)
{
	/* Names real targets announce: LIO, tgt, mixed case and '_' in the
	 * unique part (accepted, see names.h), lowercase hex. */
	static const char *good[] = {
		"iqn.2003-01.org.linux-iscsi.host.x8664:sn.5a1f1e2d3c4b",
		"iqn.2001-04.com.example:probe",
		"iqn.2000-01.com.synology:DiskStation.Target-1.3f2a",
		"iqn.2005-10.org.freenas.ctl:disk_1",
		"eui.02004567a425678d",
		"iqn.2001-04.com.example:",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(name_validate(good[i], NULL, 0) == 0, "%s", good[i]);
}
END_TEST

static void expect_bad_name(const char *name, const char *why)
{
	char err[128] = "";
	ck_assert_msg(name_validate(name, err, sizeof(err)) == -EINVAL, "accepted: %s", name);
	ck_assert_msg(strstr(err, why) != NULL, "%s: got \"%s\", want \"%s\"", name, err, why);
}

START_TEST(test_names_rejected)
{
	/* Path and terminal safety. */
	expect_bad_name(NULL, "empty");
	expect_bad_name("", "empty");
	expect_bad_name("iqn.2001-04.com.example:..etc", "\"..\"");
	expect_bad_name("iqn.2001-04.com.example:../../etc", "0x2f");
	expect_bad_name("iqn.2001-04.com.example:a/b", "0x2f");
	expect_bad_name("iqn.2001-04.com.example:a\\b", "0x5c");
	expect_bad_name("iqn.2001-04.com.example:a b", "0x20");
	expect_bad_name("iqn.2001-04.com.example:a\tb", "0x09");
	expect_bad_name("iqn.2001-04.com.example:a\nb", "0x0a");
	expect_bad_name("iqn.2001-04.com.example:\x1b[2J", "0x1b");
	expect_bad_name("iqn.2001-04.com.example:caf\xc3\xa9", "0xc3");
	/* Syntax. */
	expect_bad_name("iqn.2001-13.com.example", "month 13");
	expect_bad_name("iqn.2001-00.com.example", "month 00");
	expect_bad_name("iqn.01-04.com.example", "yyyy-mm");
	expect_bad_name("iqn.2001-04", "yyyy-mm");
	expect_bad_name("iqn.2001-04com.example", "'.' after the date");
	expect_bad_name("iqn.2001-04.:x", "naming authority");
	expect_bad_name("iqn.2001-04.com.ex_ample:x", "naming authority");
	expect_bad_name("iqn.2001-04.com.example.:x", "naming authority");
	expect_bad_name("iqn.2001-04.com.example:a@b", "0x40");
	expect_bad_name("IQN.2001-04.com.example", "must start with");
	expect_bad_name("iqn", "must start with");
	expect_bad_name("foo.bar", "must start with");
	expect_bad_name("eui.02004567A425678", "16 hex digits, not 15");
	expect_bad_name("eui.02004567A425678DD", "16 hex digits, not 17");
	expect_bad_name("eui.02004567A425678G", "hexadecimal");
	expect_bad_name("naa.62004567BA64678D01234567", "16 or 32 hex digits, not 24");
	expect_bad_name("naa.", "must start with");
}
END_TEST

START_TEST(test_names_length)
{
	char n[NAME_MAX_LEN + 2];
	const char *prefix = "iqn.2001-04.com.example:";

	strcpy(n, prefix);
	memset(n + strlen(prefix), 'a', NAME_MAX_LEN - strlen(prefix));
	n[NAME_MAX_LEN] = '\0';
	ck_assert_int_eq(name_validate(n, NULL, 0), 0);
	n[NAME_MAX_LEN] = 'a';
	n[NAME_MAX_LEN + 1] = '\0';
	expect_bad_name(n, "longer than 223");
}
END_TEST

static struct portal parse_ok(const char *s)
{
	struct portal p;
	char err[128] = "";
	ck_assert_msg(portal_parse(s, &p, err, sizeof(err)) == 0, "%s: %s", s, err);
	return p;
}

static void expect_portal(const char *s, const char *host, unsigned port, int tpgt, int family)
{
	struct portal p = parse_ok(s);
	ck_assert_str_eq(p.host, host);
	ck_assert_uint_eq(p.port, port);
	ck_assert_int_eq(p.tpgt, tpgt);
	ck_assert_int_eq(p.family, family);
}

START_TEST(test_portal_parse_forms)
{
	expect_portal("192.0.2.1", "192.0.2.1", 3260, -1, AF_INET);
	expect_portal("192.0.2.1:3261", "192.0.2.1", 3261, -1, AF_INET);
	expect_portal("192.0.2.1:3261,2", "192.0.2.1", 3261, 2, AF_INET);
	expect_portal("192.0.2.1,1", "192.0.2.1", 3260, 1, AF_INET);
	expect_portal("192.0.2.1:65535,65535", "192.0.2.1", 65535, 65535, AF_INET);
	expect_portal("192.0.2.1:1,0", "192.0.2.1", 1, 0, AF_INET);
	expect_portal("[fd00::1]:3260,1", "fd00::1", 3260, 1, AF_INET6);
	expect_portal("[fd00::1]", "fd00::1", 3260, -1, AF_INET6);
	expect_portal("[FD00:0:0::1]:3000", "fd00::1", 3000, -1, AF_INET6);  /* canonical */
	expect_portal("fd00::1", "fd00::1", 3260, -1, AF_INET6);               /* bare */
	expect_portal("fd00::1,5", "fd00::1", 3260, 5, AF_INET6);
	expect_portal("::1", "::1", 3260, -1, AF_INET6);
	expect_portal("fe80::1%eth0", "fe80::1%eth0", 3260, -1, AF_INET6);
	expect_portal("[fe80::1%eth0]:3260,1", "fe80::1%eth0", 3260, 1, AF_INET6);
	expect_portal("[::ffff:192.0.2.1]:3260", "::ffff:192.0.2.1", 3260, -1, AF_INET6);
	expect_portal("target.example.com:3260", "target.example.com", 3260, -1, AF_UNSPEC);
	expect_portal("Target-1.Example.com.", "Target-1.Example.com.", 3260, -1, AF_UNSPEC);
	expect_portal("localhost,3", "localhost", 3260, 3, AF_UNSPEC);
}
END_TEST

START_TEST(test_portal_parse_rejected)
{
	static const char *bad[] = {
		"", ",1", ":3260", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:abc",
		"192.0.2.1:+80", "192.0.2.1:", "192.0.2.1,", "192.0.2.1,65536",
		"192.0.2.1,-1", "192.0.2.1:3260:1", "[fd00::1", "[fd00::1]x", "[fd00::1]:",
		"[192.0.2.1]", "[]", "300.1.1.1", "192.0.2", "01.2.3.4", "-bad.example",
		"bad-.example", "a..b", "host name", "host/x", "fe80::1%", "fe80::1%eth0/x",
		"fe80::1%abcdefghijklmnop", "fd00::g", ":::", "1.2.3.4 ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct portal p = { .port = 7 };
		char err[128] = "";
		ck_assert_msg(portal_parse(bad[i], &p, err, sizeof(err)) == -EINVAL,
			      "accepted \"%s\"", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for \"%s\"", bad[i]);
		ck_assert_uint_eq(p.port, 7);   /* untouched */
	}
	ck_assert_int_eq(portal_parse(NULL, &(struct portal){ 0 }, NULL, 0), -EINVAL);

	/* Label of 64 bytes. */
	char host[80];
	memset(host, 'a', 64);
	strcpy(host + 64, ".example");
	ck_assert_int_eq(portal_parse(host, &(struct portal){ 0 }, NULL, 0), -EINVAL);
	memmove(host + 63, host + 64, strlen(host + 64) + 1);   /* 63 bytes: fine */
	ck_assert_int_eq(portal_parse(host, &(struct portal){ 0 }, NULL, 0), 0);
}
END_TEST

START_TEST(test_portal_format)
{
	static const struct { const char *in, *out; } v[] = {
		{ "192.0.2.1,1", "192.0.2.1:3260,1" },
		{ "192.0.2.1:3261", "192.0.2.1:3261" },
		{ "fd00::1,1", "[fd00::1]:3260,1" },
		{ "[fe80::1%eth0]:860,7", "[fe80::1%eth0]:860,7" },
		{ "target.example.com", "target.example.com:3260" },
	};
	char buf[300];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct portal p = parse_ok(v[i].in), q;
		ck_assert_int_eq(portal_format(&p, buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, v[i].out);
		/* What we print parses back to the same portal. */
		q = parse_ok(buf);
		ck_assert(portal_equal(&p, &q));
	}
	struct portal p = parse_ok("[fd00::1]:3260,1");
	ck_assert_int_eq(portal_format(&p, buf, 16), -ENOBUFS);
	ck_assert_int_eq(portal_format(&p, buf, 17), 0);
	ck_assert_str_eq(buf, "[fd00::1]:3260,1");
}
END_TEST

START_TEST(test_portal_equal)
{
	struct portal a = parse_ok("[fd00::1]:3260,1"), b = parse_ok("fd00:0::1,1");
	ck_assert(portal_equal(&a, &b));
	b = parse_ok("fd00::1,2");
	ck_assert(!portal_equal(&a, &b));
	a = parse_ok("Target.Example.com:3260");
	b = parse_ok("target.example.com");
	ck_assert(portal_equal(&a, &b));
	b = parse_ok("target.example.com:3261");
	ck_assert(!portal_equal(&a, &b));
}
END_TEST

START_TEST(test_name_escape)
{
	char out[16];

	name_escape("iqn.a:b", 7, out, sizeof(out));
	ck_assert_str_eq(out, "iqn.a:b");
	char big[64];
	name_escape("a\x1b\"\\\xc3", 5, big, sizeof(big));
	ck_assert_str_eq(big, "a\\x1b\\x22\\x5c\\xc3");
	/* cut: at most sizeof(out) - 1 bytes, ending in "..." */
	name_escape("0123456789abcdefghij", 20, out, sizeof(out));
	ck_assert_str_eq(out, "0123456789ab...");
	/* exactly fitting text is not cut */
	name_escape("0123456789abcde", 15, out, sizeof(out));
	ck_assert_str_eq(out, "0123456789abcde");
	name_escape("0123456789ab", 12, out, sizeof(out));
	ck_assert_str_eq(out, "0123456789ab");
	name_escape("\x01\x02\x03\x04", 4, out, sizeof(out));
	ck_assert_str_eq(out, "\\x01\\x02\\x03...");
	name_escape("", 0, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_names_rfc_examples);
	tcase_add_test(tc, test_names_real_world);
	tcase_add_test(tc, test_names_rejected);
	tcase_add_test(tc, test_names_length);
	tcase_add_test(tc, test_portal_parse_forms);
	tcase_add_test(tc, test_portal_parse_rejected);
	tcase_add_test(tc, test_portal_format);
	tcase_add_test(tc, test_portal_equal);
	tcase_add_test(tc, test_name_escape);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
