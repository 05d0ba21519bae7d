/* iscsid/kmount.c (iscsid.safe_logout: is a disk of a session mounted?)
 * and kscan_devices() (do the session's disks have their /dev nodes?),
 * on a fake sysfs tree and a fake mountinfo. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fake_sysfs.h"
#include "ksession.h"

static char *sysfs;
static char *mountinfo;

static void setup(void)
{
	sysfs = fake_sysfs_new();
	mountinfo = NULL;
}

static void teardown(void)
{
	if (mountinfo) {
		unlink(mountinfo);
		free(mountinfo);
	}
	fake_sysfs_free(sysfs);
}

static char *write_mountinfo(const char *text)
{
	char path[] = "/tmp/ks-mountinfo-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return strdup(path);
}

START_TEST(test_mount_check)
{
	char why[256] = "";
	/* session 9 on host 2: sdb (8:16) with partition sdb1 (8:17), which
	 * holds dm-0 (253:0) */
	fake_add_host(sysfs, 2);
	fake_add_session(sysfs, 2, 9, "LOGGED_IN");
	fake_add_lun(sysfs, 2, 9, 0, "running\n", "sdb");
	fake_write(sysfs, "class/block/sdb/dev", "8:16\n");
	fake_write(sysfs, "class/block/sdb/sdb1/dev", "8:17\n");
	fake_write(sysfs, "class/block/sdb/sdb1/partition", "1\n");
	fake_write(sysfs, "devices/virtual/block/dm-0/dev", "253:0\n");
	fake_symlink(sysfs, "class/block/dm-0", "../../devices/virtual/block/dm-0");
	fake_symlink(sysfs, "class/block/sdb1", "sdb/sdb1");
	fake_symlink(sysfs, "class/block/sdb/sdb1/holders/dm-0", "../../../../../../../../devices/virtual/block/dm-0");

	const char *base = "22 1 0:21 / /proc rw - proc proc rw\n"
			   "30 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n";
	char text[1024];
	mountinfo = write_mountinfo(base);
	ck_assert_int_eq(kmount_session_busy(sysfs, mountinfo, 9, why, sizeof(why)), 0);
	unlink(mountinfo);
	free(mountinfo);

	snprintf(text, sizeof(text), "%s36 30 8:16 / /mnt/whole rw - ext4 /dev/sdb rw\n", base);
	mountinfo = write_mountinfo(text);
	ck_assert_int_eq(kmount_session_busy(sysfs, mountinfo, 9, why, sizeof(why)), 1);
	ck_assert_str_eq(why, "/dev/sdb is mounted on /mnt/whole");
	unlink(mountinfo);
	free(mountinfo);

	snprintf(text, sizeof(text), "%s37 30 8:17 / /mnt/part rw - ext4 /dev/sdb1 rw\n", base);
	mountinfo = write_mountinfo(text);
	ck_assert_int_eq(kmount_session_busy(sysfs, mountinfo, 9, why, sizeof(why)), 1);
	ck_assert_str_eq(why, "/dev/sdb1 is mounted on /mnt/part");
	unlink(mountinfo);
	free(mountinfo);

	snprintf(text, sizeof(text), "%s38 30 253:0 / /srv rw - xfs /dev/mapper/vg-lv rw\n", base);
	mountinfo = write_mountinfo(text);
	ck_assert_int_eq(kmount_session_busy(sysfs, mountinfo, 9, why, sizeof(why)), 1);
	ck_assert_str_eq(why, "/dev/dm-0 is mounted on /srv");
	/* a garbage line is skipped, not fatal */
	unlink(mountinfo);
	free(mountinfo);
	mountinfo = write_mountinfo("garbage\n99 1 x:y / /z rw - a b c\n");
	ck_assert_int_eq(kmount_session_busy(sysfs, mountinfo, 9, why, sizeof(why)), 0);
}
END_TEST

START_TEST(test_devices)
{
	char **names = NULL;
	size_t n = 0;
	char why[PATH_MAX + 64];
	fake_add_host(sysfs, 4);
	fake_add_session(sysfs, 4, 11, "LOGGED_IN");
	fake_add_lun(sysfs, 4, 11, 0, "running\n", "sdd");
	fake_add_lun(sysfs, 4, 11, 1, "running\n", NULL);
	/* sdd has no device node yet */
	ck_assert_int_eq(kscan_devices(sysfs, sysfs, 11, &names, &n, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(why, "/sdd does not exist yet"));
	char node[PATH_MAX];
	snprintf(node, sizeof(node), "%s/sdd", sysfs);
	if (mknod(node, S_IFBLK | 0600, makedev(8, 48)) < 0)
		return;                   /* not allowed to make device nodes here */
	/* LUN 1 not probed yet */
	ck_assert_int_eq(kscan_devices(sysfs, sysfs, 11, &names, &n, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "LUN 4:0:0:1 has no block device yet");
	/* LUN 1 is a CD-ROM: not a disk to wait for */
	fake_write(sysfs, "bus/scsi/devices/4:0:0:1/type", "5\n");
	ck_assert_int_eq(kscan_devices(sysfs, sysfs, 11, &names, &n, why, sizeof(why)), 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "sdd");
	kscan_names_free(names, n);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kmount");
	TCase *tc = tcase_create("kmount");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mount_check);
	tcase_add_test(tc, test_devices);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
