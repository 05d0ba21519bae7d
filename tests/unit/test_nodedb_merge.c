/* Node database: the re-discovery merge (new, changed and vanished
 * targets) and its write batch, with the batch's failure paths.
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

static bool busy_t3(const struct node_rec *rec, void *ud)
{
	(void)ud;
	return strcmp(rec->name, "iqn.2001-04.com.example:t3") == 0;
}

static int count_links(const char *dir_rel)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "test $(find '%s/%s' -type l | wc -l) -eq", tmpdir, dir_rel);
	for (int n = 0; n < 10; n++) {
		char c2[PATH_MAX + 80];
		snprintf(c2, sizeof(c2), "%s %d", cmd, n);
		if (system(c2) == 0)
			return n;
	}
	return -1;
}

START_TEST(test_merge)
{
	struct nodedb *db = open_db(NULL);
	struct iscsi_config c;
	struct discovery_rec dr;
	struct nodedb_merge_result res;
	struct node_filter f;
	struct node_rec got;
	size_t n;
	char err[200];
	const unsigned nd = NODEDB_MERGE_NEW | NODEDB_MERGE_DELETE;

	config_init(&c);
	c.node.startup = REC_STARTUP_AUTOMATIC;
	dr = c.sendtargets;
	strcpy(dr.address, "192.0.2.9");

	/* A static record for t1 from elsewhere: not this source's. */
	struct node_rec *st = new_rec("iqn.2001-04.com.example:t1", "192.0.2.50", 3260, 1, NULL);
	ck_assert_int_eq(nodedb_node_save(db, st, 0), 0);

	struct disc_target run1[] = { { "iqn.2001-04.com.example:t1", "192.0.2.21", 3260, 1 },
				      { "iqn.2001-04.com.example:t2", "192.0.2.22", 3260, 1 } };
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, run1, 2, nd, NULL, NULL, &res, NULL), 0);
	ck_assert_uint_eq(res.added, 2);
	ck_assert_uint_eq(res.deleted, 0);
	ck_assert(S_ISREG(mode_of("send_targets/192.0.2.9,3260/st_config")));
	ck_assert_int_eq(count_links("send_targets/192.0.2.9,3260"), 2);
	ck_assert_int_eq(nodedb_node_load(db, "iqn.2001-04.com.example:t1", "192.0.2.21", 3260, 1, "default", &got,
					  NULL),
			 0);
	ck_assert_int_eq(got.disc_type, REC_DISC_SENDTARGETS);
	ck_assert_str_eq(got.disc_address, "192.0.2.9");
	ck_assert_int_eq(got.disc_port, 3260);
	ck_assert_int_eq(got.startup, REC_STARTUP_AUTOMATIC);

	/* The user tunes t1; a re-discovery keeps that, adds t3, drops t2. */
	struct rec_kv kv = { "node.session.queue_depth", "77" };
	node_filter_init(&f);
	f.target = "iqn.2001-04.com.example:t1";
	f.address = "192.0.2.21";
	ck_assert_int_eq(nodedb_node_update(db, &f, &kv, 1, &n, err, sizeof(err), NULL), 0);
	struct disc_target run2[] = { { "iqn.2001-04.com.example:t1", "192.0.2.21", 3260, 1 },
				      { "iqn.2001-04.com.example:t3", "192.0.2.23", 3260, 1 },
				      { "bad name", "192.0.2.24", 3260, 1 } };
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, run2, 3, nd, NULL, NULL, &res, NULL), 0);
	ck_assert_uint_eq(res.added, 1);
	ck_assert_uint_eq(res.kept, 1);
	ck_assert_uint_eq(res.deleted, 1);
	ck_assert_uint_eq(res.invalid, 1);
	ck_assert_int_eq(nodedb_node_load(db, "iqn.2001-04.com.example:t1", "192.0.2.21", 3260, 1, "default", &got,
					  NULL),
			 0);
	ck_assert_int_eq(got.session.queue_depth, 77);
	ck_assert_int_eq(nodedb_node_load(db, "iqn.2001-04.com.example:t2", "192.0.2.22", 3260, 1, "default", &got,
					  NULL),
			 -ENOENT);
	ck_assert_int_eq(count_links("send_targets/192.0.2.9,3260"), 2);

	/* Open-iscsi's default (-o new -o delete -o update): rewrite. */
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, run2, 2, nd | NODEDB_MERGE_UPDATE, NULL, NULL,
					   &res, NULL),
			 0);
	ck_assert_uint_eq(res.updated, 2);
	ck_assert_int_eq(nodedb_node_load(db, "iqn.2001-04.com.example:t1", "192.0.2.21", 3260, 1, "default", &got,
					  NULL),
			 0);
	ck_assert_int_eq(got.session.queue_depth, 32);

	/* Nothing reported: t3 has a session and stays, t1 goes; the static
	 * t1 record is another source's and is left alone. */
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, NULL, 0, NODEDB_MERGE_DELETE, busy_t3, NULL, &res,
					   NULL),
			 0);
	ck_assert_uint_eq(res.busy, 1);
	ck_assert_uint_eq(res.deleted, 1);
	struct node_list l;
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0].rec.conn.address, "192.0.2.50");
	ck_assert_str_eq(l.v[1].rec.name, "iqn.2001-04.com.example:t3");
	node_list_free(&l);

	/* Bound to two ifaces: one record per iface. */
	struct iface_rec ifs[2];
	iface_rec_builtin("default", &ifs[0]);
	iface_rec_init(&ifs[1], "eth1");
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, ifs, 2, run1, 1, nd, busy_t3, NULL, &res, NULL), 0);
	ck_assert_uint_eq(res.added, 2);
	ck_assert_uint_eq(res.busy, 1);
	free(st);
	close_db(db);
}
END_TEST

/* A record of the node without a tag (tpgt -1, from "-o new -p
 * addr:port") is that node for a discovery that reports the tag: no
 * second record (which would mean a second login), as open-iscsi reads
 * its tag-less records. The static record becomes the source's with its
 * settings; with UPDATE it is rewritten where it is, and the delete pass
 * keeps it while the target reports its portal. */
START_TEST(test_merge_untagged_record)
{
	struct nodedb *db = open_db(NULL);
	struct iscsi_config c;
	struct discovery_rec dr;
	struct nodedb_merge_result res;
	struct node_list l;
	const char *t = "iqn.2001-04.com.example:t1";

	config_init(&c);
	dr = c.sendtargets;
	strcpy(dr.address, "192.0.2.9");
	struct node_rec *st = new_rec(t, "192.0.2.21", 3260, -1, NULL);
	st->session.queue_depth = 77;
	ck_assert_int_eq(nodedb_node_save(db, st, 0), 0);
	ck_assert(S_ISREG(mode_of("nodes/iqn.2001-04.com.example:t1/192.0.2.21,3260")));

	struct disc_target run1[] = { { t, "192.0.2.21", 3260, 1 } };
	const unsigned nd = NODEDB_MERGE_NEW | NODEDB_MERGE_DELETE;
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, run1, 1, nd, NULL, NULL, &res, NULL), 0);
	ck_assert_uint_eq(res.added, 0);
	ck_assert_uint_eq(res.kept, 1);
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.v[0].rec.tpgt, -1);
	ck_assert_int_eq(l.v[0].rec.session.queue_depth, 77);
	/* now this source's (listed under it, deleted with it), settings kept */
	ck_assert_int_eq(l.v[0].rec.disc_type, REC_DISC_SENDTARGETS);
	ck_assert_str_eq(l.v[0].rec.disc_address, "192.0.2.9");
	ck_assert_int_eq(l.v[0].rec.disc_port, 3260);
	node_list_free(&l);

	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, run1, 1, nd | NODEDB_MERGE_UPDATE, NULL, NULL,
					   &res, NULL),
			 0);
	ck_assert_uint_eq(res.updated, 1);
	ck_assert_uint_eq(res.deleted, 0);
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.v[0].rec.tpgt, -1);
	ck_assert_int_eq(l.v[0].rec.disc_type, REC_DISC_SENDTARGETS);
	ck_assert_int_eq(l.v[0].rec.session.queue_depth, 32);
	node_list_free(&l);

	/* A static record with the reported tag: its static/ link makes
	 * way for the source's link. */
	struct node_rec *st2 = new_rec("iqn.2001-04.com.example:t2", "192.0.2.22", 3260, 1, NULL);
	st2->session.queue_depth = 66;
	ck_assert_int_eq(nodedb_node_save(db, st2, 0), 0);
	ck_assert(S_ISLNK(mode_of("static/iqn.2001-04.com.example:t2,192.0.2.22,3260,1,default")));
	struct disc_target run2[] = { { t, "192.0.2.21", 3260, 1 },
				      { "iqn.2001-04.com.example:t2", "192.0.2.22", 3260, 1 } };
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, run2, 2, nd, NULL, NULL, &res, NULL), 0);
	ck_assert_uint_eq(res.kept, 2);
	ck_assert_uint_eq(res.added, 0);
	ck_assert_int_eq(mode_of("static/iqn.2001-04.com.example:t2,192.0.2.22,3260,1,default"), 0);
	ck_assert(S_ISLNK(mode_of("send_targets/192.0.2.9,3260/iqn.2001-04.com.example:t2,192.0.2.22,3260,1,default")));
	struct node_rec got;
	ck_assert_int_eq(nodedb_node_load(db, "iqn.2001-04.com.example:t2", "192.0.2.22", 3260, 1, "default", &got,
					  NULL),
			 0);
	ck_assert_int_eq(got.session.queue_depth, 66);
	ck_assert_int_eq(got.disc_type, REC_DISC_SENDTARGETS);
	free(st2);

	/* A later run that still reports it keeps it, one that does not
	 * deletes it. */
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, run2, 2, nd, NULL, NULL, &res, NULL), 0);
	ck_assert_uint_eq(res.deleted, 0);
	ck_assert_uint_eq(res.added, 0);
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, NULL, 0, nd, NULL, NULL, &res, NULL), 0);
	ck_assert_uint_eq(res.deleted, 2);
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, NULL), 0);
	ck_assert_uint_eq(l.n, 0);
	node_list_free(&l);
	free(st);
	close_db(db);
}
END_TEST

/* Enough targets for the syncfs path of the write batch. */
#define NT 40
_Static_assert(NT > FS_BATCH_FSYNC_MAX, "NT must exceed FS_BATCH_FSYNC_MAX");

static char bt_names[NT][64];

static void batch_targets(struct disc_target *v)
{
	for (int i = 0; i < NT; i++) {
		snprintf(bt_names[i], sizeof(bt_names[i]), "iqn.2001-04.com.example:b%02d", i);
		v[i] = (struct disc_target){ bt_names[i], "192.0.2.30", 3260, 1 };
	}
}

/* find(1) under the root: how many entries match the test expression. */
static int count_found(const char *expr)
{
	char cmd[PATH_MAX + 128];
	snprintf(cmd, sizeof(cmd), "find '%s' %s | wc -l", tmpdir, expr);
	FILE *f = popen(cmd, "r");
	int n = -1;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

/* Every record readable and whole; returns how many there are. */
static size_t all_records_clean(struct nodedb *db)
{
	struct node_list l;
	struct rec_diags d;

	rec_diags_init(&d);
	ck_assert_int_eq(nodedb_node_find(db, NULL, &l, &d), 0);
	ck_assert_msg(d.n == 0, "diagnostics: %s", d.n ? d.v[0].msg : "");
	size_t n = l.n;
	for (size_t i = 0; i < l.n; i++) {
		ck_assert_int_eq(l.v[i].rec.disc_type, REC_DISC_SENDTARGETS);
		ck_assert_str_eq(l.v[i].rec.disc_address, "192.0.2.9");
		ck_assert_int_eq(l.v[i].rec.session.queue_depth, 32);
	}
	node_list_free(&l);
	rec_diags_free(&d);
	return n;
}

/* A large discovery goes through one write batch: every record, link
 * and the discovery record land as a sequence of single writes would
 * have left them, with nothing temporary behind. */
START_TEST(test_merge_batch)
{
	struct nodedb *db = open_db(NULL);
	struct iscsi_config c;
	struct discovery_rec dr;
	struct nodedb_merge_result res;
	struct disc_target found[NT + 1];
	const unsigned nd = NODEDB_MERGE_NEW | NODEDB_MERGE_DELETE;

	config_init(&c);
	dr = c.sendtargets;
	strcpy(dr.address, "192.0.2.9");
	batch_targets(found);
	/* A repeated portal counts once, as when records were written one
	 * by one and the second found the first on disk. */
	found[NT] = found[7];
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, found, NT + 1, nd, NULL, NULL, &res, NULL), 0);
	ck_assert_uint_eq(res.added, NT);
	ck_assert_uint_eq(res.kept, 1);
	ck_assert_uint_eq(all_records_clean(db), NT);
	ck_assert(S_ISREG(mode_of("send_targets/192.0.2.9,3260/st_config")));
	ck_assert_int_eq(mode_of("send_targets/192.0.2.9,3260/st_config") & 0777, 0600);
	ck_assert_int_eq(mode_of("nodes/iqn.2001-04.com.example:b39/192.0.2.30,3260,1/default") & 0777, 0600);
	ck_assert_int_eq(count_found("-path '*/send_targets/*' -type l"), NT);
	ck_assert_int_eq(count_found("-name '.*'"), 0);

	/* Again, all kept (the delete pass leaves them unread); then one
	 * fewer, which the delete pass must read and remove. */
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, found, NT, nd, NULL, NULL, &res, NULL), 0);
	ck_assert_uint_eq(res.kept, NT);
	ck_assert_uint_eq(res.added + res.deleted, 0);
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, found + 1, NT - 1, nd | NODEDB_MERGE_UPDATE,
					   NULL, NULL, &res, NULL),
			 0);
	ck_assert_uint_eq(res.updated, NT - 1);
	ck_assert_uint_eq(res.deleted, 1);
	ck_assert_uint_eq(all_records_clean(db), NT - 1);
	ck_assert_int_eq(count_found("-path '*/send_targets/*' -type l"), NT - 1);
	ck_assert_int_eq(count_found("-name '.*'"), 0);

	/* -o update alone creates nothing, not even for a repeated portal. */
	struct disc_target fresh[2] = { { "iqn.2001-04.com.example:new", "192.0.2.31", 3260, 1 },
					{ "iqn.2001-04.com.example:new", "192.0.2.31", 3260, 1 } };
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, fresh, 2, NODEDB_MERGE_UPDATE, NULL, NULL, &res,
					   NULL),
			 0);
	ck_assert_uint_eq(res.added + res.updated + res.kept, 0);
	ck_assert_uint_eq(all_records_clean(db), NT - 1);
	close_db(db);
}
END_TEST

/* A failure while the batch is being written (root is not stopped by
 * modes, so a target's directory is taken by a file) leaves nothing of
 * that discovery: no record, no link, no discovery record, no
 * temporary file, and the error is reported. */
START_TEST(test_merge_batch_fail_staging)
{
	struct nodedb *db = open_db(NULL);
	struct iscsi_config c;
	struct discovery_rec dr;
	struct nodedb_merge_result res;
	struct disc_target found[NT];
	char cmd[PATH_MAX + 64];

	config_init(&c);
	dr = c.sendtargets;
	strcpy(dr.address, "192.0.2.9");
	batch_targets(found);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/nodes' && : > '%s/nodes/%s'", tmpdir, tmpdir, bt_names[NT / 2]);
	run(cmd);
	ck_assert_int_eq(nodedb_disc_merge(db, &dr, &c.node, NULL, 0, found, NT, NODEDB_MERGE_NEW, NULL, NULL, &res,
					   NULL),
			 -ENOTDIR);
	ck_assert_int_eq(count_found("-name '.*'"), 0);
	ck_assert_int_eq(count_found("-type l"), 0);
	ck_assert_int_eq(count_found("-name st_config"), 0);
	ck_assert_int_eq(count_found("-path '*/nodes/*' -type f"), 1);   /* the obstacle */
	snprintf(cmd, sizeof(cmd), "rm '%s/nodes/%s'", tmpdir, bt_names[NT / 2]);
	run(cmd);
	ck_assert_uint_eq(all_records_clean(db), 0);
	close_db(db);
}
END_TEST

/* A rename that fails in the commit (the record's name is taken by a
 * directory): the error is reported, no temporary file is left, and
 * every record that is there is whole. */
START_TEST(test_merge_batch_fail_rename)
{
	struct nodedb *db = open_db(NULL);
	struct iscsi_config c;
	struct discovery_rec dr;
	struct nodedb_merge_result res;
	struct disc_target found[NT];
	char cmd[PATH_MAX + 64];

	config_init(&c);
	dr = c.sendtargets;
	strcpy(dr.address, "192.0.2.9");
	batch_targets(found);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/nodes/%s/192.0.2.30,3260,1/default/x'", tmpdir, bt_names[NT / 2]);
	run(cmd);
	int r = nodedb_disc_merge(db, &dr, &c.node, NULL, 0, found, NT, NODEDB_MERGE_NEW, NULL, NULL, &res, NULL);
	ck_assert_msg(r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST, "merge: %d", r);
	ck_assert_int_eq(count_found("-name '.*'"), 0);
	/* Renamed in order: the discovery record and the targets before
	 * the obstacle, each with its link; none after it. */
	ck_assert(S_ISREG(mode_of("send_targets/192.0.2.9,3260/st_config")));
	ck_assert_uint_eq(all_records_clean(db), NT / 2);
	ck_assert_int_eq(count_found("-type l"), NT / 2);
	close_db(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nodedb_merge");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_merge_untagged_record);
	tcase_add_test(tc, test_merge_batch);
	tcase_add_test(tc, test_merge_batch_fail_staging);
	tcase_add_test(tc, test_merge_batch_fail_rename);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
