/* conn.c - one subscriber connection whatever its transport: the outbound queue, its writer, the dirty and free-later lists. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "conn.h"
#include "log.h"
#include "util.h"
#include "ws.h"

#define CONN_IOV_MAX 64

void conn_set_init(struct conn_set *set, struct loop *loop, size_t cap)
{
	memset(set, 0, sizeof(*set));
	set->loop = loop;
	set->outbound_cap = cap;
}

void conn_set_release(struct conn_set *set)
{
	struct conn *c;

	conn_free_deferred(set);
	while (set->all != NULL) {
		c = set->all;
		conn_unlink(c);
		conn_free(c);
	}
}

size_t conn_set_count(const struct conn_set *set)
{
	size_t i, n = 0;

	for (i = 0; i < CONN_KINDS; i++)
		n += set->n[i];
	return n;
}

void conn_init(struct conn *c, struct conn_set *set,
	const struct conn_ops *ops)
{
	c->ops = ops;
	c->set = set;
	c->state = CONN_OPEN;
	c->fd = -1;
	c->w.fd = -1;
}

void conn_release(struct conn *c)
{
	size_t i;

	for (i = 0; i < c->qn; i++)
		event_buf_unref(c->q[(c->qhead + i) % c->qcap]);
	free(c->q);
	c->q = NULL;
	c->qn = 0;
	topic_list_release(&c->sub.topics);
}

void conn_free(struct conn *c)
{
	struct conn **pp;

	if (c == NULL)
		return;
	/* A connection that never got linked may still have been marked
	 * (its first line queued): the dirty list must not keep it. */
	if (c->dirty) {
		for (pp = &c->set->dirty; *pp != NULL; pp = &(*pp)->dnext) {
			if (*pp == c) {
				*pp = c->dnext;
				break;
			}
		}
	}
	c->ops->free(c);
}

void conn_link(struct conn *c)
{
	struct conn_set *set = c->set;

	c->next = set->all;
	if (set->all != NULL)
		set->all->prev = c;
	set->all = c;
	set->n[c->ops->kind]++;
}

void conn_unlink(struct conn *c)
{
	struct conn_set *set = c->set;
	struct conn **pp;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (set->all == c)
		set->all = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->dirty) {
		for (pp = &set->dirty; *pp != NULL; pp = &(*pp)->dnext) {
			if (*pp == c) {
				*pp = c->dnext;
				break;
			}
		}
	}
	set->n[c->ops->kind]--;
	if (c->qn > 0)
		set->n_backlogged--;
	c->prev = c->next = NULL;
	c->dirty = 0;
	c->stall_since = 0;
	conn_discard(c, 0);
}

/* queue_push appends b to c's queue, growing it as needed. */
static int queue_push(struct conn *c, struct pbuf *b)
{
	if (c->qn == c->qcap) {
		size_t cap = c->qcap ? c->qcap * 2 : 8, i;
		struct pbuf **q = malloc(cap * sizeof(*q));

		if (q == NULL)
			return -1;
		for (i = 0; i < c->qn; i++)
			q[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = q;
		c->qcap = cap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qn) % c->qcap] = event_buf_ref(b);
	if (c->qn == 0) {
		c->stall_since = util_mono_ms();
		c->set->n_backlogged++;
	}
	c->qn++;
	c->qbytes += b->len;
	return 0;
}

void conn_mark_dirty(struct conn *c)
{
	if (c->dirty || c->state == CONN_DEAD)
		return;
	c->dirty = 1;
	c->dnext = c->set->dirty;
	c->set->dirty = c;
}

int conn_enqueue(struct conn *c, struct pbuf *b)
{
	if (c->state != CONN_OPEN)
		return -1;
	/* One event larger than the cap still goes to an idle connection;
	 * otherwise a single big record would cut every subscriber off. */
	if (c->qn > 0 && c->qbytes + b->len > c->set->outbound_cap) {
		conn_drop(c, WS_CLOSE_POLICY, "outbound queue full");
		return -1;
	}
	if (queue_push(c, b)) {
		conn_drop(c, WS_CLOSE_INTERNAL, "out of memory");
		return -1;
	}
	conn_mark_dirty(c);
	return 0;
}

int conn_enqueue_force(struct conn *c, struct pbuf *b)
{
	if (queue_push(c, b))
		return -1;
	conn_mark_dirty(c);
	return 0;
}

/* consumed records that n bytes from the head of c's queue left. */
static void consumed(struct conn *c, size_t n)
{
	if (n == 0)
		return;
	c->set->bytes_out += n;
	c->qbytes -= n;
	c->qoff += n;
	while (c->qn > 0 && c->qoff >= c->q[c->qhead]->len) {
		c->qoff -= c->q[c->qhead]->len;
		event_buf_unref(c->q[c->qhead]);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qn--;
	}
	if (c->qn == 0) {
		c->qoff = 0;
		c->stall_since = 0;
		c->set->n_backlogged--;
		/* Give back the memory of a queue that grew for a burst. */
		if (c->qcap > 64) {
			free(c->q);
			c->q = NULL;
			c->qcap = 0;
			c->qhead = 0;
		}
	} else {
		c->stall_since = util_mono_ms();
	}
}

size_t conn_take(struct conn *c, void *buf, size_t max)
{
	uint8_t *out = buf;
	size_t n = 0, i;

	for (i = 0; i < c->qn && n < max; i++) {
		struct pbuf *b = c->q[(c->qhead + i) % c->qcap];
		size_t skip = i == 0 ? c->qoff : 0;
		size_t k = b->len - skip;

		if (k > max - n)
			k = max - n;
		memcpy(out + n, b->data + skip, k);
		n += k;
	}
	consumed(c, n);
	return n;
}

int conn_send(struct conn *c)
{
	struct iovec iov[CONN_IOV_MAX];
	struct msghdr msg;
	size_t i, cnt, total;
	ssize_t n;

	while (c->qn > 0) {
		total = 0;
		cnt = c->qn < CONN_IOV_MAX ? c->qn : CONN_IOV_MAX;
		for (i = 0; i < cnt; i++) {
			struct pbuf *b = c->q[(c->qhead + i) % c->qcap];
			size_t skip = i == 0 ? c->qoff : 0;

			iov[i].iov_base = b->data + skip;
			iov[i].iov_len = b->len - skip;
			total += iov[i].iov_len;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = cnt;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		consumed(c, (size_t)n);
		/* A short write means the socket is full: asking again at
		 * once would only earn an EAGAIN. */
		if ((size_t)n < total)
			return 1;
		if (c->qn == 0 && c->state == CONN_OPEN &&
			c->set->drained_cb != NULL)
			c->set->drained_cb(c->set->drained_data, c);
	}
	return 0;
}

void conn_discard(struct conn *c, int keep_partial)
{
	size_t keep = keep_partial && c->qn > 0 && c->qoff > 0 ? 1 : 0;

	while (c->qn > keep) {
		size_t last = (c->qhead + c->qn - 1) % c->qcap;

		c->qbytes -= c->q[last]->len;
		event_buf_unref(c->q[last]);
		c->qn--;
	}
	if (c->qn == 0) {
		if (c->stall_since != 0)
			c->set->n_backlogged--;
		c->qoff = 0;
		c->qbytes = 0;
		c->stall_since = 0;
	}
}

void conn_drop(struct conn *c, uint16_t code, const char *reason)
{
	if (c->state != CONN_OPEN)
		return;
	c->set->slow_drops++;
	log_msg(LOG_INFO, "dropping a %s subscriber: %s", c->ops->name,
		reason);
	c->ops->drop(c, code, reason);
}

void conn_flush_dirty(struct conn_set *set)
{
	struct conn *c;

	while (set->dirty != NULL) {
		c = set->dirty;
		set->dirty = c->dnext;
		c->dirty = 0;
		c->dnext = NULL;
		if (c->state == CONN_DEAD)
			continue;
		c->ops->flush(c);
	}
}

void conn_close_socket(struct conn *c)
{
	if (c->w.fd >= 0)
		loop_del(c->set->loop, &c->w);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void conn_free_later(struct conn *c)
{
	c->fnext = c->set->to_free;
	c->set->to_free = c;
}

void conn_free_deferred(struct conn_set *set)
{
	struct conn *c;

	while (set->to_free != NULL) {
		c = set->to_free;
		set->to_free = c->fnext;
		conn_free(c);
	}
}

int conn_flush_queue(struct conn *c, unsigned idle_mask)
{
	int rc;

	if (c->state == CONN_DEAD || c->fd < 0)
		return 1;
	rc = conn_send(c);
	if (rc < 0)
		return -1;
	if (c->state == CONN_DEAD)
		return 1;
	loop_mod(c->set->loop, &c->w, rc > 0 ? idle_mask | EPOLLOUT :
		idle_mask);
	return rc > 0;
}
