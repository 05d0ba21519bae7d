/* Golden login transcript runner (tests/unit/login_golden.c). */
#ifndef TESTS_UNIT_LOGIN_GOLDEN_H
#define TESTS_UNIT_LOGIN_GOLDEN_H

/* Replays dir/name; a mismatch aborts the running Check test with
 * "name:line: what differs". */
void login_golden_run(const char *dir, const char *name);

#endif
