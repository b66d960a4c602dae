/* listen.h - the daemon's listening sockets: TCP addresses, Unix socket files and the one rule for a stale one. */
#ifndef FP_LISTEN_H
#define FP_LISTEN_H

#include <sys/socket.h>
#include <sys/types.h>

/* A Unix socket we bound. Its file is removed at the end only while it
 * is still the one we made: a daemon started after us may own the path
 * by then. */
struct listen_unix {
	int fd;                    /* -1: none */
	const char *path;          /* borrowed; NULL when none or removed */
	dev_t dev;
	ino_t ino;
};

/* listen_unix_path gives the socket path of a listen address of the form
 * unix:PATH (borrowed from spec), or NULL for a TCP address. */
const char *listen_unix_path(const char *spec);

/*
 * listen_tcp_addr fills sa with host (NULL or "": 127.0.0.1) and port.
 * Returns the address length with *v6 set for IPv6, or 0 when host is not
 * a numeric IPv4 or IPv6 address.
 */
socklen_t listen_tcp_addr(const char *host, long port,
	struct sockaddr_storage *sa, int *v6);

/*
 * listen_unix_open makes way at path with the one rule for a socket file
 * in the way: a socket nothing answers on (left by a daemon that was
 * killed) is removed; a socket someone listens on, or a file of another
 * kind, is left alone and the call fails. It then binds a non-blocking
 * socket of type (SOCK_STREAM, SOCK_DGRAM) there, with the file mode
 * that mask leaves of 0777, and for SOCK_STREAM listens with backlog; what
 * names the setting in log lines. On success lu holds the descriptor and
 * the file (path is borrowed) and 0 is returned; -1 (logged) otherwise,
 * with lu->fd -1.
 */
int listen_unix_open(struct listen_unix *lu, const char *path, int type,
	mode_t mask, int backlog, const char *what);

/* listen_unix_unlink removes lu's socket file if it is still ours;
 * afterwards lu->path is NULL. The descriptor is left alone. */
void listen_unix_unlink(struct listen_unix *lu);

#endif
