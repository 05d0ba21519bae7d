/* iscsi-uspace control protocol: codec, requests, the run directory.
 * Replies come from a local root process, but are parsed as carefully as
 * anything else: bounded, every number checked. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "uspace_ctl.h"

static bool word_ok(const char *w, size_t max)
{
	size_t n = 0;
	for (; w[n]; n++)
		if (!islower((unsigned char)w[n]) && !isdigit((unsigned char)w[n]) && w[n] != '_' && w[n] != '-')
			return false;
	return n > 0 && n < max;
}

int uspace_ctl_format_request(char *buf, size_t len, const char *verb, const char *arg)
{
	if (!verb || !word_ok(verb, 32) || (arg && *arg && !word_ok(arg, 64)))
		return -EINVAL;
	int n = snprintf(buf, len, "%s %s%s%s\n", USPACE_CTL_MAGIC, verb, arg && *arg ? " " : "", arg ? arg : "");
	if (n < 0 || (size_t)n >= len)
		return -ENOBUFS;
	return n;
}

int uspace_ctl_parse_request(const char *buf, size_t len, char *verb, size_t verb_len, char *arg, size_t arg_len)
{
	char line[160];
	const size_t ml = sizeof(USPACE_CTL_MAGIC) - 1;

	if (len < ml + 3 || len >= sizeof(line) || buf[len - 1] != '\n' || memchr(buf, '\0', len))
		return -EPROTO;
	memcpy(line, buf, len - 1);
	line[len - 1] = '\0';
	if (strncmp(line, USPACE_CTL_MAGIC, ml) || line[ml] != ' ')
		return -EPROTO;
	char *v = line + ml + 1, *a = strchr(v, ' ');
	if (a)
		*a++ = '\0';
	if (!word_ok(v, verb_len) || (a && !word_ok(a, arg_len)))
		return -EPROTO;
	snprintf(verb, verb_len, "%s", v);
	snprintf(arg, arg_len, "%s", a ? a : "");
	return 0;
}

int uspace_ctl_parse_reply(const char *buf, size_t len, struct uspace_reply *ret)
{
	const size_t ml = sizeof(USPACE_CTL_MAGIC) - 1;
	const char *nl;

	if (len < ml + 3 || len > USPACE_CTL_REPLY_MAX || memchr(buf, '\0', len) ||
	    strncmp(buf, USPACE_CTL_MAGIC, ml) || buf[ml] != ' ' || !(nl = memchr(buf, '\n', len)))
		return -EPROTO;
	const char *p = buf + ml + 1;
	if (!isdigit((unsigned char)*p))
		return -EPROTO;
	long code = 0;
	while (p < nl && isdigit((unsigned char)*p)) {
		code = code * 10 + (*p++ - '0');
		if (code > 255)
			return -EPROTO;
	}
	if (p < nl && *p++ != ' ')
		return -EPROTO;
	size_t tl = (size_t)(nl - p);
	if (tl >= sizeof(ret->text))
		tl = sizeof(ret->text) - 1;
	char *body = malloc(len - (size_t)(nl + 1 - buf) + 1);
	if (!body)
		return -ENOMEM;
	memcpy(body, nl + 1, len - (size_t)(nl + 1 - buf));
	body[len - (size_t)(nl + 1 - buf)] = '\0';
	ret->code = (int)code;
	memcpy(ret->text, p, tl);
	ret->text[tl] = '\0';
	ret->body = body;
	return 0;
}

void uspace_reply_free(struct uspace_reply *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
}

/* Next "key value" line of a body: key and value point into line. */
static const char *next_line(const char *p, char *line, size_t size, char **ret_key, char **ret_value)
{
	const char *nl = strchr(p, '\n');
	size_t n = nl ? (size_t)(nl - p) : strlen(p);
	if (!*p)
		return NULL;
	if (n >= size)
		n = size - 1;
	memcpy(line, p, n);
	line[n] = '\0';
	char *sp = strchr(line, ' ');
	*ret_key = line;
	*ret_value = sp ? sp + 1 : line + n;
	if (sp)
		*sp = '\0';
	return nl ? nl + 1 : p + strlen(p);
}

static int parse_num(const char *s, long long min, long long max, long long *ret)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EPROTO;
	*ret = v;
	return 0;
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

/* "lun <n> size=<bytes> block_size=<b> file=<path> loop=<dev|->" */
static int parse_lun(char *v, struct uspace_lun *l)
{
	char *save = NULL, *tok;
	long long n;
	unsigned seen = 0;

	memset(l, 0, sizeof(*l));
	tok = strtok_r(v, " ", &save);
	if (!tok || parse_num(tok, 0, 0xffffffffLL, &n))
		return -EPROTO;
	l->lun = (uint64_t)n;
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return -EPROTO;
		*eq++ = '\0';
		if (!strcmp(tok, "size")) {
			if (parse_num(eq, 0, INT64_MAX, &n))
				return -EPROTO;
			l->size = (uint64_t)n;
			seen |= 1;
		} else if (!strcmp(tok, "block_size")) {
			if (parse_num(eq, 512, 65536, &n))
				return -EPROTO;
			l->block_size = (uint32_t)n;
			seen |= 2;
		} else if (!strcmp(tok, "file")) {
			copy(l->file, sizeof(l->file), eq);
		} else if (!strcmp(tok, "loop")) {
			copy(l->loop, sizeof(l->loop), strcmp(eq, "-") ? eq : "");
		}
	}
	return seen == 3 ? 0 : -EPROTO;
}

int uspace_status_parse(const char *body, struct uspace_status *ret)
{
	struct uspace_status s;
	char line[PATH_MAX + 128], *k, *v;
	const char *p = body;
	long long n;
	int r = 0;

	memset(&s, 0, sizeof(s));
	s.tpgt = -1;
	while (!r && (p = next_line(p, line, sizeof(line), &k, &v))) {
		if (!strcmp(k, "sid"))
			r = parse_num(v, 1, USPACE_SID_MAX, &n), s.sid = (int)n;
		else if (!strcmp(k, "pid"))
			r = parse_num(v, 1, INT32_MAX, &n), s.pid = (pid_t)n;
		else if (!strcmp(k, "tpgt"))
			r = parse_num(v, -1, 65535, &n), s.tpgt = (int)n;
		else if (!strcmp(k, "state"))
			copy(s.state, sizeof(s.state), v);
		else if (!strcmp(k, "target"))
			copy(s.target, sizeof(s.target), v);
		else if (!strcmp(k, "portal"))
			copy(s.portal, sizeof(s.portal), v);
		else if (!strcmp(k, "persistent_portal"))
			copy(s.persistent_portal, sizeof(s.persistent_portal), v);
		else if (!strcmp(k, "iface"))
			copy(s.iface, sizeof(s.iface), v);
		else if (!strcmp(k, "initiator"))
			copy(s.initiator, sizeof(s.initiator), v);
		else if (!strcmp(k, "mount"))
			copy(s.mount, sizeof(s.mount), v);
		else if (!strcmp(k, "last_error"))
			copy(s.last_error, sizeof(s.last_error), v);
		else if (!strcmp(k, "param") && s.nparams < USPACE_PARAMS_MAX)
			copy(s.params[s.nparams++], sizeof(s.params[0]), v);
		else if (!strcmp(k, "lun")) {
			if (s.nluns >= 4096) {
				r = -EPROTO;
				break;
			}
			struct uspace_lun *nl = realloc(s.luns, (s.nluns + 1) * sizeof(*nl));
			if (!nl) {
				r = -ENOMEM;
				break;
			}
			s.luns = nl;
			r = parse_lun(v, &s.luns[s.nluns]);
			if (!r)
				s.nluns++;
		}
	}
	if (!r && (!s.sid || !s.state[0]))
		r = -EPROTO;
	if (r) {
		free(s.luns);
		return r;
	}
	*ret = s;
	return 0;
}

const char *uspace_lun_device(const struct uspace_lun *l)
{
	if (!l->loop[0])
		return l->file;
	return strncmp(l->loop, "/dev/", 5) ? l->loop : l->loop + 5;
}

void uspace_status_free(struct uspace_status *s)
{
	if (!s)
		return;
	free(s->luns);
	s->luns = NULL;
	s->nluns = 0;
}

int uspace_body_u64(const char *body, const char *key, uint64_t *ret)
{
	char line[512], *k, *v;
	const char *p = body;
	while ((p = next_line(p, line, sizeof(line), &k, &v))) {
		if (strcmp(k, key))
			continue;
		char *end;
		errno = 0;
		unsigned long long x = strtoull(v, &end, 10);
		if (errno || end == v || *end || *v == '-')
			return -EPROTO;
		*ret = x;
		return 0;
	}
	return -ENOENT;
}

int uspace_body_str(const char *body, const char *key, char *buf, size_t len)
{
	char line[512], *k, *v;
	const char *p = body;
	while ((p = next_line(p, line, sizeof(line), &k, &v)))
		if (!strcmp(k, key)) {
			snprintf(buf, len, "%s", v);
			return 0;
		}
	return -ENOENT;
}

/* --- requests --- */

const char *uspace_rundir(const char *rundir)
{
	if (rundir && *rundir)
		return rundir;
	const char *env = secure_getenv(USPACE_RUNDIR_ENV);
	return env && *env == '/' ? env : USPACE_RUNDIR_DEFAULT;
}

int uspace_rundir_for_root(const char *root, char *buf, size_t len)
{
	const char *env = secure_getenv(USPACE_RUNDIR_ENV);
	int n;
	if (env && *env == '/')
		n = snprintf(buf, len, "%s", env);
	else if (root && *root)
		n = snprintf(buf, len, "%s/uspace", root);
	else
		n = snprintf(buf, len, "%s", USPACE_RUNDIR_DEFAULT);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int uspace_ctl_path(const char *rundir, int sid, char *buf, size_t len)
{
	if (sid < 1)
		return -EINVAL;
	int n = snprintf(buf, len, "%s/%d/ctl", uspace_rundir(rundir), sid);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

struct uspace_call {
	int fd;
};

int uspace_call_begin(const char *rundir, int sid, const char *verb, const char *arg, struct uspace_call **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[USPACE_CTL_REQ_MAX];
	int n, r, fd;

	if ((r = uspace_ctl_path(rundir, sid, sa.sun_path, sizeof(sa.sun_path))) < 0)
		return r;
	if ((n = uspace_ctl_format_request(req, sizeof(req), verb, arg)) < 0)
		return n;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		r = -errno;
		close(fd);
		return r;
	}
	struct uspace_call *c = malloc(sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	*ret = c;
	return 0;
}

int uspace_call_fd(const struct uspace_call *c)
{
	return c->fd;
}

int uspace_call_step(struct uspace_call *c, struct uspace_reply *ret)
{
	char *buf = malloc(USPACE_CTL_REPLY_MAX + 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = recv(c->fd, buf, USPACE_CTL_REPLY_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
	int r;
	if (n < 0)
		r = errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	else if (n == 0)
		r = -ECONNRESET;
	else if (n > USPACE_CTL_REPLY_MAX)
		r = -EMSGSIZE;
	else
		r = uspace_ctl_parse_reply(buf, (size_t)n, ret);
	free(buf);
	return r;
}

void uspace_call_free(struct uspace_call *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int uspace_call(const char *rundir, int sid, const char *verb, const char *arg, int timeout_ms,
		struct uspace_reply *ret)
{
	struct uspace_call *c;
	int r = uspace_call_begin(rundir, sid, verb, arg, &c);
	int64_t end = mono_ms() + timeout_ms;

	if (r < 0)
		return r;
	while ((r = uspace_call_step(c, ret)) == -EAGAIN) {
		int64_t left = end - mono_ms();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
	}
	uspace_call_free(c);
	return r;
}

/* --- the run directory --- */

static int read_small(const char *path, char *buf, size_t len, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == len) {
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	*ret_len = got;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct uspace_entry *x = a, *y = b;
	return (x->sid > y->sid) - (x->sid < y->sid);
}

int uspace_list(const char *rundir, struct uspace_entry **ret_list, size_t *ret_n)
{
	const char *dir = uspace_rundir(rundir);
	DIR *d = opendir(dir);
	struct dirent *de;
	struct uspace_entry *v = NULL;
	size_t n = 0;

	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*ret_list = NULL;
		*ret_n = 0;
		return 0;
	}
	while ((de = readdir(d))) {
		long long sid;
		char p[PATH_MAX], buf[32];
		size_t len;
		if (parse_num(de->d_name, 1, USPACE_SID_MAX, &sid) || de->d_name[0] == '0')
			continue;
		struct uspace_entry e = { .sid = (int)sid };
		snprintf(p, sizeof(p), "%s/%s/lock", dir, de->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			/* the process holds a write lock for its whole life;
			 * F_OFD_GETLK only looks */
			struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
			if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
				e.alive = true;
			close(fd);
		}
		snprintf(p, sizeof(p), "%s/%s/pid", dir, de->d_name);
		if (read_small(p, buf, sizeof(buf) - 1, &len) == 0) {
			long long pid;
			buf[len] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (!parse_num(buf, 1, INT32_MAX, &pid))
				e.pid = (pid_t)pid;
		}
		if (n % 16 == 0) {
			struct uspace_entry *nv = realloc(v, (n + 16) * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = e;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	*ret_list = v;
	*ret_n = n;
	return 0;
}

int uspace_read_record(const char *rundir, int sid, char **ret_text, size_t *ret_len)
{
	char p[PATH_MAX];
	size_t len;

	if (sid < 1)
		return -EINVAL;
	snprintf(p, sizeof(p), "%s/%d/record", uspace_rundir(rundir), sid);
	char *buf = malloc(256 * 1024 + 1);
	if (!buf)
		return -ENOMEM;
	int r = read_small(p, buf, 256 * 1024, &len);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret_text = buf;
	*ret_len = len;
	return 0;
}
