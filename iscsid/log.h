/* Daemon logging: stderr when in the foreground, syslog otherwise.
 * log_warn() appends strerror(errno); log_warnx() does not. Debug lines
 * print only at or below the level set with -d. Never log secrets. */
#ifndef ISCSID_LOG_H
#define ISCSID_LOG_H

#include <stdbool.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

void log_init(bool to_stderr, int debug_level);
int log_debug_level(void);
/* Whether the log goes to stderr (foreground) rather than syslog. */
bool log_to_stderr(void);

void log_err(const char *fmt, ...) LOG_FMT(1, 2);   /* with errno text */
void log_errx(const char *fmt, ...) LOG_FMT(1, 2);
void log_warn(const char *fmt, ...) LOG_FMT(1, 2);  /* with errno text */
void log_warnx(const char *fmt, ...) LOG_FMT(1, 2);
void log_info(const char *fmt, ...) LOG_FMT(1, 2);
void log_debug(int level, const char *fmt, ...) LOG_FMT(2, 3);

#endif
