/* The `run` and `cleanup` commands of iscsi-uspace (run.c, main.c). */
#ifndef USPACE_RUN_H
#define USPACE_RUN_H

#include <stdbool.h>

struct usp_run_opts {
	int sid;
	const char *rundir;
	const char *iname;      /* NULL: iface.initiatorname of the record */
	int record_fd;          /* the node record, secrets included */
	int ready_fd;           /* one answer line, or -1 */
	bool no_loop;
};

/* Returns the exit code (errors.h). */
int usp_run(struct usp_run_opts *o);

#endif
