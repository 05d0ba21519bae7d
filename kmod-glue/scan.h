/* SCSI scanning and device control through sysfs writes
 * (reference/kernel-iscsi-abi.md §2.5, §5 gotcha 13).
 *
 * Writing a host's `scan` file returns only when the kernel has finished
 * REPORT LUNS/INQUIRY, and deleting a device may wait for its cache to be
 * flushed, so the daemon must not make these writes on its event loop.
 * The _async calls hand the write to a helper process (started on the
 * first job and kept; one thread per write), which reports the result
 * over a socket of the job's own; the daemon watches scan_job_fd() and
 * calls scan_job_dispatch() when it is readable, which invokes the
 * completion callback once. The helper is double-forked so the daemon
 * never has to reap it, holds none of the daemon's descriptors, and exits
 * when the daemon does; if it dies, its jobs fail (-ECHILD) and the next
 * job starts a new one.
 *
 * Blocking variants are for tools (iscsiadm).
 */
#ifndef KMODGLUE_SCAN_H
#define KMODGLUE_SCAN_H

#include <stdint.h>

#include "sysfs.h"

#define SCAN_ANY     (-1)            /* channel/target wildcard "-" */
#define SCAN_ANY_LUN UINT64_MAX      /* lun wildcard "-" */

struct scan_job;

/* result: 0, or the negative errno of the open/write in the helper. The
 * callback may free the job. */
typedef void (*scan_done_fn)(struct scan_job *job, int result, void *userdata);

/* Format "<channel> <target> <lun>" ("-" for wildcards), e.g. "- - -". */
int scan_format(int channel, int target, uint64_t lun, char *buf, size_t cap);

/* Blocking: write the scan string to class/scsi_host/host<H>/scan. */
int scan_host(const char *sysfs_root, uint32_t host_no, int channel, int target, uint64_t lun);
/* The same off the caller's thread and process. */
int scan_host_async(const char *sysfs_root, uint32_t host_no, int channel, int target,
		    uint64_t lun, scan_done_fn done, void *userdata, struct scan_job **ret);

/* Any sysfs write off the loop: <root>/<relpath> <- value. */
int scan_write_async(const char *sysfs_root, const char *relpath, const char *value,
		     scan_done_fn done, void *userdata, struct scan_job **ret);

int scan_job_fd(const struct scan_job *job);
/* Call when the fd is readable: 0 when the job completed (callback
 * called), -EAGAIN if not yet. */
int scan_job_dispatch(struct scan_job *job);
/* NULL ok. An unfinished job is abandoned: its write still completes. */
void scan_job_free(struct scan_job *job);

/* Device control (bus/scsi/devices/H:C:T:L/...). */
/* state <- "running": after recovery, for offline/transport-offline LUNs. */
int scan_lun_set_running(const char *sysfs_root, const struct sysfs_hctl *h);
/* rescan <- "1" (re-reads capacity/INQUIRY; blocks). */
int scan_lun_rescan(const char *sysfs_root, const struct sysfs_hctl *h);
/* delete <- "1": removes the device (logout of one LUN; blocks). */
int scan_lun_delete(const char *sysfs_root, const struct sysfs_hctl *h);
int scan_lun_delete_async(const char *sysfs_root, const struct sysfs_hctl *h,
			  scan_done_fn done, void *userdata, struct scan_job **ret);
/* queue_depth <- n (open-iscsi sets node.session.queue_depth after scan). */
int scan_lun_set_queue_depth(const char *sysfs_root, const struct sysfs_hctl *h,
			     unsigned int depth);

#endif
