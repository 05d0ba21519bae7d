/* Internal: filling the caller's (err, errlen) message buffer that many
 * libinitiator functions take. Not installed, not part of the API. */
#ifndef LIBINITIATOR_ERRBUF_H
#define LIBINITIATOR_ERRBUF_H

#include <stddef.h>

/* Formats into err (always NUL-terminated, truncated to errlen). A NULL err
 * or errlen 0 means the caller wants no message: nothing is written. */
void errbuf_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
