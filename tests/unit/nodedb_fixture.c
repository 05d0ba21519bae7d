/* Shared by the node database tests (test_nodedb, test_nodedb_merge):
 * a fresh root per test, fixture trees, small file checks. */
#include "nodedb_fixture.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "config.h"

char tmpdir[64];

const char *golden(const char *rel, char *buf, size_t len)
{
	const char *top = getenv("top_srcdir");
	snprintf(buf, len, "%s/tests/golden/records/%s", top ? top : "..", rel);
	return buf;
}

void run(const char *cmd)
{
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
}

/* A fresh root, optionally filled from a fixture tree. */
struct nodedb *open_db(const char *fixture)
{
	struct iscsi_paths p;
	struct nodedb *db;
	char cmd[PATH_MAX * 2 + 32], src[PATH_MAX];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_nodedb.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	if (fixture) {
		snprintf(cmd, sizeof(cmd), "cp -R '%s/.' '%s/'", golden(fixture, src, sizeof(src)), tmpdir);
		run(cmd);
		/* Distribution tarballs and checkouts may not keep modes. */
		snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'", tmpdir);
		run(cmd);
	}
	ck_assert_int_eq(paths_init(&p, tmpdir), 0);
	ck_assert_int_eq(nodedb_open(&p, &db), 0);
	return db;
}

void close_db(struct nodedb *db)
{
	char cmd[PATH_MAX + 16];

	nodedb_free(db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	run(cmd);
}


mode_t mode_of(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	if (lstat(path, &st) < 0)
		return 0;
	return st.st_mode;
}

struct node_rec *new_rec(const char *target, const char *addr, int port, int tpgt, const char *iface)
{
	struct node_rec *r = malloc(sizeof(*r)), tmpl;
	struct iface_rec ifr;
	char err[160];

	node_rec_init(&tmpl);
	if (iface)
		ck_assert_int_eq(iface_rec_builtin(iface, &ifr), 0);
	ck_assert_int_eq(node_rec_from_template(&tmpl, target, addr, port, tpgt, iface ? &ifr : NULL, r, err,
						sizeof(err)),
			 0);
	return r;
}
