/* Logging of the session process: stderr, or syslog when detached (its
 * stderr then goes nowhere). Never log secrets. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "usp.h"

static bool use_syslog;
static int debug_level;

void usp_log_init(bool to_syslog, int debug)
{
	use_syslog = to_syslog;
	debug_level = debug;
	if (use_syslog)
		openlog("iscsi-uspace", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int usp_log_debug_level(void)
{
	return debug_level;
}

static void vlog(int prio, const char *tag, const char *fmt, va_list ap)
{
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
		return;
	}
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "iscsi-uspace[%d]: %s%s\n", (int)getpid(), tag, line);
}

#define DEFINE_LOG(fn, prio, tag, cond)                \
	void fn(const char *fmt, ...)                  \
	{                                              \
		va_list ap;                            \
		if (!(cond))                           \
			return;                        \
		va_start(ap, fmt);                     \
		vlog(prio, tag, fmt, ap);              \
		va_end(ap);                            \
	}

DEFINE_LOG(usp_err, LOG_ERR, "error: ", true)
DEFINE_LOG(usp_warn, LOG_WARNING, "warning: ", true)
DEFINE_LOG(usp_info, LOG_INFO, "", true)
DEFINE_LOG(usp_debug, LOG_DEBUG, "debug: ", debug_level > 0)
