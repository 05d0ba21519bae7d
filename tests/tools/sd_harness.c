/* Stands in for systemd in tests: creates a listening UNIX socket and
 * passes it to a program as fd 3 (LISTEN_FDS=1, LISTEN_PID), and/or
 * receives its sd_notify() datagrams and appends each to a log file, one
 * message per line group followed by "--". Forwards SIGTERM, SIGINT and
 * SIGHUP to the program and exits with its status (128+N for signal N).
 *
 *   sd_harness [--listen PATH] [--notify LOG [--abstract]] -- PROGRAM [ARGS]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int unix_socket(int type, const char *path, int abstract)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (n + 1 >= sizeof(sa.sun_path))
		return -1;
	socklen_t len;
	if (abstract) {
		memcpy(sa.sun_path + 1, path, n);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	} else {
		/* bound under a temporary name and renamed once it listens:
		 * a client that sees the path never meets the window between
		 * bind() and listen() (ECONNREFUSED on a loaded machine) */
		if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%ld", path, (long)getpid()) >=
		    (int)sizeof(sa.sun_path))
			return -1;
		unlink(sa.sun_path);
		len = sizeof(sa);
	}
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0)
		return -1;
	if (type == SOCK_STREAM && listen(fd, 128) < 0)
		return -1;
	if (!abstract && rename(sa.sun_path, path) < 0)
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	const char *listen_path = NULL, *notify_log = NULL;
	int abstract = 0, i;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			listen_path = argv[++i];
		else if (!strcmp(argv[i], "--notify") && i + 1 < argc)
			notify_log = argv[++i];
		else if (!strcmp(argv[i], "--abstract"))
			abstract = 1;
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: sd_harness [--listen PATH] [--notify LOG [--abstract]] -- PROG [ARGS]\n");
		return 2;
	}

	int lfd = -1, nfd = -1;
	char nname[108];
	if (listen_path && (lfd = unix_socket(SOCK_STREAM, listen_path, 0)) < 0) {
		perror("sd_harness: listen socket");
		return 2;
	}
	if (notify_log) {
		snprintf(nname, sizeof(nname), "%s%s.sock", abstract ? "sd_harness_" : "", notify_log);
		if (abstract)
			snprintf(nname, sizeof(nname), "sd_harness_%ld", (long)getpid());
		nfd = unix_socket(SOCK_DGRAM, nname, abstract);
		if (nfd < 0) {
			perror("sd_harness: notify socket");
			return 2;
		}
		char env[120];
		snprintf(env, sizeof(env), "%s%s", abstract ? "@" : "", nname);
		setenv("NOTIFY_SOCKET", env, 1);
	}

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		if (lfd >= 0) {
			/* dup2 clears close-on-exec on the copy; fd 3 itself
			 * needs it cleared by hand */
			if (lfd != 3 && dup2(lfd, 3) < 0)
				_exit(2);
			if (lfd == 3 && fcntl(3, F_SETFD, 0) < 0)
				_exit(2);
			char v[32];
			snprintf(v, sizeof(v), "%ld", (long)getpid());
			setenv("LISTEN_PID", v, 1);
			setenv("LISTEN_FDS", "1", 1);
		}
		execvp(argv[i], argv + i);
		perror("sd_harness: exec");
		_exit(127);
	}
	if (lfd >= 0)
		close(lfd);

	FILE *log = notify_log ? fopen(notify_log, "ae") : NULL;
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = nfd, .events = POLLIN } };
		if (poll(p, nfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return 2;
		if (nfd >= 0 && (p[1].revents & POLLIN)) {
			char buf[4096];
			ssize_t n = recv(nfd, buf, sizeof(buf) - 1, 0);
			if (n > 0 && log) {
				buf[n] = '\0';
				fprintf(log, "%s\n--\n", buf);
				fflush(log);
			}
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo != SIGCHLD) {
				kill(pid, (int)si.ssi_signo);
				continue;
			}
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				/* collect what it sent just before exiting */
				char buf[4096];
				ssize_t n;
				while (nfd >= 0 && (n = recv(nfd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0 && log) {
					buf[n] = '\0';
					fprintf(log, "%s\n--\n", buf);
				}
				if (log)
					fclose(log);
				if (notify_log && !abstract)
					unlink(nname);
				return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			}
		}
	}
}
