/* loop.c - a small epoll event loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "loop.h"

#define LOOP_BATCH 256

struct loop {
	int epfd;
	struct epoll_event events[LOOP_BATCH];
};

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

void loop_free(struct loop *loop)
{
	if (loop == NULL)
		return;
	close(loop->epfd);
	free(loop);
}

int loop_add(struct loop *loop, struct loop_watch *w, int fd, unsigned mask,
	loop_cb cb, void *data)
{
	struct epoll_event ev = { .events = mask, .data.ptr = w };

	w->fd = fd;
	w->mask = mask;
	w->cb = cb;
	w->data = data;
	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -1;
}

int loop_mod(struct loop *loop, struct loop_watch *w, unsigned mask)
{
	struct epoll_event ev = { .events = mask, .data.ptr = w };

	if (w->mask == mask)
		return 0;
	w->mask = mask;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) == 0 ? 0 : -1;
}

void loop_del(struct loop *loop, struct loop_watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
	w->cb = NULL;
}

int loop_run_once(struct loop *loop, int timeout_ms)
{
	int n, i;

	n = epoll_wait(loop->epfd, loop->events, LOOP_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		struct loop_watch *w = loop->events[i].data.ptr;

		/* A watch deleted earlier in this turn has no callback. */
		if (w->cb != NULL)
			w->cb(loop, w->fd, w->data, loop->events[i].events);
	}
	return n;
}
