/* Helpers shared by the node database tests. */
#ifndef TESTS_UNIT_NODEDB_FIXTURE_H
#define TESTS_UNIT_NODEDB_FIXTURE_H

#include <stddef.h>
#include <sys/types.h>

#include "nodedb.h"

/* The current test's root (set by open_db()). */
extern char tmpdir[64];

/* Path of a file under tests/golden/records. */
const char *golden(const char *rel, char *buf, size_t len);
/* system(cmd), asserting success. */
void run(const char *cmd);
/* A fresh root, optionally filled from a fixture tree. */
struct nodedb *open_db(const char *fixture);
/* Frees db and removes its root. */
void close_db(struct nodedb *db);
/* lstat() mode of a path below the root; 0 when absent. */
mode_t mode_of(const char *rel);
/* A node record from the default template (malloc'ed). */
struct node_rec *new_rec(const char *target, const char *addr, int port, int tpgt, const char *iface);

#endif
