/* iscsid.safe_logout: is anything of a session mounted? The session's
 * disks, their partitions and what is stacked on them (device mapper,
 * md: class/block/X/holders/) are compared by major:minor with field 3
 * of each /proc/self/mountinfo line (proc(5)). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksession.h"
#include "sysfs.h"

#define KM_MAX_DEVS 1024       /* devices collected per session */
#define KM_MAX_DEPTH 8         /* holders of holders ... */

struct kdev {
	unsigned major, minor;
	char name[SYSFS_SHORT_MAX];
};

struct kdevs {
	struct kdev v[KM_MAX_DEVS];
	size_t n;
};

static bool have(const struct kdevs *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].name, name))
			return true;
	return false;
}

/* Adds class/block/<name> (if it has a dev number), its partitions and
 * its holders. */
static void add_dev(const char *sysfs, const char *name, struct kdevs *d, int depth)
{
	char rel[PATH_MAX], buf[64];
	unsigned ma, mi;

	if (depth > KM_MAX_DEPTH || d->n >= KM_MAX_DEVS || have(d, name) || strlen(name) >= SYSFS_SHORT_MAX)
		return;
	snprintf(rel, sizeof(rel), "class/block/%s/dev", name);
	if (sysfs_read_attr(sysfs, rel, buf, sizeof(buf)) < 0 || sscanf(buf, "%u:%u", &ma, &mi) != 2)
		return;
	d->v[d->n].major = ma;
	d->v[d->n].minor = mi;
	snprintf(d->v[d->n].name, sizeof(d->v[d->n].name), "%s", name);
	d->n++;

	/* partitions are subdirectories named <name>N with a "partition"
	 * file; holders/ lists what is stacked on the device */
	const char *subdirs[2] = { "", "holders" };
	for (int s = 0; s < 2; s++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/class/block/%s%s%s", sysfs ? sysfs : "/sys", name, s ? "/" : "",
			 subdirs[s]);
		DIR *dir = opendir(path);
		if (!dir)
			continue;
		struct dirent *e;
		while ((e = readdir(dir))) {
			if (e->d_name[0] == '.')
				continue;
			if (s == 0) {
				if (strncmp(e->d_name, name, strlen(name)) != 0)
					continue;
				snprintf(rel, sizeof(rel), "class/block/%s/%s/partition", name, e->d_name);
				if (sysfs_read_attr(sysfs, rel, buf, sizeof(buf)) < 0)
					continue;
			}
			add_dev(sysfs, e->d_name, d, depth + 1);
		}
		closedir(dir);
	}
}

/* Field 3 of a mountinfo line: "36 35 98:0 /mnt1 /mnt2 rw ..." -> major,
 * minor and (field 5) the mount point. */
static bool parse_line(const char *line, unsigned *ma, unsigned *mi, char *mnt, size_t mntlen)
{
	char devs[32], point[PATH_MAX];
	unsigned id, parent;
	if (sscanf(line, "%u %u %31s %*s %4095s", &id, &parent, devs, point) != 4)
		return false;
	if (sscanf(devs, "%u:%u", ma, mi) != 2)
		return false;
	snprintf(mnt, mntlen, "%s", point);
	return true;
}

int kmount_session_busy(const char *sysfs, const char *mountinfo, uint32_t sid, char *why, size_t whylen)
{
	struct sysfs_lun *luns = NULL;
	size_t n = 0;
	int r = sysfs_session_luns(sysfs, sid, &luns, &n);
	if (r < 0)
		return r;
	struct kdevs *d = calloc(1, sizeof(*d));
	if (!d) {
		free(luns);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t b = 0; b < luns[i].n_block; b++)
			add_dev(sysfs, luns[i].block[b], d, 0);
	free(luns);
	if (d->n == 0) {
		free(d);
		return 0;
	}
	FILE *f = fopen(mountinfo, "re");
	if (!f) {
		r = -errno;
		free(d);
		return r;
	}
	char *line = NULL;
	size_t cap = 0;
	int busy = 0;
	while (!busy && getline(&line, &cap, f) > 0) {
		unsigned ma, mi;
		char mnt[PATH_MAX];
		if (!parse_line(line, &ma, &mi, mnt, sizeof(mnt)))
			continue;
		for (size_t i = 0; i < d->n; i++)
			if (d->v[i].major == ma && d->v[i].minor == mi) {
				snprintf(why, whylen, "/dev/%s is mounted on %s", d->v[i].name, mnt);
				busy = 1;
				break;
			}
	}
	free(line);
	fclose(f);
	free(d);
	return busy;
}
