/* listen.c - the daemon's listening sockets: TCP addresses, Unix socket files and the one rule for a stale one. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "listen.h"
#include "log.h"

const char *listen_unix_path(const char *spec)
{
	if (spec == NULL || strncmp(spec, "unix:", 5) != 0)
		return NULL;
	return spec + 5;
}

socklen_t listen_tcp_addr(const char *host, long port,
	struct sockaddr_storage *sa, int *v6)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	*v6 = 0;
	if (host == NULL || host[0] == '\0')
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*v6 = 1;
		return sizeof(*s6);
	}
	return 0;
}

/* unix_addr fills sa with path. Returns 0, or -1 (logged) when the path
 * does not fit. */
static int unix_addr(struct sockaddr_un *sa, const char *path,
	const char *what)
{
	size_t len = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof(sa->sun_path)) {
		log_msg(LOG_ERROR, "%s: a socket path has 1 to %zu bytes, "
			"not %zu: %s", what, sizeof(sa->sun_path) - 1, len,
			path);
		return -1;
	}
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

/* answered is non-zero when connecting to sa found a live socket. A
 * listener with a full backlog answers EAGAIN, and one of another type
 * EPROTOTYPE: someone is there all the same. */
static int answered(int rc, int e)
{
	return rc == 0 || e == EAGAIN || e == EPROTOTYPE;
}

/* clear_stale applies the one rule for a socket file in the way (see
 * listen_unix_open), probing with a socket of the type we mean to bind.
 * Returns 0 when path may be bound, -1 (logged) when not. */
static int clear_stale(const char *path, int type, const char *what)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc, e, result = -1;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		log_msg(LOG_ERROR, "%s: cannot check %s: %s", what, path,
			strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_msg(LOG_ERROR, "%s: %s exists and is not a socket", what,
			path);
		return -1;
	}
	if (unix_addr(&sa, path, what))
		return -1;
	/* Non-blocking: a listener with a full backlog must not hang us. */
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_msg(LOG_ERROR, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	if (answered(rc, e)) {
		log_msg(LOG_ERROR, "%s: %s is in use by another process", what,
			path);
		goto out;
	}
	if (e != ECONNREFUSED && e != ENOENT) {
		log_msg(LOG_ERROR, "%s: cannot check %s: %s", what, path,
			strerror(e));
		goto out;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		log_msg(LOG_ERROR, "%s: cannot remove the stale socket %s: %s",
			what, path, strerror(errno));
		goto out;
	}
	log_msg(LOG_INFO, "removed the stale socket %s", path);
	result = 0;
out:
	close(fd);
	return result;
}

int listen_unix_open(struct listen_unix *lu, const char *path, int type,
	mode_t mask, int backlog, const char *what)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd = -1, rc, e;

	lu->fd = -1;
	lu->path = NULL;
	if (unix_addr(&sa, path, what) || clear_stale(path, type, what))
		return -1;
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	/* Born with its mode: nobody else may connect in between. We are
	 * one thread still, so the process-wide umask is ours to borrow. */
	old = umask(mask);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0)
		goto out;
	if (lstat(path, &st) != 0 ||
		(type == SOCK_STREAM && listen(fd, backlog) != 0)) {
		e = errno;
		unlink(path);
		errno = e;
		goto out;
	}
	lu->fd = fd;
	lu->path = path;
	lu->dev = st.st_dev;
	lu->ino = st.st_ino;
	return 0;
out:
	log_msg(LOG_ERROR, "%s: cannot listen on unix:%s: %s", what, path,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

void listen_unix_unlink(struct listen_unix *lu)
{
	struct stat st;

	if (lu->path == NULL)
		return;
	if (lstat(lu->path, &st) == 0 && st.st_dev == lu->dev &&
	    st.st_ino == lu->ino)
		unlink(lu->path);
	lu->path = NULL;
}
