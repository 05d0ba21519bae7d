#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static char *slurp(const char *rel, size_t *ret_len)
{
	const char *top = getenv("top_srcdir");
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", top ? top : "..", rel);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	char *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

/* Compiled defaults: inventory §2.10, "compiled default" column. */
START_TEST(test_compiled_defaults)
{
	struct iscsi_config c;

	config_init(&c);
	ck_assert_str_eq(c.startup, "");
	ck_assert(!c.safe_logout);
	ck_assert_str_eq(c.metrics_dir, "");
	ck_assert_uint_eq(c.metrics_interval, 15);
	ck_assert(c.ipc_auth_uid);
	ck_assert_uint_eq(c.automatic_login_wait, 30);
	ck_assert_int_eq(c.node.startup, REC_STARTUP_MANUAL);
	ck_assert_int_eq(c.node.tpgt, -1);
	ck_assert_str_eq(c.node.iface.name, "default");
	ck_assert_str_eq(c.node.iface.transport_name, "tcp");
	ck_assert_int_eq(c.node.disc_type, REC_DISC_STATIC);
	ck_assert_int_eq(c.node.session.initial_login_retry_max, 4);
	ck_assert_int_eq(c.node.session.cmds_max, 128);
	ck_assert_int_eq(c.node.session.queue_depth, 32);
	ck_assert_str_eq(c.node.session.auth.chap_algs, "MD5");
	ck_assert_int_eq(c.node.session.replacement_timeout, 120);
	ck_assert_int_eq(c.node.session.host_reset_timeout, 60);
	ck_assert(c.node.session.fast_abort);
	ck_assert(!c.node.session.initial_r2t);
	ck_assert(c.node.session.immediate_data);
	ck_assert_int_eq(c.node.session.first_burst_length, 262144);
	ck_assert_int_eq(c.node.session.max_burst_length, 16776192);
	ck_assert_int_eq(c.node.session.default_time2wait, 2);
	ck_assert_int_eq(c.node.session.scan, REC_SCAN_AUTO);
	ck_assert_int_eq(c.node.conn.port, 3260);
	ck_assert_int_eq(c.node.conn.tcp_window_size, 524288);
	ck_assert_int_eq(c.node.conn.login_timeout, 30);
	ck_assert_int_eq(c.node.conn.auth_timeout, 45);
	ck_assert_int_eq(c.node.conn.max_recv_dlength, 262144);
	ck_assert_int_eq(c.node.conn.header_digest, REC_DIGEST_NONE);
	ck_assert_int_eq(c.sendtargets.reopen_max, 5);
	ck_assert_int_eq(c.sendtargets.active_timeout, 30);
	ck_assert_int_eq(c.sendtargets.max_recv_dlength, 32768);
	ck_assert_int_eq(c.isns.port, 3205);
	ck_assert_int_eq(c.isns.discoveryd_poll_inval, -1);
}
END_TEST

/* The shipped file parses cleanly and carries open-iscsi's shipped
 * values; a node created from it prints as the golden dump. */
START_TEST(test_shipped_file)
{
	size_t len;
	char *text = slurp("etc/iscsid.conf", &len);
	struct iscsi_config c;
	struct rec_diags d;

	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(text, len, "iscsid.conf", &c, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_int_eq(c.node.conn.login_timeout, 15);
	ck_assert_int_eq(c.node.conn.logout_timeout, 15);
	ck_assert_int_eq(c.node.session.initial_login_retry_max, 8);
	ck_assert_int_eq(c.node.session.queue_depth, 32);
	ck_assert_int_eq(c.sendtargets.max_recv_dlength, 32768);
	ck_assert_int_eq(c.node.session.xmit_thread_priority, 0);

	struct node_rec r;
	char err[128], *out;
	size_t olen;
	ck_assert_int_eq(node_rec_from_template(&c.node, "iqn.2001-04.com.example:disk1", "192.0.2.10", 3260, 1, NULL,
						&r, err, sizeof(err)),
			 0);
	ck_assert_int_eq(rec_format(REC_KIND_NODE, &r, REC_FMT_SHOW, &out, &olen), 0);
	char *want = slurp("tests/golden/records/node_from_shipped_conf.txt", &len);
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
	free(text);
	rec_diags_free(&d);
}
END_TEST

/* Debian's iscsid.conf (2.1.8) settings, as key = value lines. */
static const char debian_conf[] =
	"iscsid.startup = /bin/systemctl start iscsid.socket\n"
	"node.startup = manual\n"
	"node.leading_login = No\n"
	"node.session.timeo.replacement_timeout = 120\n"
	"node.conn[0].timeo.login_timeout = 15\n"
	"node.conn[0].timeo.logout_timeout = 15\n"
	"node.conn[0].timeo.noop_out_interval = 5\n"
	"node.conn[0].timeo.noop_out_timeout = 5\n"
	"node.session.err_timeo.abort_timeout = 15\n"
	"node.session.err_timeo.lu_reset_timeout = 30\n"
	"node.session.err_timeo.tgt_reset_timeout = 30\n"
	"node.session.err_timeo.host_reset_timeout = 60\n"
	"node.session.initial_login_retry_max = 8\n"
	"node.session.cmds_max = 128\n"
	"node.session.queue_depth = 32\n"
	"node.session.xmit_thread_priority = -20\n"
	"node.session.iscsi.InitialR2T = No\n"
	"node.session.iscsi.ImmediateData = Yes\n"
	"node.session.iscsi.FirstBurstLength = 262144\n"
	"node.session.iscsi.MaxBurstLength = 16776192\n"
	"node.conn[0].iscsi.MaxRecvDataSegmentLength = 262144\n"
	"node.conn[0].iscsi.MaxXmitDataSegmentLength = 0\n"
	"discovery.sendtargets.iscsi.MaxRecvDataSegmentLength = 32768\n"
	"node.session.nr_sessions = 1\n"
	"node.session.reopen_max = 0\n"
	"node.session.iscsi.FastAbort = Yes\n"
	"node.session.scan = auto\n";

START_TEST(test_debian_file)
{
	struct iscsi_config c;
	struct rec_diags d;

	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(debian_conf, strlen(debian_conf), "debian", &c, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_str_eq(c.startup, "/bin/systemctl start iscsid.socket");
	ck_assert_int_eq(c.node.session.xmit_thread_priority, -20);
	rec_diags_free(&d);
}
END_TEST

START_TEST(test_warnings)
{
	const char *text = "# comment\n"
			   "\n"
			   "node.session.bogus = 1\n"                     /* 3: unknown */
			   "node.name = iqn.2001-04.com.example:x\n"      /* 4: identifies a record */
			   "node.session.sess_reopen_log_freq = 3\n"      /* 5: newer key, unused */
			   "iface.transport_name = iser\n"                /* 6: iface mode only */
			   "   node.session.queue_depth=64   \n"
			   "node.session.auth.chap_algs = SHA256,MD5\n"
			   "iscsid.safe_logout = Yes\n"
			   "iscsid.ipc_auth_uid = No\n"
			   "iscsid.metrics_dir = /var/lib/prometheus/node-exporter\n"
			   "iscsid.metrics_interval = 60\n"
			   "discovery.sendtargets.auth.password = pw\n"
			   "discovery.isns.use_discoveryd = Yes\n"
			   "node.startup = automatic";                    /* no final newline */
	struct iscsi_config c;
	struct rec_diags d;

	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(text, strlen(text), "w.conf", &c, &d), 0);
	ck_assert_uint_eq(d.n, 4);
	ck_assert_uint_eq(rec_diags_count(&d, REC_DIAG_WARNING), 4);
	ck_assert_uint_eq(d.v[0].line, 3);
	ck_assert_uint_eq(d.v[1].line, 4);
	ck_assert_uint_eq(d.v[2].line, 5);
	ck_assert_uint_eq(d.v[3].line, 6);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "node.session.bogus"));
	ck_assert_str_eq(c.node.name, "");
	ck_assert_str_eq(c.node.iface.transport_name, "tcp");
	ck_assert_int_eq(c.node.session.queue_depth, 64);
	/* One key, both templates (open-iscsi stores it under the node key
	 * in discovery records too). */
	ck_assert_str_eq(c.node.session.auth.chap_algs, "SHA256,MD5");
	ck_assert_str_eq(c.sendtargets.auth.chap_algs, "SHA256,MD5");
	ck_assert(c.safe_logout);
	ck_assert(!c.ipc_auth_uid);
	ck_assert_str_eq(c.metrics_dir, "/var/lib/prometheus/node-exporter");
	ck_assert_uint_eq(c.metrics_interval, 60);
	ck_assert_str_eq(c.sendtargets.auth.password, "pw");
	ck_assert(c.isns.use_discoveryd);
	ck_assert(!c.sendtargets.use_discoveryd);
	ck_assert_int_eq(c.node.startup, REC_STARTUP_AUTOMATIC);
	rec_diags_free(&d);
}
END_TEST

static void expect_error(const char *text, size_t len, unsigned line)
{
	struct iscsi_config c;
	struct rec_diags d;

	rec_diags_init(&d);
	memset(&c, 0x5a, sizeof(c));
	ck_assert_int_eq(config_parse(text, len, "e.conf", &c, &d), -EINVAL);
	ck_assert_uint_ge(rec_diags_count(&d, REC_DIAG_ERROR), 1);
	int found = 0;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].level == REC_DIAG_ERROR && d.v[i].line == line)
			found = 1;
	ck_assert_msg(found, "no error on line %u", line);
	/* Untouched on failure. */
	ck_assert_int_eq(((unsigned char *)&c)[0], 0x5a);
	rec_diags_free(&d);
}

/* What is still refused: the whole file is unusable, or a CHAP key
 * (node.session.auth.*, discovery.sendtargets.auth.*) whose bad value a
 * default would replace with weaker or no authentication. */
/* text parses (0) with exactly one diagnostic, a REC_DIAG_FALLBACK on
 * line that names key and contains what (the value used instead). */
static void expect_fallback(const char *text, unsigned line, const char *key, const char *what,
			    struct iscsi_config *ret)
{
	struct rec_diags d;

	rec_diags_init(&d);
	memset(ret, 0x5a, sizeof(*ret));
	ck_assert_msg(config_parse(text, strlen(text), "f.conf", ret, &d) == 0, "refused: %s", text);
	ck_assert_msg(d.n == 1, "%zu diagnostics for %s", d.n, text);
	ck_assert_int_eq(d.v[0].level, REC_DIAG_FALLBACK);
	ck_assert_uint_eq(d.v[0].line, line);
	ck_assert_msg(strstr(d.v[0].msg, key) != NULL, "no key in \"%s\"", d.v[0].msg);
	ck_assert_msg(strstr(d.v[0].msg, what) != NULL, "no \"%s\" in \"%s\"", what, d.v[0].msg);
	char full[512];
	rec_diag_format(&d.v[0], full, sizeof(full));
	ck_assert_msg(strncmp(full, "f.conf:", 7) == 0 && strstr(full, ": warning: "), "%s", full);
	rec_diags_free(&d);
}

START_TEST(test_errors)
{
	const char nul[] = "node.startup = manual\0\n";
	expect_error(nul, sizeof(nul) - 1, 0);
	const char *authbad[] = { "node.session.auth.authmethod = CHPA\n",
				  "node.session.auth.chap_algs = SHA256 # strongest\n",
				  "discovery.sendtargets.auth.authmethod = chap please\n",
				  "node.session.auth.username_in = a\x01" "b\n", NULL };
	for (size_t i = 0; authbad[i]; i++)
		expect_error(authbad[i], strlen(authbad[i]), 1);

	char *lng = malloc(3000);
	strcpy(lng, "# ok\nnode.startup = manual\nnode.session.auth.username = ");
	size_t l = strlen(lng);
	memset(lng + l, 'u', 2000);
	strcpy(lng + l + 2000, "\nnode.startup = automatic\n");
	expect_error(lng, strlen(lng), 3);
	/* the same CHAP line behind 1100 blanks of indentation */
	strcpy(lng, "# ok\n");
	memset(lng + 5, ' ', 1100);
	strcpy(lng + 1105, "node.session.auth.password = x\n");
	expect_error(lng, strlen(lng), 2);
	free(lng);
	/* a CHAP key without '=' is not skipped into no authentication */
	const char *noeq[] = { "node.session.auth.authmethod CHAP\n", "  discovery.sendtargets.auth.username bob\n",
			       NULL };
	for (size_t i = 0; noeq[i]; i++)
		expect_error(noeq[i], strlen(noeq[i]), 1);
}
END_TEST

/* "key = " (configuration templates render unset secrets so): the line
 * is skipped, as in open-iscsi, silently where the key has no value yet;
 * a key with a value keeps it, saying so (never quoting a secret). */
START_TEST(test_empty_value)
{
	const char *text = "node.session.auth.authmethod = CHAP\n"
			   "node.session.auth.username = \n"
			   "node.session.auth.password =\n"
			   "discovery.sendtargets.auth.password_in = \t\n"
			   "iscsid.startup = \n"
			   "isns.address =\n";
	struct iscsi_config c;
	struct rec_diags d;

	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(text, strlen(text), "e.conf", &c, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_int_eq(c.node.session.auth.authmethod, REC_AUTH_CHAP);
	ck_assert_str_eq(c.node.session.auth.username, "");
	ck_assert_str_eq(c.node.session.auth.password, "");
	ck_assert_str_eq(c.sendtargets.auth.password_in, "");
	ck_assert_str_eq(c.startup, "");
	rec_diags_free(&d);

	expect_fallback("node.session.cmds_max = \n", 1, "node.session.cmds_max", "no value; using 128", &c);
	ck_assert_int_eq(c.node.session.cmds_max, 128);
	expect_fallback("\nnode.startup =\n", 2, "node.startup", "using manual", &c);
	ck_assert_int_eq(c.node.startup, REC_STARTUP_MANUAL);
	expect_fallback("node.session.iscsi.InitialR2T = \n", 1, "InitialR2T", "using No", &c);
	expect_fallback("iscsid.safe_logout = \n", 1, "iscsid.safe_logout", "using No", &c);
	ck_assert(!c.safe_logout);
	expect_fallback("iscsid.metrics_interval =\n", 1, "iscsid.metrics_interval", "using 15", &c);
	ck_assert_uint_eq(c.metrics_interval, 15);
	/* an empty CHAP method is "unset" too, not an error */
	expect_fallback("node.session.auth.authmethod =\n", 1, "node.session.auth.authmethod", "using None", &c);
	/* a later empty line does not clear a secret set before */
	const char *twice = "node.session.auth.password = s3cr3t-pw\nnode.session.auth.password =\n";
	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(twice, strlen(twice), "e.conf", &c, &d), 0);
	ck_assert_str_eq(c.node.session.auth.password, "s3cr3t-pw");
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].level, REC_DIAG_FALLBACK);
	ck_assert_ptr_null(strstr(d.v[0].msg, "s3cr3t"));
	rec_diags_free(&d);
}
END_TEST

/* "value # comment": a number (or a word from a list) is its first word,
 * as open-iscsi's strtoul() reads it; a string keeps the whole text, as
 * in open-iscsi, with a warning that never quotes it. */
START_TEST(test_trailing_comment)
{
	struct iscsi_config c;

	expect_fallback("node.session.cmds_max = 64 # comment\n", 1, "node.session.cmds_max",
			"using 64, ignoring '# comment'", &c);
	ck_assert_int_eq(c.node.session.cmds_max, 64);
	expect_fallback("node.conn[0].timeo.login_timeout = 15\t# s\n", 1, "login_timeout", "using 15", &c);
	ck_assert_int_eq(c.node.conn.login_timeout, 15);
	expect_fallback("node.session.xmit_thread_priority = -20 # nice\n", 1, "xmit_thread_priority",
			"using -20", &c);
	ck_assert_int_eq(c.node.session.xmit_thread_priority, -20);
	expect_fallback("node.startup = automatic # at boot\n", 1, "node.startup", "using automatic", &c);
	ck_assert_int_eq(c.node.startup, REC_STARTUP_AUTOMATIC);
	expect_fallback("iscsid.metrics_interval = 60 # s\n", 1, "iscsid.metrics_interval", "using 60", &c);
	ck_assert_uint_eq(c.metrics_interval, 60);
	expect_fallback("isns.port = 3206 # ours\n", 1, "isns.port", "using 3206", &c);
	ck_assert_int_eq(c.isns_port, 3206);
	/* the first word must be a valid value on its own */
	expect_fallback("node.session.cmds_max = 100 # tuned\n", 1, "node.session.cmds_max", "using 128", &c);
	ck_assert_int_eq(c.node.session.cmds_max, 128);

	expect_fallback("node.session.auth.username = joe # ours\n", 1, "node.session.auth.username",
			"includes the text after '#'", &c);
	ck_assert_str_eq(c.node.session.auth.username, "joe # ours");
	expect_fallback("node.session.auth.password = s3cr3t # rotated\n", 1, "node.session.auth.password",
			"includes the text after '#'", &c);
	ck_assert_str_eq(c.node.session.auth.password, "s3cr3t # rotated");

	struct rec_diags d;
	const char *pw = "node.session.auth.password = s3cr3t # rotated\n";
	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(pw, strlen(pw), "f.conf", &c, &d), 0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_null(strstr(d.v[0].msg, "s3cr3t"));
	ck_assert_ptr_null(strstr(d.v[0].msg, "rotated"));
	rec_diags_free(&d);

	/* '#' inside a value (no blank before it) is just a character */
	const char *hash = "node.session.auth.password = pa#ss\n";
	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(hash, strlen(hash), "f.conf", &c, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_str_eq(c.node.session.auth.password, "pa#ss");
	rec_diags_free(&d);
}
END_TEST

/* Values open-iscsi takes without a word (strtoul, no range check): the
 * default is kept, with a warning that says which value is used. */
START_TEST(test_bad_values)
{
	struct iscsi_config c;

	expect_fallback("node.session.cmds_max = abc\n", 1, "node.session.cmds_max", "using 128", &c);
	ck_assert_int_eq(c.node.session.cmds_max, 128);
	expect_fallback("node.session.queue_depth = 99999\n", 1, "node.session.queue_depth",
			"out of range (1..1024); using 32", &c);
	ck_assert_int_eq(c.node.session.queue_depth, 32);
	expect_fallback("node.session.nr_sessions = 0\n", 1, "node.session.nr_sessions", "using 1", &c);
	ck_assert_int_eq(c.node.session.nr_sessions, 1);
	expect_fallback("node.session.cmds_max = 100\n", 1, "node.session.cmds_max", "power of two", &c);
	expect_fallback("node.conn[0].iscsi.HeaderDigest = MD5\n", 1, "HeaderDigest", "using None", &c);
	expect_fallback("discovery.sendtargets.iscsi.MaxRecvDataSegmentLength = 1\n", 1,
			"discovery.sendtargets.iscsi.MaxRecvDataSegmentLength", "using 32768", &c);
	ck_assert_int_eq(c.sendtargets.max_recv_dlength, 32768);
	expect_fallback("iscsid.safe_logout = maybe\n", 1, "iscsid.safe_logout", "using No", &c);
	expect_fallback("iscsid.ipc_auth_uid = nope\n", 1, "iscsid.ipc_auth_uid", "using Yes", &c);
	ck_assert(c.ipc_auth_uid);
	/* a relative metrics directory would depend on iscsid's cwd */
	expect_fallback("iscsid.metrics_dir = metrics\n", 1, "iscsid.metrics_dir", "absolute", &c);
	ck_assert_str_eq(c.metrics_dir, "");
	const char *badint[] = { "iscsid.metrics_interval = 0\n", "iscsid.metrics_interval = 3601\n",
				 "iscsid.metrics_interval = 5s\n", "iscsid.metrics_interval = -1\n", NULL };
	for (size_t i = 0; badint[i]; i++) {
		expect_fallback(badint[i], 1, "iscsid.metrics_interval", "using 15", &c);
		ck_assert_uint_eq(c.metrics_interval, 15);
	}
	/* a key given twice: a bad second value keeps the first */
	expect_fallback("node.session.queue_depth = 64\nnode.session.queue_depth = lots\n", 2,
			"node.session.queue_depth", "using 64", &c);
	ck_assert_int_eq(c.node.session.queue_depth, 64);
}
END_TEST

/* Lines open-iscsi skips with a warning are skipped with one here; the
 * rest of the file applies. */
START_TEST(test_skipped_lines)
{
	struct iscsi_config c;

	expect_fallback("node.startup manual\nnode.session.queue_depth = 64\n", 1, "key = value", "ignored", &c);
	ck_assert_int_eq(c.node.startup, REC_STARTUP_MANUAL);
	ck_assert_int_eq(c.node.session.queue_depth, 64);

	/* a long comment is a comment; a long line of another key is
	 * ignored; a CHAP key's is an error (test_errors) */
	char *lng = malloc(4000);
	strcpy(lng, "node.startup = automatic\n#");
	size_t l = strlen(lng);
	memset(lng + l, 'c', 2000);
	strcpy(lng + l + 2000, "\nnode.session.queue_depth = 64\n");
	struct rec_diags d;
	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(lng, strlen(lng), "f.conf", &c, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_int_eq(c.node.startup, REC_STARTUP_AUTOMATIC);
	ck_assert_int_eq(c.node.session.queue_depth, 64);
	rec_diags_free(&d);

	strcpy(lng, "node.startup = automatic\niscsid.startup = ");
	l = strlen(lng);
	memset(lng + l, 'x', 2000);
	strcpy(lng + l + 2000, "\nnode.session.queue_depth = 64\n");
	expect_fallback(lng, 2, "iscsid.startup", "longer than 1024 bytes", &c);
	ck_assert_str_eq(c.startup, "");
	ck_assert_int_eq(c.node.session.queue_depth, 64);
	free(lng);
}
END_TEST

/* iscsid.automatic_login_wait: seconds, 0 turns the bound off. */
START_TEST(test_automatic_login_wait)
{
	struct iscsi_config c;
	struct rec_diags d;
	const char *ok[] = { "iscsid.automatic_login_wait = 0\n", "iscsid.automatic_login_wait = 120\n",
			     "iscsid.automatic_login_wait = 86400\n" };
	const unsigned want[] = { 0, 120, 86400 };
	for (size_t i = 0; i < 3; i++) {
		rec_diags_init(&d);
		ck_assert_int_eq(config_parse(ok[i], strlen(ok[i]), "w.conf", &c, &d), 0);
		ck_assert_uint_eq(d.n, 0);
		ck_assert_uint_eq(c.automatic_login_wait, want[i]);
		rec_diags_free(&d);
	}
	const char *bad[] = { "iscsid.automatic_login_wait = -1\n", "iscsid.automatic_login_wait = 30s\n",
			      "iscsid.automatic_login_wait = 86401\n", "iscsid.automatic_login_wait = 99999999999999999999\n" };
	for (size_t i = 0; i < 4; i++) {
		expect_fallback(bad[i], 1, "iscsid.automatic_login_wait", "using 30", &c);
		ck_assert_uint_eq(c.automatic_login_wait, 30);
	}
}
END_TEST

/* Regression: an unknown key was echoed byte for byte into the warning,
 * which iscsid logs and iscsiadm prints: terminal escapes went through.
 * And a bad secret is never quoted back. */
START_TEST(test_diag_sanitized)
{
	const char *warn = "node.\x1b]0;pwned\x07" "bogus = 1\n";
	const char *bad = "node.session.auth.password = s3cr3t\x01tail\n";
	struct iscsi_config c;
	struct rec_diags d;

	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(warn, strlen(warn), "w.conf", &c, &d), 0);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].level, REC_DIAG_WARNING);
	for (const char *m = d.v[0].msg; *m; m++)
		ck_assert_msg((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f, "raw byte 0x%02x in \"%s\"",
			      (unsigned char)*m, d.v[0].msg);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "node.?]0;pwned?bogus"));
	rec_diags_free(&d);

	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(bad, strlen(bad), "e.conf", &c, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "node.session.auth.password"));
	ck_assert_ptr_null(strstr(d.v[0].msg, "s3cr3t"));
	rec_diags_free(&d);
}
END_TEST

START_TEST(test_load_missing)
{
	struct iscsi_config c;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(config_load("/nonexistent/iscsid.conf", &c, NULL), -ENOENT);
	ck_assert_int_eq(c.node.conn.login_timeout, 30);
	ck_assert_int_eq(config_load("/", &c, NULL), -EINVAL);
}
END_TEST

/* isns.address / isns.port / isns.iface: iscsid's iSNS server. */
START_TEST(test_isns_keys)
{
	struct iscsi_config c;
	struct rec_diags d;

	config_init(&c);
	ck_assert_str_eq(c.isns_address, "");
	ck_assert_int_eq(c.isns_port, 3205);
	ck_assert_str_eq(c.isns_iface, "");
	const char *ok = "isns.address = isns.example.com\nisns.port = 3206\nisns.iface = uspace\n";
	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(ok, strlen(ok), "i.conf", &c, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_str_eq(c.isns_address, "isns.example.com");
	ck_assert_int_eq(c.isns_port, 3206);
	ck_assert_str_eq(c.isns_iface, "uspace");
	rec_diags_free(&d);
	const char *v6 = "isns.address = fd00::1\n";
	rec_diags_init(&d);
	ck_assert_int_eq(config_parse(v6, strlen(v6), "i.conf", &c, &d), 0);
	ck_assert_str_eq(c.isns_address, "fd00::1");
	rec_diags_free(&d);
	const char *bad[] = { "isns.port = 0\n", "isns.port = 65536\n", "isns.port = 32O5\n", NULL };
	for (size_t i = 0; bad[i]; i++) {
		expect_fallback(bad[i], 1, "isns.port", "using 3205", &c);
		ck_assert_int_eq(c.isns_port, 3205);
	}
	expect_fallback("isns.address = a b\n", 1, "isns.address", "using no value", &c);
	ck_assert_str_eq(c.isns_address, "");
	expect_fallback("isns.iface = a/b\n", 1, "isns.iface", "using no value", &c);
	ck_assert_str_eq(c.isns_iface, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_compiled_defaults);
	tcase_add_test(tc, test_shipped_file);
	tcase_add_test(tc, test_debian_file);
	tcase_add_test(tc, test_warnings);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_empty_value);
	tcase_add_test(tc, test_trailing_comment);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_skipped_lines);
	tcase_add_test(tc, test_automatic_login_wait);
	tcase_add_test(tc, test_isns_keys);
	tcase_add_test(tc, test_diag_sanitized);
	tcase_add_test(tc, test_load_missing);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
