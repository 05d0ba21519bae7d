/* Loop block devices on top of the LUN files, so that mkfs, mount and dd
 * work as on /dev/sdX. LOOP_CONFIGURE (Linux 5.8) in one step, with
 * direct I/O so that the loop device keeps no page cache of its own over
 * a file that has none either; LOOP_SET_FD and friends on older kernels.
 * The devices hold the file, not the process: after a crash they stay
 * until someone detaches them (rundir_cleanup does). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "usp.h"

static int configure(int lfd, int ffd, const char *path, uint32_t block_size)
{
	struct loop_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (uint32_t)ffd;
	cfg.block_size = block_size;
	cfg.info.lo_flags = LO_FLAGS_DIRECT_IO;
	snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", path);
	if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOTTY)
		return -errno;
	/* before 5.8 */
	if (ioctl(lfd, LOOP_SET_FD, ffd))
		return -errno;
	struct loop_info64 info;
	memset(&info, 0, sizeof(info));
	snprintf((char *)info.lo_file_name, sizeof(info.lo_file_name), "%s", path);
	if (ioctl(lfd, LOOP_SET_STATUS64, &info) || ioctl(lfd, LOOP_SET_BLOCK_SIZE, (unsigned long)block_size)) {
		int e = -errno;
		ioctl(lfd, LOOP_CLR_FD, 0);
		return e;
	}
	if (ioctl(lfd, LOOP_SET_DIRECT_IO, 1UL))
		usp_debug("%s: no direct I/O on the loop device (%m)", path);
	return 0;
}

int loop_attach(const char *path, uint32_t block_size, char *ret_dev, size_t len)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int r = -EBUSY;

	if (ctl < 0)
		return -errno;
	int ffd = open(path, O_RDWR | O_CLOEXEC | O_DIRECT);
	if (ffd < 0)
		ffd = open(path, O_RDWR | O_CLOEXEC);
	if (ffd < 0) {
		r = -errno;
		close(ctl);
		return r;
	}
	/* another process may take the free device first: try again */
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			r = -errno;
			break;
		}
		char dev[32];
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		int lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0) {
			r = -errno;
			if (r == -ENOENT)
				continue;
			break;
		}
		r = configure(lfd, ffd, path, block_size);
		close(lfd);
		if (r == 0) {
			snprintf(ret_dev, len, "%s", dev);
			break;
		}
		if (r != -EBUSY)
			break;
	}
	close(ffd);
	close(ctl);
	return r;
}

int loop_resize(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, LOOP_SET_CAPACITY, 0))
		r = -errno;
	close(fd);
	return r;
}

int loop_detach(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	/* still open elsewhere (mounted): the kernel detaches it when the
	 * last user closes it (autoclear) */
	if (ioctl(fd, LOOP_CLR_FD, 0) && errno != ENXIO) {
		r = -errno;
		if (r == -EBUSY) {
			struct loop_info64 info;
			if (ioctl(fd, LOOP_GET_STATUS64, &info) == 0) {
				info.lo_flags |= LO_FLAGS_AUTOCLEAR;
				if (ioctl(fd, LOOP_SET_STATUS64, &info) == 0)
					r = 0;
			}
		}
	}
	close(fd);
	return r;
}

int loop_detach_under(const char *dir)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	size_t dl = strlen(dir);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[PATH_MAX], file[PATH_MAX] = "";
		if (strncmp(de->d_name, "loop", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", de->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(file, sizeof(file), f))
			file[strcspn(file, "\n")] = '\0';
		fclose(f);
		if (strncmp(file, dir, dl) || (file[dl] != '/' && file[dl] != '\0'))
			continue;
		char dev[300];
		snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
		if (loop_detach(dev) == 0) {
			usp_info("detached %s (%s)", dev, file);
			n++;
		} else {
			usp_warn("cannot detach %s (%s): %m", dev, file);
		}
	}
	closedir(d);
	return n;
}
