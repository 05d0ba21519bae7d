/* iscsid's memory: locked in RAM, and given back after a burst.
 *
 * A root file system on iSCSI: while its session is down, every read of
 * that disk waits for iscsid to recover the session; if recovering it
 * needed a page of iscsid's code or data read back from that disk, nothing
 * would move until replacement_timeout fails the I/O. So all of the
 * daemon stays in memory (mlockall), as open-iscsi's does.
 *
 * Locked pages cannot be dropped with MADV_DONTNEED, which is how
 * malloc_trim() gives back the free pages inside the heap: with the
 * memory locked, a burst of logins would keep its peak resident for
 * good. memlock_trim() unlocks the heap for the trim (a few
 * microseconds, once after a burst) and locks it again on fault (mlock2
 * MLOCK_ONFAULT): every page in use is locked again at once; a page given
 * back is a zero page when it is next touched, which needs no disk. */
#ifndef ISCSID_MEMLOCK_H
#define ISCSID_MEMLOCK_H

#include <stddef.h>

/* mlockall(MCL_CURRENT | MCL_FUTURE). 0 or -errno. */
int memlock_all(void);
/* When min_free bytes or more of the heap are free, gives them back to
 * the system (malloc_trim), unlocking the heap around it when
 * memlock_all() locked it. 1 when it trimmed, 0 when not. */
int memlock_trim(size_t min_free);

#endif
