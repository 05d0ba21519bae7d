/* The unit tests' wait for a condition on iscsid's event loop. */
#ifndef TESTS_UNIT_LOOP_WAIT_H
#define TESTS_UNIT_LOOP_WAIT_H

#include <stdbool.h>

#include "loop.h"

/* Runs l until c() holds (true) or ms pass (false), asking c every
 * poll_ms. */
bool loop_run_until(struct loop *l, bool (*c)(void), unsigned poll_ms, unsigned ms);

#endif
