/* The pid file: created with O_EXCL when absent, and held with flock()
 * for the daemon's lifetime, so a second iscsid refuses to start even
 * when a crashed daemon left a stale file behind (the lock died with it). */
#ifndef ISCSID_PIDFILE_H
#define ISCSID_PIDFILE_H

#include <sys/types.h>

struct pidfile;

/* Creates and locks path. -EEXIST when another process holds the lock:
 * *ret_holder then has its pid if the file names one (else 0). Other
 * errors: the open/lock errno. The pid is not written yet (see below). */
int pidfile_acquire(const char *path, struct pidfile **ret, pid_t *ret_holder);
/* Writes the current pid (call after daemonizing). */
int pidfile_write(struct pidfile *p);
/* Removes the file and releases the lock. NULL is a no-op. */
void pidfile_release(struct pidfile *p);

#endif
