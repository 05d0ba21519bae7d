/* Logging for iscsid (see log.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

/* The one piece of process-wide state the daemon keeps outside its
 * context struct: logging is needed before that struct exists. */
static bool log_stderr = true;
static int log_level;

void log_init(bool to_stderr, int debug_level)
{
	log_stderr = to_stderr;
	log_level = debug_level;
	if (!to_stderr)
		openlog("iscsid", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_debug_level(void)
{
	return log_level;
}

bool log_to_stderr(void)
{
	return log_stderr;
}

LOG_FMT(3, 0)
static void log_vemit(int prio, int errnum, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_stderr) {
		static const char *const tag[] = {
			[LOG_ERR] = "error: ", [LOG_WARNING] = "warning: ",
			[LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
		};
		if (errnum)
			fprintf(stderr, "iscsid: %s%s: %s\n", tag[prio], msg, strerror(errnum));
		else
			fprintf(stderr, "iscsid: %s%s\n", tag[prio], msg);
		return;
	}
	if (errnum)
		syslog(prio, "%s: %s", msg, strerror(errnum));
	else
		syslog(prio, "%s", msg);
}

#define EMIT(prio, with_errno)                                  \
	do {                                                    \
		int e_ = (with_errno) ? errno : 0;              \
		va_list ap;                                     \
		va_start(ap, fmt);                              \
		log_vemit(prio, e_, fmt, ap);                   \
		va_end(ap);                                     \
		errno = e_ ? e_ : errno;                        \
	} while (0)

void log_err(const char *fmt, ...) { EMIT(LOG_ERR, 1); }
void log_errx(const char *fmt, ...) { EMIT(LOG_ERR, 0); }
void log_warn(const char *fmt, ...) { EMIT(LOG_WARNING, 1); }
void log_warnx(const char *fmt, ...) { EMIT(LOG_WARNING, 0); }
void log_info(const char *fmt, ...) { EMIT(LOG_INFO, 0); }

void log_debug(int level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	EMIT(LOG_DEBUG, 0);
}
