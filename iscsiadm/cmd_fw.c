/* -m fw: the iSCSI boot firmware tables (iBFT, /sys/firmware/ibft). */
#include <stdio.h>
#include <sys/stat.h>

#include "adm.h"
#include "errors.h"

int cmd_fw(struct adm *a)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/firmware/ibft", a->sysfs_root ? a->sysfs_root : "/sys");
	if (stat(path, &st) == 0) {
		adm_err("boot firmware (iBFT) targets are present, but firmware login is not supported yet");
		return ISCSI_ERR_OP_NOT_SUPP;
	}
	adm_err("Could not get list of targets from firmware. (err %d)", ISCSI_ERR_NO_OBJS_FOUND);
	return ISCSI_ERR_NO_OBJS_FOUND;
}
