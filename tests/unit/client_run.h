/* For the unit tests that serve a real client: fn runs in a forked child
 * and prints what it got on out; the parent runs the loop (the daemon's
 * side) until the child exits or deadline_ms pass (then the test fails),
 * and returns what the child printed (a static buffer, up to 8 KiB). */
#ifndef CLIENT_RUN_H
#define CLIENT_RUN_H

#include <stdio.h>

struct loop;
typedef void (*client_fn)(FILE *out);

char *client_run(struct loop *l, client_fn fn, int deadline_ms);

#endif
