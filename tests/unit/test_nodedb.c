/* Node database: open-iscsi trees read unchanged, our writes land where
 * open-iscsi looks, atomic and serialised writes (the re-discovery
 * merge is in test_nodedb_merge.c).
 * Every test works in its own mkdtemp directory. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"
#include "fsutil.h"
#include "nodedb.h"
#include "nodedb_fixture.h"

#define T_PROBE "iqn.2001-04.com.example:recprobe"
#define T_PROBE2 "iqn.2001-04.com.example:recprobe2"
#define T_LEGACY "iqn.2001-04.com.example:legacy"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	char *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}


START_TEST(test_read_openiscsi_tree)
{
	struct nodedb *db = open_db("tree");
	struct node_list l;
	struct rec_diags d;
	struct node_filter f;
	char path[PATH_MAX];

	rec_diags_init(&d);
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_str_eq(l.v[0].rec.name, T_PROBE);
	ck_assert_int_eq(l.v[0].rec.tpgt, -1);
	ck_assert_str_eq(l.v[0].rec.iface.name, "iser");
	ck_assert_str_eq(l.v[0].path, "nodes/" T_PROBE "/127.0.0.1,3260");
	ck_assert_str_eq(l.v[1].rec.name, T_PROBE2);
	ck_assert_str_eq(l.v[1].rec.conn.address, "127.0.0.1");
	ck_assert_int_eq(l.v[1].rec.conn.port, 3261);
	ck_assert_int_eq(l.v[1].rec.tpgt, 5);
	ck_assert_str_eq(l.v[1].rec.session.auth.password, "s3cret");
	ck_assert_str_eq(l.v[2].rec.conn.address, "fd00::1");
	ck_assert_str_eq(l.v[2].rec.iface.name, "iser");
	ck_assert_str_eq(l.v[3].rec.name, "iqn.2001-04.com.example:recprobe3");
	node_list_free(&l);

	/* Show output through the DB equals open-iscsi's. */
	struct node_rec r;
	char *out;
	size_t len;
	ck_assert_int_eq(nodedb_node_load(db, T_PROBE2, "127.0.0.1", 3261, 5, "default", &r, &d), 0);
	ck_assert_int_eq(rec_format(REC_KIND_NODE, &r, REC_FMT_SHOW, &out, &len), 0);
	char *want = slurp(golden("show_node_tpgt5.txt", path, sizeof(path)));
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
	ck_assert_int_eq(nodedb_node_load(db, T_PROBE2, "127.0.0.1", 3261, 5, "iser", &r, &d), -ENOENT);

	/* Filters: address forms compare as addresses. */
	node_filter_init(&f);
	f.address = "FD00:0::1";
	ck_assert_int_eq(nodedb_node_find(db, &f, &l, &d), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.v[0].rec.tpgt, 1);
	node_list_free(&l);
	node_filter_init(&f);
	f.target = T_PROBE2;
	f.iface = "default";
	ck_assert_int_eq(nodedb_node_find(db, &f, &l, &d), 0);
	ck_assert_uint_eq(l.n, 1);
	node_list_free(&l);
	f.target = "not a valid name";
	ck_assert_int_eq(nodedb_node_find(db, &f, &l, &d), 0);
	ck_assert_uint_eq(l.n, 0);
	node_list_free(&l);
	ck_assert_uint_eq(d.n, 0);

	/* Discovery and iface records of the same tree. */
	struct discovery_rec dr;
	ck_assert_int_eq(nodedb_disc_load(db, REC_DISC_SENDTARGETS, "127.0.0.1", 3260, &dr, &d), 0);
	ck_assert_str_eq(dr.auth.password, "pw1");
	struct iface_list il;
	ck_assert_int_eq(nodedb_iface_list(db, &il, &d), 0);
	ck_assert_uint_eq(il.n, 4);
	ck_assert_str_eq(il.v[0].name, "recprobe0");
	ck_assert_str_eq(il.v[0].ipaddress, "fd00::5");
	ck_assert_str_eq(il.v[1].name, "default");
	ck_assert_str_eq(il.v[2].name, "iser");
	ck_assert_str_eq(il.v[2].transport_name, "iser");
	/* the userspace transport's built-in iface */
	ck_assert_str_eq(il.v[3].name, "uspace");
	ck_assert_str_eq(il.v[3].transport_name, "uspace");
	iface_list_free(&il);
	rec_diags_free(&d);
	close_db(db);
}
END_TEST

static bool diag_has(const struct rec_diags *d, enum rec_diag_level lvl, const char *path_part)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level == lvl && d->v[i].path && strstr(d->v[i].path, path_part))
			return true;
	return false;
}

START_TEST(test_read_legacy_tree)
{
	struct nodedb *db = open_db("tree-legacy");
	struct node_list l;
	struct rec_diags d;

	rec_diags_init(&d);
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, &d), 0);
	ck_assert_uint_eq(l.n, 3);
	/* <addr>,<port>/<iface> directory: tpgt from the file (-1). */
	ck_assert_str_eq(l.v[0].rec.name, T_LEGACY);
	ck_assert_str_eq(l.v[0].rec.conn.address, "10.0.0.1");
	ck_assert_int_eq(l.v[0].rec.tpgt, -1);
	ck_assert_str_eq(l.v[0].rec.iface.name, "default");
	ck_assert_str_eq(l.v[1].rec.iface.name, "iser");
	/* The pre-iface key node.transport_name still binds the transport. */
	ck_assert_str_eq(l.v[1].rec.iface.transport_name, "iser");
	/* Keys we do not know survive for a later save. */
	ck_assert_uint_eq(l.v[0].rec.extras.n, 2);
	ck_assert_str_eq(l.v[0].rec.extras.kv[0].key, "node.conn[0].timeo.active_timeout");
	/* <addr>,<port>,<tpgt> as a file. */
	ck_assert_str_eq(l.v[2].rec.conn.address, "10.0.0.2");
	ck_assert_int_eq(l.v[2].rec.tpgt, 7);
	ck_assert_str_eq(l.v[2].rec.iface.name, "default");
	node_list_free(&l);

	/* Corrupt records are reported with their path and skipped. */
	ck_assert(diag_has(&d, REC_DIAG_ERROR, "torn/10.0.0.3,3260,1/default"));
	ck_assert(diag_has(&d, REC_DIAG_ERROR, "garbage/10.0.0.4,3260,1/default"));
	bool line3 = false;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].path && strstr(d.v[i].path, "garbage") && d.v[i].line == 3)
			line3 = true;
	ck_assert(line3);
	/* Entries that are not portals are warnings; a directory that is
	 * not a valid name is a warning shown at every verbosity (open-iscsi
	 * lists its records), once, naming it. */
	ck_assert(diag_has(&d, REC_DIAG_WARNING, T_LEGACY));
	size_t named = 0;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].level == REC_DIAG_NOTICE) {
			ck_assert_ptr_nonnull(strstr(d.v[i].path, "/nodes"));
			ck_assert_ptr_nonnull(strstr(d.v[i].msg, "ignoring directory \"bad..name\""));
			named++;
		}
	ck_assert_uint_eq(named, 1);
	char line[512];
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].level == REC_DIAG_NOTICE) {
			rec_diag_format(&d.v[i], line, sizeof(line));
			ck_assert_ptr_nonnull(strstr(line, ": warning: ignoring directory"));
		}

	/* Updating a legacy record writes it back in place, extras kept. */
	struct node_filter f;
	struct rec_kv kv = { "node.session.queue_depth", "16" };
	size_t n;
	char err[200];
	node_filter_init(&f);
	f.target = T_LEGACY;
	f.address = "10.0.0.1";
	f.iface = "default";
	ck_assert_int_eq(nodedb_node_update(db, &f, &kv, 1, &n, err, sizeof(err), NULL), 0);
	ck_assert_uint_eq(n, 1);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/nodes/" T_LEGACY "/10.0.0.1,3260/default", tmpdir);
	char *text = slurp(path);
	ck_assert_ptr_nonnull(strstr(text, "node.session.queue_depth = 16\n"));
	ck_assert_ptr_nonnull(strstr(text, "node.session.sess_reopen_log_freq = 3\n"));
	ck_assert_ptr_null(strstr(text, "node.transport_name"));
	free(text);
	rec_diags_free(&d);
	close_db(db);
}
END_TEST

START_TEST(test_save_layout)
{
	struct nodedb *db = open_db(NULL);
	struct node_rec *r = new_rec("iqn.2001-04.com.example:new", "192.0.2.1", 3260, 1, NULL);
	char path[PATH_MAX], link[PATH_MAX], want[PATH_MAX];

	ck_assert_int_eq(nodedb_node_save(db, r, NODEDB_SAVE_EXCL), 0);
	ck_assert_int_eq(nodedb_node_save(db, r, NODEDB_SAVE_EXCL), -EEXIST);
	ck_assert_int_eq(nodedb_node_save(db, r, 0), 0);
	mode_t m = mode_of("nodes/iqn.2001-04.com.example:new/192.0.2.1,3260,1/default");
	ck_assert(S_ISREG(m));
	ck_assert_int_eq(m & 0777, 0600);
	ck_assert_int_eq(mode_of("nodes") & 0777, 0700);
	ck_assert_int_eq(mode_of("nodes/iqn.2001-04.com.example:new/192.0.2.1,3260,1") & 0777, 0700);

	/* The file is the record's disk form. */
	char *text, *fmt;
	size_t len;
	snprintf(path, sizeof(path), "%s/nodes/iqn.2001-04.com.example:new/192.0.2.1,3260,1/default", tmpdir);
	text = slurp(path);
	ck_assert_int_eq(rec_format(REC_KIND_NODE, r, REC_FMT_DISK, &fmt, &len), 0);
	ck_assert_str_eq(text, fmt);
	free(text);
	free(fmt);

	/* Static records get open-iscsi's static/ link. */
	snprintf(path, sizeof(path), "%s/static/iqn.2001-04.com.example:new,192.0.2.1,3260,1,default", tmpdir);
	ssize_t ll = readlink(path, link, sizeof(link) - 1);
	ck_assert_int_gt(ll, 0);
	link[ll] = '\0';
	snprintf(want, sizeof(want), "%s/nodes/iqn.2001-04.com.example:new/192.0.2.1,3260,1", tmpdir);
	ck_assert_str_eq(link, want);

	/* tpgt -1: a single file, as open-iscsi writes it, and no link. */
	free(r);
	r = new_rec("iqn.2001-04.com.example:new", "192.0.2.2", 3260, -1, NULL);
	ck_assert_int_eq(nodedb_node_save(db, r, 0), 0);
	ck_assert(S_ISREG(mode_of("nodes/iqn.2001-04.com.example:new/192.0.2.2,3260")));
	ck_assert_int_eq(mode_of("static/iqn.2001-04.com.example:new,192.0.2.2,3260,-1,default"), 0);
	/* A second iface for it: the file becomes a directory holding both
	 * (open-iscsi would have overwritten the first). */
	free(r);
	r = new_rec("iqn.2001-04.com.example:new", "192.0.2.2", 3260, -1, "iser");
	ck_assert_int_eq(nodedb_node_save(db, r, NODEDB_SAVE_EXCL), 0);
	ck_assert(S_ISDIR(mode_of("nodes/iqn.2001-04.com.example:new/192.0.2.2,3260")));
	ck_assert(S_ISREG(mode_of("nodes/iqn.2001-04.com.example:new/192.0.2.2,3260/default")));
	ck_assert(S_ISREG(mode_of("nodes/iqn.2001-04.com.example:new/192.0.2.2,3260/iser")));
	struct node_list l;
	struct rec_diags d;
	rec_diags_init(&d);
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.v[1].rec.iface.name, "default");
	ck_assert_str_eq(l.v[2].rec.iface.name, "iser");
	ck_assert_str_eq(l.v[2].rec.iface.transport_name, "iser");
	node_list_free(&l);

	/* Names that would escape the tree never reach the file system. */
	strcpy(r->name, "../../etc");
	ck_assert_int_eq(nodedb_node_save(db, r, 0), -EINVAL);
	strcpy(r->name, "iqn.2001-04.com.example:new");
	strcpy(r->conn.address, "192.0.2.2/../../x");
	ck_assert_int_eq(nodedb_node_save(db, r, 0), -EINVAL);
	strcpy(r->conn.address, "192.0.2.2");
	strcpy(r->iface.name, "..");
	ck_assert_int_eq(nodedb_node_save(db, r, 0), -EINVAL);
	free(r);
	rec_diags_free(&d);
	close_db(db);
}
END_TEST

static int change_identity(struct node_rec *r, void *ud)
{
	(void)ud;
	r->tpgt = 9;
	return 0;
}

START_TEST(test_update_and_delete)
{
	struct nodedb *db = open_db(NULL);
	struct node_rec *r = new_rec("iqn.2001-04.com.example:u", "192.0.2.1", 3260, 1, NULL), got;
	struct node_filter f;
	size_t n = 99;
	char err[200];

	ck_assert_int_eq(nodedb_node_save(db, r, 0), 0);
	node_filter_init(&f);
	f.target = "iqn.2001-04.com.example:u";

	/* All pairs are checked before any is written. */
	struct rec_kv bad[] = { { "node.session.queue_depth", "64" }, { "node.session.cmds_max", "100" } };
	ck_assert_int_eq(nodedb_node_update(db, &f, bad, 2, &n, err, sizeof(err), NULL), -ERANGE);
	ck_assert_ptr_nonnull(strstr(err, "node.session.cmds_max"));
	ck_assert_int_eq(nodedb_node_load(db, r->name, "192.0.2.1", 3260, 1, "default", &got, NULL), 0);
	ck_assert_int_eq(got.session.queue_depth, 32);
	struct rec_kv ident = { "node.tpgt", "2" };
	ck_assert_int_eq(nodedb_node_update(db, &f, &ident, 1, &n, err, sizeof(err), NULL), -EPERM);
	struct rec_kv unknown = { "node.nope", "2" };
	ck_assert_int_eq(nodedb_node_update(db, &f, &unknown, 1, &n, err, sizeof(err), NULL), -ENOENT);
	ck_assert_int_eq(nodedb_exit_code(-ENOENT), ISCSI_ERR_NO_OBJS_FOUND);
	ck_assert_int_eq(nodedb_exit_code(-EPERM), ISCSI_ERR_INVAL);

	struct rec_kv good[] = { { "node.session.queue_depth", "64" }, { "node.startup", "automatic" },
				 { "node.session.auth.password", "pw" } };
	ck_assert_int_eq(nodedb_node_update(db, &f, good, 3, &n, err, sizeof(err), NULL), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(nodedb_node_load(db, r->name, "192.0.2.1", 3260, 1, "default", &got, NULL), 0);
	ck_assert_int_eq(got.session.queue_depth, 64);
	ck_assert_int_eq(got.startup, REC_STARTUP_AUTOMATIC);
	ck_assert_str_eq(got.session.auth.password, "pw");

	f.target = "iqn.2001-04.com.example:nothere";
	ck_assert_int_eq(nodedb_node_update(db, &f, good, 1, &n, err, sizeof(err), NULL), 0);
	ck_assert_uint_eq(n, 0);
	f.target = NULL;
	ck_assert_int_eq(nodedb_node_modify(db, &f, change_identity, NULL, &n, NULL), -EINVAL);

	/* Delete removes the file, the link and directories left empty. */
	ck_assert_int_eq(nodedb_node_delete(db, r), 0);
	ck_assert_int_eq(mode_of("nodes/iqn.2001-04.com.example:u"), 0);
	ck_assert_int_eq(mode_of("static/iqn.2001-04.com.example:u,192.0.2.1,3260,1,default"), 0);
	ck_assert(S_ISDIR(mode_of("nodes")));
	ck_assert_int_eq(nodedb_node_delete(db, r), -ENOENT);

	/* A legacy single-file record. */
	free(r);
	r = new_rec("iqn.2001-04.com.example:u", "192.0.2.3", 3260, -1, NULL);
	ck_assert_int_eq(nodedb_node_save(db, r, 0), 0);
	ck_assert_int_eq(nodedb_node_delete(db, r), 0);
	ck_assert_int_eq(mode_of("nodes/iqn.2001-04.com.example:u"), 0);
	free(r);
	close_db(db);
}
END_TEST

/* A record file with a garbage line, or empty (a crash truncated it:
 * our writes rename whole files into place), is no usable record:
 * not listed or loaded (an error says why), and deletable by the
 * identity its path gives, as open-iscsi deletes it. */
START_TEST(test_corrupt_records)
{
	struct nodedb *db = open_db(NULL);
	struct node_rec *a = new_rec("iqn.2001-04.com.example:a", "192.0.2.1", 3260, 1, NULL);
	struct node_rec *b = new_rec("iqn.2001-04.com.example:b", "192.0.2.1", 3260, 1, NULL);
	struct node_rec *c = new_rec("iqn.2001-04.com.example:c", "192.0.2.1", 3260, -1, NULL);
	struct node_rec *ok = new_rec("iqn.2001-04.com.example:ok", "192.0.2.1", 3260, 1, NULL);
	struct node_list l, bad;
	struct node_filter f;
	struct rec_diags d;
	char cmd[PATH_MAX + 200];

	ck_assert_int_eq(nodedb_node_save(db, a, 0), 0);
	ck_assert_int_eq(nodedb_node_save(db, b, 0), 0);
	ck_assert_int_eq(nodedb_node_save(db, c, 0), 0);
	ck_assert_int_eq(nodedb_node_save(db, ok, 0), 0);
	snprintf(cmd, sizeof(cmd), "cd %s/nodes && echo 'garbage line' >> 'iqn.2001-04.com.example:a/192.0.2.1,3260,1/default'"
		 " && : > 'iqn.2001-04.com.example:b/192.0.2.1,3260,1/default' && : > 'iqn.2001-04.com.example:c/192.0.2.1,3260'",
		 tmpdir);
	run(cmd);

	rec_diags_init(&d);
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, &d), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0].rec.name, ok->name);
	node_list_free(&l);
	ck_assert(diag_has(&d, REC_DIAG_ERROR, "example:a/192.0.2.1,3260,1/default"));
	ck_assert(diag_has(&d, REC_DIAG_ERROR, "example:b/192.0.2.1,3260,1/default"));
	ck_assert(diag_has(&d, REC_DIAG_ERROR, "example:c/192.0.2.1,3260"));
	rec_diags_free(&d);
	struct node_rec got;
	ck_assert_int_eq(nodedb_node_load(db, b->name, "192.0.2.1", 3260, 1, "default", &got, NULL), -ENOENT);

	/* Found by what their paths hold; the other filters need contents. */
	ck_assert_int_eq(nodedb_node_find_corrupt(db, NULL, &bad, NULL), 0);
	ck_assert_uint_eq(bad.n, 3);
	ck_assert_str_eq(bad.v[0].rec.name, a->name);
	ck_assert_str_eq(bad.v[0].path, "nodes/iqn.2001-04.com.example:a/192.0.2.1,3260,1/default");
	ck_assert_int_eq(bad.v[0].rec.tpgt, 1);
	ck_assert_str_eq(bad.v[2].rec.name, c->name);
	ck_assert_int_eq(bad.v[2].rec.tpgt, -1);
	ck_assert_str_eq(bad.v[2].rec.iface.name, "default");
	node_list_free(&bad);
	node_filter_init(&f);
	f.target = b->name;
	f.address = "192.0.2.1";
	f.port = 3260;
	f.iface = "default";
	ck_assert_int_eq(nodedb_node_find_corrupt(db, &f, &bad, NULL), 0);
	ck_assert_uint_eq(bad.n, 1);
	node_list_free(&bad);
	f.iface = "other";
	ck_assert_int_eq(nodedb_node_find_corrupt(db, &f, &bad, NULL), 0);
	ck_assert_uint_eq(bad.n, 0);
	f.iface = NULL;
	f.port = 3261;
	ck_assert_int_eq(nodedb_node_find_corrupt(db, &f, &bad, NULL), 0);
	ck_assert_uint_eq(bad.n, 0);
	f.port = NODEDB_ANY;
	f.disc_type = REC_DISC_STATIC;
	ck_assert_int_eq(nodedb_node_find_corrupt(db, &f, &bad, NULL), 0);
	ck_assert_uint_eq(bad.n, 0);

	/* Deleted with its link and the directories left empty. */
	ck_assert_int_eq(nodedb_node_find_corrupt(db, NULL, &bad, NULL), 0);
	ck_assert_int_eq(nodedb_node_delete_corrupt(db, &bad.v[0]), 0);
	ck_assert_int_eq(mode_of("nodes/iqn.2001-04.com.example:a"), 0);
	ck_assert_int_eq(mode_of("static/iqn.2001-04.com.example:a,192.0.2.1,3260,1,default"), 0);
	ck_assert_int_eq(nodedb_node_delete_corrupt(db, &bad.v[0]), -ENOENT);
	/* one written whole meanwhile stays */
	ck_assert_int_eq(nodedb_node_save(db, b, 0), 0);
	ck_assert_int_eq(nodedb_node_delete_corrupt(db, &bad.v[1]), -EEXIST);
	ck_assert(S_ISREG(mode_of("nodes/iqn.2001-04.com.example:b/192.0.2.1,3260,1/default")));
	ck_assert_int_eq(nodedb_node_delete_corrupt(db, &bad.v[2]), 0);
	ck_assert_int_eq(mode_of("nodes/iqn.2001-04.com.example:c"), 0);
	/* nothing but such a file */
	struct node_entry e = bad.v[1];
	e.path = (char *)"nodes/../etc/x";
	ck_assert_int_eq(nodedb_node_delete_corrupt(db, &e), -EINVAL);
	e.path = (char *)"ifaces/default";
	ck_assert_int_eq(nodedb_node_delete_corrupt(db, &e), -EINVAL);
	node_list_free(&bad);

	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 2);
	node_list_free(&l);
	free(a);
	free(b);
	free(c);
	free(ok);
	close_db(db);
}
END_TEST

START_TEST(test_discovery_records)
{
	struct nodedb *db = open_db(NULL);
	struct discovery_rec dr, got;
	struct disc_list l;
	char err[200];

	discovery_rec_init(&dr, REC_DISC_SENDTARGETS);
	strcpy(dr.address, "192.0.2.9");
	ck_assert_int_eq(nodedb_disc_save(db, &dr), 0);
	ck_assert_int_eq(mode_of("send_targets/192.0.2.9,3260/st_config") & 0777, 0600);
	struct rec_kv kv[] = { { "discovery.sendtargets.auth.authmethod", "CHAP" },
			       { "discovery.sendtargets.auth.password", "hush" } };
	ck_assert_int_eq(nodedb_disc_update(db, REC_DISC_SENDTARGETS, "192.0.2.9", 3260, kv, 2, err, sizeof(err), NULL),
			 0);
	ck_assert_int_eq(nodedb_disc_load(db, REC_DISC_SENDTARGETS, "192.0.2.9", 3260, &got, NULL), 0);
	ck_assert_int_eq(got.auth.authmethod, REC_AUTH_CHAP);
	ck_assert_str_eq(got.auth.password, "hush");
	struct rec_kv ro = { "discovery.sendtargets.port", "1" };
	ck_assert_int_eq(nodedb_disc_update(db, REC_DISC_SENDTARGETS, "192.0.2.9", 3260, &ro, 1, err, sizeof(err), NULL),
			 -EPERM);
	ck_assert_int_eq(nodedb_disc_update(db, REC_DISC_SENDTARGETS, "192.0.2.8", 3260, kv, 1, err, sizeof(err), NULL),
			 -ENOENT);

	discovery_rec_init(&dr, REC_DISC_ISNS);
	strcpy(dr.address, "isns.example.com");
	ck_assert_int_eq(nodedb_disc_save(db, &dr), 0);
	ck_assert_int_eq(nodedb_disc_list(db, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(l.v[0].type, REC_DISC_SENDTARGETS);
	ck_assert_int_eq(l.v[1].type, REC_DISC_ISNS);
	ck_assert_int_eq(l.v[1].port, 3205);
	disc_list_free(&l);

	ck_assert_int_eq(nodedb_disc_delete(db, REC_DISC_SENDTARGETS, "192.0.2.9", 3260), 0);
	ck_assert_int_eq(mode_of("send_targets/192.0.2.9,3260"), 0);
	ck_assert_int_eq(nodedb_disc_load(db, REC_DISC_SENDTARGETS, "192.0.2.9", 3260, &got, NULL), -ENOENT);
	ck_assert_int_eq(nodedb_disc_delete(db, REC_DISC_SENDTARGETS, "192.0.2.9", 3260), -ENOENT);
	ck_assert_int_eq(nodedb_disc_load(db, REC_DISC_STATIC, "192.0.2.9", 3260, &got, NULL), -EINVAL);
	ck_assert_int_eq(nodedb_disc_load(db, REC_DISC_SENDTARGETS, "../x", 3260, &got, NULL), -EINVAL);
	close_db(db);
}
END_TEST

START_TEST(test_ifaces)
{
	struct nodedb *db = open_db(NULL);
	struct iface_rec ifr, got;
	struct iface_list l;
	char err[200];

	iface_rec_init(&ifr, "eth1");
	strcpy(ifr.hwaddress, "00:11:22:33:44:55");
	ck_assert_int_eq(nodedb_iface_save(db, &ifr), 0);
	ck_assert_int_eq(mode_of("ifaces/eth1") & 0777, 0600);
	struct rec_kv kv = { "iface.ipaddress", "192.0.2.7" };
	ck_assert_int_eq(nodedb_iface_update(db, "eth1", &kv, 1, err, sizeof(err), NULL), 0);
	ck_assert_int_eq(nodedb_iface_load(db, "eth1", &got, NULL), 0);
	ck_assert_str_eq(got.ipaddress, "192.0.2.7");
	ck_assert_str_eq(got.hwaddress, "00:11:22:33:44:55");
	/* bound by MAC: naming a device as well is refused, nothing written;
	 * with the MAC cleared in the same call it is a switch */
	struct rec_kv both[] = { { "iface.ipaddress", "192.0.2.8" }, { "iface.net_ifacename", "eth1" } };
	ck_assert_int_eq(nodedb_iface_update(db, "eth1", both, 2, err, sizeof(err), NULL), -EINVAL);
	ck_assert_msg(strstr(err, "bound both by iface.hwaddress") != NULL, "%s", err);
	ck_assert_int_eq(nodedb_iface_load(db, "eth1", &got, NULL), 0);
	ck_assert_str_eq(got.ipaddress, "192.0.2.7");
	ck_assert_str_eq(got.netdev, "");
	struct rec_kv sw[] = { { "iface.hwaddress", "<empty>" }, { "iface.net_ifacename", "eth1" } };
	ck_assert_int_eq(nodedb_iface_update(db, "eth1", sw, 2, err, sizeof(err), NULL), 0);
	ck_assert_int_eq(nodedb_iface_load(db, "eth1", &got, NULL), 0);
	ck_assert_str_eq(got.netdev, "eth1");
	ck_assert_str_eq(got.hwaddress, "");
	/* an unknown transport is refused, a known one taken */
	struct rec_kv tr = { "iface.transport_name", "tcpp" };
	ck_assert_int_eq(nodedb_iface_update(db, "eth1", &tr, 1, err, sizeof(err), NULL), -EINVAL);
	tr.value = "iser";
	ck_assert_int_eq(nodedb_iface_update(db, "eth1", &tr, 1, err, sizeof(err), NULL), 0);
	tr.value = "tcp";
	ck_assert_int_eq(nodedb_iface_update(db, "eth1", &tr, 1, err, sizeof(err), NULL), 0);
	/* an iface of its own may use the userspace transport */
	tr.value = "uspace";
	ck_assert_int_eq(nodedb_iface_update(db, "eth1", &tr, 1, err, sizeof(err), NULL), 0);
	tr.value = "tcp";
	ck_assert_int_eq(nodedb_iface_update(db, "eth1", &tr, 1, err, sizeof(err), NULL), 0);
	ck_assert_int_eq(nodedb_iface_list(db, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_str_eq(l.v[0].name, "eth1");
	iface_list_free(&l);

	iface_rec_init(&ifr, "default");
	ck_assert_int_eq(nodedb_iface_save(db, &ifr), -EPERM);
	ck_assert_int_eq(nodedb_iface_update(db, "iser", &kv, 1, err, sizeof(err), NULL), -EPERM);
	ck_assert_int_eq(nodedb_iface_delete(db, "default"), -EPERM);
	ck_assert_int_eq(nodedb_iface_load(db, "iser", &got, NULL), 0);
	ck_assert_str_eq(got.transport_name, "iser");
	ck_assert_int_eq(nodedb_iface_delete(db, "uspace"), -EPERM);
	ck_assert_int_eq(nodedb_iface_load(db, "uspace", &got, NULL), 0);
	ck_assert_str_eq(got.transport_name, "uspace");
	ck_assert_int_eq(nodedb_iface_load(db, "eth9", &got, NULL), -ENOENT);
	ck_assert_int_eq(nodedb_iface_load(db, "../x", &got, NULL), -EINVAL);
	ck_assert_int_eq(nodedb_iface_delete(db, "eth1"), 0);
	ck_assert_int_eq(nodedb_iface_delete(db, "eth1"), -ENOENT);
	close_db(db);
}
END_TEST

/* -o new with settings, and node records following their iface. */
START_TEST(test_iface_new_and_nodes)
{
	struct nodedb *db = open_db(NULL);
	struct iface_rec got;
	struct node_rec r;
	char err[200];
	bool existed = true;

	struct rec_kv bad[] = { { "iface.ipaddress", "192.0.2.1" }, { "iface.hwaddress", "00:11:22:33:44" } };
	ck_assert_int_eq(nodedb_iface_new(db, "p0", bad, 2, &existed, err, sizeof(err), NULL), -EINVAL);
	ck_assert_int_eq(nodedb_iface_load(db, "p0", &got, NULL), -ENOENT);
	struct rec_kv kv[] = { { "iface.ipaddress", "192.0.2.1" }, { "iface.net_ifacename", "eth0" } };
	ck_assert_int_eq(nodedb_iface_new(db, "p0", kv, 2, &existed, err, sizeof(err), NULL), 0);
	ck_assert(!existed);
	ck_assert_int_eq(nodedb_iface_load(db, "p0", &got, NULL), 0);
	ck_assert_str_eq(got.ipaddress, "192.0.2.1");
	ck_assert_str_eq(got.netdev, "eth0");
	ck_assert_int_eq(nodedb_iface_new(db, "default", NULL, 0, &existed, err, sizeof(err), NULL), -EPERM);

	/* a record bound to p0 and one to default */
	struct node_rec *n0 = new_rec("iqn.2001-04.com.example:t", "192.0.2.9", 3260, 1, NULL);
	n0->iface = got;
	memset(&n0->iface.extras, 0, sizeof(n0->iface.extras));
	ck_assert_int_eq(nodedb_node_save(db, n0, 0), 0);
	struct node_rec *n1 = new_rec("iqn.2001-04.com.example:t", "192.0.2.9", 3260, 1, "default");
	ck_assert_int_eq(nodedb_node_save(db, n1, 0), 0);

	/* an existing iface: kept, the pairs set on it, its records follow */
	struct rec_kv kv2 = { "iface.ipaddress", "192.0.2.2" };
	ck_assert_int_eq(nodedb_iface_new(db, "p0", &kv2, 1, &existed, err, sizeof(err), NULL), 0);
	ck_assert(existed);
	ck_assert_int_eq(nodedb_node_load(db, "iqn.2001-04.com.example:t", "192.0.2.9", 3260, 1, "p0", &r, NULL), 0);
	ck_assert_str_eq(r.iface.ipaddress, "192.0.2.2");
	ck_assert_str_eq(r.iface.netdev, "eth0");
	struct rec_kv kv3[] = { { "iface.net_ifacename", "<empty>" }, { "iface.hwaddress", "02:00:5e:00:53:01" },
				{ "iface.initiatorname", "iqn.2001-04.com.example:other" } };
	ck_assert_int_eq(nodedb_iface_update(db, "p0", kv3, 3, err, sizeof(err), NULL), 0);
	ck_assert_int_eq(nodedb_node_load(db, "iqn.2001-04.com.example:t", "192.0.2.9", 3260, 1, "p0", &r, NULL), 0);
	ck_assert_str_eq(r.iface.netdev, "");
	ck_assert_str_eq(r.iface.hwaddress, "02:00:5e:00:53:01");
	ck_assert_str_eq(r.iface.iname, "iqn.2001-04.com.example:other");
	/* the default iface's record is not touched */
	ck_assert_int_eq(nodedb_node_load(db, "iqn.2001-04.com.example:t", "192.0.2.9", 3260, 1, "default", &r,
					 NULL),
			 0);
	ck_assert_str_eq(r.iface.ipaddress, "");
	ck_assert_str_eq(r.iface.hwaddress, "");
	free(n0);
	free(n1);
	close_db(db);
}
END_TEST

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_lock_timeout)
{
	struct nodedb *db = open_db(NULL);
	struct nodedb *other;
	struct iscsi_paths p;
	struct node_rec *r = new_rec("iqn.2001-04.com.example:l", "192.0.2.1", 3260, 1, NULL);

	ck_assert_int_eq(paths_init(&p, tmpdir), 0);
	ck_assert_int_eq(nodedb_open(&p, &other), 0);
	nodedb_set_lock_timeout(other, 200);

	ck_assert_int_eq(nodedb_lock(db), 0);
	ck_assert_int_eq(nodedb_lock(db), 0);    /* reentrant */
	long long t0 = ms_now();
	int rc = nodedb_node_save(other, r, 0);
	long long dt = ms_now() - t0;
	ck_assert_int_eq(rc, -ETIMEDOUT);
	ck_assert_int_eq(nodedb_exit_code(rc), ISCSI_ERR_IDBM);
	ck_assert_int_ge(dt, 190);
	ck_assert_int_lt(dt, 5000);
	nodedb_unlock(db);                       /* still held once */
	ck_assert_int_eq(nodedb_node_save(other, r, 0), -ETIMEDOUT);
	nodedb_unlock(db);
	ck_assert_int_eq(nodedb_node_save(other, r, 0), 0);
	nodedb_free(other);
	free(r);
	close_db(db);
}
END_TEST

#define NPROC 16
#define NREC 10
#define NINC 20

static int bump(struct node_rec *r, void *ud)
{
	(void)ud;
	r->session.initial_cmdsn++;
	return 0;
}

static int child(int id)
{
	struct iscsi_paths p;
	struct nodedb *db;
	struct node_filter f;
	char target[128], err[200], qd[16];
	size_t n;

	if (paths_init(&p, tmpdir) < 0 || nodedb_open(&p, &db) < 0)
		return 1;
	node_filter_init(&f);
	f.target = "iqn.2001-04.com.example:shared";
	for (int i = 0; i < NINC; i++) {
		if (i < NREC) {
			struct node_rec tmpl, r;
			node_rec_init(&tmpl);
			snprintf(target, sizeof(target), "iqn.2001-04.com.example:c%d-%d", id, i);
			if (node_rec_from_template(&tmpl, target, "192.0.2.1", 3260, 1, NULL, &r, err, sizeof(err)) < 0 ||
			    nodedb_node_save(db, &r, NODEDB_SAVE_EXCL) < 0)
				return 2;
			snprintf(qd, sizeof(qd), "%d", 1 + id);
			struct rec_kv kv = { "node.session.queue_depth", qd };
			struct node_filter mine;
			node_filter_init(&mine);
			mine.target = target;
			if (nodedb_node_update(db, &mine, &kv, 1, &n, err, sizeof(err), NULL) < 0 || n != 1)
				return 3;
		}
		if (nodedb_node_modify(db, &f, bump, NULL, &n, NULL) < 0 || n != 1)
			return 4;
	}
	nodedb_free(db);
	return 0;
}

/* 16 processes create and update records at once: nothing is lost or
 * torn, and the read-modify-write counter adds up exactly. */
START_TEST(test_concurrency)
{
	struct nodedb *db = open_db(NULL);
	struct node_rec *shared = new_rec("iqn.2001-04.com.example:shared", "192.0.2.100", 3260, 1, NULL);
	pid_t pids[NPROC];

	ck_assert_int_eq(nodedb_node_save(db, shared, 0), 0);
	for (int i = 0; i < NPROC; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			_exit(child(i));
	}
	for (int i = 0; i < NPROC; i++) {
		int st;
		ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed (%d)", i, st);
	}
	struct node_list l;
	struct rec_diags d;
	rec_diags_init(&d);
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(l.n, NPROC * NREC + 1);
	size_t checked = 0;
	for (size_t i = 0; i < l.n; i++) {
		int id, k;
		if (sscanf(l.v[i].rec.name, "iqn.2001-04.com.example:c%d-%d", &id, &k) == 2) {
			ck_assert_int_eq(l.v[i].rec.session.queue_depth, 1 + id);
			checked++;
		} else {
			ck_assert_int_eq(l.v[i].rec.session.initial_cmdsn, NPROC * NINC);
		}
	}
	ck_assert_uint_eq(checked, NPROC * NREC);
	node_list_free(&l);
	/* No temporary files left behind. */
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s/nodes' -name '.*')\"", tmpdir);
	run(cmd);
	rec_diags_free(&d);
	free(shared);
	close_db(db);
}
END_TEST

START_TEST(test_env_root)
{
	struct iscsi_paths p;
	struct nodedb *db;
	char dir[] = "/tmp/test_nodedb_env.XXXXXX", cmd[128];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("ISCSI_ROOT", dir, 1);
	ck_assert_int_eq(paths_init(&p, NULL), 0);
	unsetenv("ISCSI_ROOT");
	ck_assert_int_eq(nodedb_open(&p, &db), 0);
	ck_assert_str_eq(nodedb_root(db), dir);
	struct node_rec *r = new_rec("iqn.2001-04.com.example:e", "192.0.2.1", 3260, 1, NULL);
	ck_assert_int_eq(nodedb_node_save(db, r, 0), 0);
	snprintf(cmd, sizeof(cmd), "test -f '%s/nodes/iqn.2001-04.com.example:e/192.0.2.1,3260,1/default'", dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "test -f '%s/lock/nodedb.lock'", dir);
	run(cmd);
	nodedb_free(db);
	free(r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nodedb");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_read_openiscsi_tree);
	tcase_add_test(tc, test_read_legacy_tree);
	tcase_add_test(tc, test_save_layout);
	tcase_add_test(tc, test_update_and_delete);
	tcase_add_test(tc, test_corrupt_records);
	tcase_add_test(tc, test_discovery_records);
	tcase_add_test(tc, test_ifaces);
	tcase_add_test(tc, test_iface_new_and_nodes);
	tcase_add_test(tc, test_lock_timeout);
	tcase_add_test(tc, test_concurrency);
	tcase_add_test(tc, test_env_root);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
