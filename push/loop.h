/* loop.h - a small epoll event loop: watches on file descriptors, one turn at a time. */
#ifndef FP_LOOP_H
#define FP_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop;

/* A callback gets the loop, the descriptor, its data and the epoll
 * events that fired (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP...). */
typedef void (*loop_cb)(struct loop *loop, int fd, void *data,
	unsigned events);

/* A watch lives inside the object it serves (no allocation per fd); it
 * must stay valid until the end of the turn in which it was deleted. */
struct loop_watch {
	int fd;
	unsigned mask;
	loop_cb cb;
	void *data;
};

/* loop_new creates a loop; NULL when epoll_create1 fails. */
struct loop *loop_new(void);

/* loop_free closes the epoll descriptor and frees the loop. */
void loop_free(struct loop *loop);

/* loop_add starts watching fd for mask with cb(data). Returns 0 or -1. */
int loop_add(struct loop *loop, struct loop_watch *w, int fd, unsigned mask,
	loop_cb cb, void *data);

/* loop_mod changes what w waits for; a no-op when it is unchanged. */
int loop_mod(struct loop *loop, struct loop_watch *w, unsigned mask);

/* loop_del stops watching w->fd (it does not close it). */
void loop_del(struct loop *loop, struct loop_watch *w);

/* loop_run_once waits up to timeout_ms (-1: forever) and runs the
 * callbacks of the descriptors that are ready. Returns how many ran, or
 * -1 on an error other than EINTR. */
int loop_run_once(struct loop *loop, int timeout_ms);

#endif
