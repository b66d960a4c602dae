/* log.c - leveled logging to stderr or a file, one write() per line. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_threshold = LOG_INFO;
static int log_fd = -1;             /* -1: stderr */
static char log_prog[64] = "flowpush";

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const level_tags[] = { "ERROR", "WARN", "INFO", "DEBUG" };

int log_level_parse(const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i <= LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

int log_setup(const char *progname, const char *level, const char *path)
{
	int result = 0;
	int lv = log_level_parse(level);
	int fd = -1, old;

	if (path != NULL && path[0] != '\0') {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			0640);
		if (fd < 0)
			result = -1;
	}
	pthread_mutex_lock(&log_lock);
	if (progname != NULL) {
		const char *slash = strrchr(progname, '/');

		snprintf(log_prog, sizeof(log_prog), "%s",
			slash ? slash + 1 : progname);
	}
	if (lv >= 0)
		log_threshold = lv;
	else if (level != NULL)
		result = -1;
	/* A file that cannot be opened keeps the old destination so a bad
	 * SIGHUP reopen does not silence the daemon. */
	old = log_fd;
	if (path == NULL || path[0] == '\0')
		log_fd = -1;
	else if (fd >= 0)
		log_fd = fd;
	if (old >= 0 && old != log_fd)
		close(old);
	pthread_mutex_unlock(&log_lock);
	return result;
}

int log_enabled(enum log_level level)
{
	int t;

	pthread_mutex_lock(&log_lock);
	t = log_threshold;
	pthread_mutex_unlock(&log_lock);
	return (int)level <= t;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048], ts[UTIL_TS_LEN];
	va_list ap;
	int n, m, fd;
	size_t len, off;

	if ((int)level < LOG_ERROR || level > LOG_DEBUG)
		level = LOG_ERROR;
	if (!log_enabled(level))
		return;
	util_ts_now(ts);
	pthread_mutex_lock(&log_lock);
	n = snprintf(line, sizeof(line), "%s %s[%ld] %s ", ts, log_prog,
		(long)getpid(), level_tags[level]);
	fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	len = (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	/* Messages are single lines: fold embedded newlines. */
	for (off = (size_t)n; off < len; off++)
		if (line[off] == '\n' || line[off] == '\r')
			line[off] = ' ';
	line[len++] = '\n';
	/* One write per line keeps lines whole between processes that share
	 * an O_APPEND file. */
	off = 0;
	while (off < len) {
		ssize_t w = write(fd, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	pthread_mutex_unlock(&log_lock);
}
