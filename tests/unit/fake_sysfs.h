/* Fake sysfs trees for kmod-glue tests, built in a fresh temporary
 * directory with the real layout's symlinks (reference §3):
 *
 *   devices/platform/hostH/{scsi_host,iscsi_host}/hostH/...
 *   devices/platform/hostH/sessionS/iscsi_session/sessionS/{attrs, device -> ../../../sessionS}
 *   devices/platform/hostH/sessionS/connectionS:C/iscsi_connection/connectionS:C/...
 *   devices/platform/hostH/sessionS/targetH:0:0/H:0:0:L/{state,type,block/sdX/}
 *   class/iscsi_session/sessionS -> ../../devices/platform/hostH/sessionS/iscsi_session/sessionS
 *   class/iscsi_connection, class/iscsi_host, class/scsi_host, class/block likewise
 *   bus/scsi/devices/H:0:0:L -> ../../../devices/platform/hostH/sessionS/targetH:0:0/H:0:0:L
 *
 * Any failure aborts the test program: a broken fixture is not a result.
 */
#ifndef TESTS_FAKE_SYSFS_H
#define TESTS_FAKE_SYSFS_H

#include <stdint.h>

/* mkdtemp under $TMPDIR (or /tmp), mode 0755; returns a malloc'd path. */
char *fake_sysfs_new(void);
/* rm -rf root and free the string. */
void fake_sysfs_free(char *root);

void fake_mkdir(const char *root, const char *rel);
/* Write content verbatim (creating parent dirs). */
void fake_write(const char *root, const char *rel, const char *content);
/* rel -> target (target relative to rel's directory, as in sysfs). */
void fake_symlink(const char *root, const char *rel, const char *target);

void fake_add_transport(const char *root, const char *name, const char *handle, const char *caps);
void fake_add_host(const char *root, uint32_t host);
/* A session with every tcp-visible attribute (state as given). */
void fake_add_session(const char *root, uint32_t host, uint32_t sid, const char *state);
/* Write one attribute of a session/connection (through the class link). */
void fake_session_attr(const char *root, uint32_t sid, const char *attr, const char *value);
void fake_add_conn(const char *root, uint32_t host, uint32_t sid, uint32_t cid);
void fake_conn_attr(const char *root, uint32_t sid, uint32_t cid, const char *attr,
		    const char *value);
/* Whether class/iscsi_session/session<sid> exists. */
int fake_has_session(const char *root, uint32_t sid);
/* What DESTROY_SESSION does for iscsi_tcp: the session, its connections,
 * LUNs and SCSI host go, with every class/bus link into them. */
void fake_del_session(const char *root, uint32_t sid);
/* DESTROY_CONN: connection<sid>:<cid> goes (no-op if it is not there). */
void fake_del_conn(const char *root, uint32_t sid, uint32_t cid);
/* A LUN H:0:0:L under session sid; block may be NULL (not probed yet). */
void fake_add_lun(const char *root, uint32_t host, uint32_t sid, uint64_t lun, const char *state,
		  const char *block);

#endif
