/* The two pieces of the systemd protocol iscsid uses, implemented here
 * rather than linking libsystemd: readiness notification (sd_notify(3):
 * one datagram of "KEY=value" lines to $NOTIFY_SOCKET) and socket
 * activation (sd_listen_fds(3): LISTEN_PID/LISTEN_FDS, fds from 3). */
#ifndef ISCSID_SDNOTIFY_H
#define ISCSID_SDNOTIFY_H

#define SDNOTIFY_LISTEN_FDS_START 3

/* Sends state (e.g. "READY=1\nSTATUS=Ready") to $NOTIFY_SOCKET. 0 when
 * sent or when $NOTIFY_SOCKET is unset; negative errno otherwise. A
 * value starting with '@' is an abstract socket name. */
int sdnotify_send(const char *state);

/* Socket activation. When LISTEN_PID is our pid and LISTEN_FDS >= 1:
 * checks that fd 3 is a listening AF_UNIX stream socket, makes it
 * non-blocking and close-on-exec, stores it in *ret_fd and returns 1.
 * Further passed descriptors are closed. Returns 0 when the process was
 * not socket-activated (*ret_fd untouched), -ENOTSOCK / -EINVAL when fd 3
 * is not what iscsid can serve on. Always unsets the LISTEN_* variables
 * so children do not inherit them. */
int sdnotify_listen_fd(int *ret_fd);

#endif
