/* Locking iscsid in memory, and trimming its heap all the same (memlock.h). */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "memlock.h"

static bool locked;

int memlock_all(void)
{
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		return -errno;
	locked = true;
	return 0;
}

/* The [heap] mapping of /proc/self/maps: 0, or -ENOENT. */
static int heap_range(unsigned long *start, unsigned long *end)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[heap]") && sscanf(line, "%lx-%lx", start, end) == 2) {
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

int memlock_trim(size_t min_free)
{
	unsigned long start, end;

	/* free chunks inside the heap and its unused top */
	if (mallinfo2().fordblks < min_free)
		return 0;
	if (!locked || heap_range(&start, &end) < 0) {
		(void)malloc_trim(0);
		return 1;
	}
	if (munlock((void *)start, end - start) < 0) {
		log_debug(1, "cannot unlock the heap to trim it: %s", strerror(errno));
		return 0;
	}
	(void)malloc_trim(0);
	/* the heap may have shrunk: lock what is left of it */
	if (heap_range(&start, &end) == 0 && mlock2((void *)start, end - start, MLOCK_ONFAULT) < 0)
		log_warn("cannot lock the heap again: %s", strerror(errno));
	return 1;
}
