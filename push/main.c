/* main.c - flowpushd: configuration, limits, signals and the event loop that drives everything else. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include "about.h"
#include "conn.h"
#include "http.h"
#include "hub.h"
#include "listen.h"
#include "log.h"
#include "tail.h"
#include "util.h"

#define TICK_MS 100          /* timers: heartbeats, polls, stalls */
#define STOP_GRACE_MS 800    /* SIGTERM to exit, within the second */
#define FD_RESERVE 128       /* descriptors besides subscribers */

/* The daemon: its parts, bottom to top, and what only the loop needs. */
struct push {
	struct config *cfg;
	struct loop *loop;
	struct conn_set set;
	struct tail tail;
	struct hub hub;
	struct http http;
	int timer_fd;
	struct loop_watch timer_w;
	int signal_fd;
	struct loop_watch signal_w;
	int stopping;
	int64_t stop_deadline;
	int reopen_logs;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: flowpushd [--config FILE]\n"
		"       flowpushd --help | --version\n"
		"Streams the flowpush journal over WebSocket and SSE.\n"
		"The config file defaults to $FLOWPUSH_CONFIG. SIGTERM or "
		"SIGINT stops the\ndaemon, SIGHUP reopens its log file. More "
		"in flowpushd(8).\n\n");
	about_keys(f, CONFIG_PUSH);
}

/* raise_nofile makes room for the configured connections and returns how
 * many subscribers fit in the limit finally obtained. */
static long raise_nofile(long want)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return want;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need) {
		long fit = rl.rlim_cur > FD_RESERVE * 2 ?
			(long)(rl.rlim_cur - FD_RESERVE) : FD_RESERVE;

		log_msg(LOG_WARN, "open file limit %lu allows %ld connections, "
			"not %ld", (unsigned long)rl.rlim_cur, fit, want);
		return fit;
	}
	return want;
}

static void begin_stop(struct push *px)
{
	if (px->stopping)
		return;
	log_msg(LOG_INFO, "stopping: closing %zu WebSocket and %zu SSE "
		"subscribers", px->set.n[CONN_WS], px->set.n[CONN_SSE]);
	px->stopping = 1;
	px->stop_deadline = util_mono_ms() + STOP_GRACE_MS;
	http_quiesce(&px->http);
	hub_shutdown(&px->hub);
}

static void signal_cb(struct loop *loop, int fd, void *data, unsigned events)
{
	struct push *px = data;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			px->reopen_logs = 1;
		else
			begin_stop(px);
	}
}

static void timer_cb(struct loop *loop, int fd, void *data, unsigned events)
{
	struct push *px = data;
	uint64_t ticks;
	int64_t now = util_mono_ms();

	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	tail_tick(&px->tail, now);
	hub_tick(&px->hub, now);
}

static int setup_signals(struct push *px)
{
	sigset_t set;

	/* Writes to a vanished peer must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	px->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (px->signal_fd < 0)
		return -1;
	return loop_add(px->loop, &px->signal_w, px->signal_fd, EPOLLIN,
		signal_cb, px);
}

static int setup_timer(struct push *px)
{
	struct itimerspec its;

	px->timer_fd = timerfd_create(CLOCK_MONOTONIC,
		TFD_NONBLOCK | TFD_CLOEXEC);
	if (px->timer_fd < 0)
		return -1;
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_nsec = TICK_MS * 1000000L;
	its.it_value.tv_nsec = TICK_MS * 1000000L;
	if (timerfd_settime(px->timer_fd, 0, &its, NULL) != 0)
		return -1;
	return loop_add(px->loop, &px->timer_w, px->timer_fd, EPOLLIN,
		timer_cb, px);
}

/* after_events does the work a turn leaves: writes queued by the events,
 * MHD's share (handshakes, connections it ends), deferred frees. */
static void after_events(struct push *px)
{
	int i;

	/* MHD's epoll set is edge-triggered: a connection it left ready
	 * raises no new event, only a zero timeout. So its timeout is asked
	 * for as well as the kick. */
	for (i = 0; i < 8; i++) {
		conn_flush_dirty(&px->set);
		if (i == 0)
			hub_fanout_written(&px->hub, util_now_ms());
		if (!px->set.kick && http_timeout(&px->http) != 0)
			break;
		http_run(&px->http);
	}
	conn_free_deferred(&px->set);
	if (px->reopen_logs) {
		px->reopen_logs = 0;
		log_setup("flowpushd", px->cfg->log_level, px->cfg->log_file);
		log_msg(LOG_INFO, "log reopened");
	}
}

static int run(struct push *px)
{
	int timeout;

	while (!px->stopping || (conn_set_count(&px->set) > 0 &&
		util_mono_ms() < px->stop_deadline)) {
		timeout = http_timeout(&px->http);
		/* A subscriber still reading its backlog from the database
		 * gets one batch per turn: come back without sleeping. */
		if (px->tail.more || px->set.dirty != NULL || px->set.kick ||
			px->hub.catching_up)
			timeout = 0;
		if (loop_run_once(px->loop, timeout) < 0) {
			log_msg(LOG_ERROR, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		if (px->tail.more)
			tail_poll(&px->tail);
		hub_catch_up(&px->hub);
		after_events(px);
	}
	return 0;
}

/* setup makes the parts, bottom to top, and wires the callbacks that
 * come up: tail reports to the hub, queues that drain refill from it.
 * Returns 0 or -1 (logged). */
static int setup(struct push *px, struct config *cfg)
{
	struct tail_sink sink;

	px->loop = loop_new();
	if (px->loop == NULL || setup_signals(px) || setup_timer(px)) {
		log_msg(LOG_ERROR, "cannot set up: %s", strerror(errno));
		return -1;
	}
	conn_set_init(&px->set, px->loop, (size_t)cfg->push_outbound_cap);
	hub_init(&px->hub, &px->set, &px->tail, cfg);
	hub_tail_sink(&px->hub, &sink);
	if (http_init(&px->http, cfg, px->loop, &px->set, &px->hub,
		&px->tail)) {
		log_msg(LOG_ERROR, "cannot set up: %s", strerror(errno));
		return -1;
	}
	px->http.max_conns = raise_nofile(cfg->push_max_connections);
	if (tail_init(&px->tail, cfg, px->loop, &sink) ||
		http_start(&px->http))
		return -1;
	if (listen_unix_path(cfg->push_listen) != NULL)
		log_msg(LOG_INFO, "listening on %s (%ld connections)",
			cfg->push_listen, px->http.max_conns);
	else
		log_msg(LOG_INFO, "listening on %s:%ld (%ld connections)",
			cfg->push_listen, cfg->push_port, px->http.max_conns);
	return 0;
}

int main(int argc, char **argv)
{
	static struct push px;
	struct config cfg;
	struct ferr err;
	const char *path = NULL;
	int i, result = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			path = argv[i] + 9;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			about_version(stdout, "flowpushd");
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	/* Events of a megabyte come and go: a fixed threshold keeps them
	 * in mappings of their own, given back to the kernel when freed
	 * (glibc would otherwise raise it and keep them in the heap). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	memset(&cfg, 0, sizeof(cfg));
	ferr_init(&err);
	if (config_load(&cfg, path, &err)) {
		fprintf(stderr, "flowpushd: %s\n", err.message);
		ferr_release(&err);
		config_release(&cfg);
		return 1;
	}
	ferr_release(&err);
	log_setup("flowpushd", cfg.log_level, cfg.log_file);
	px.cfg = &cfg;
	px.signal_fd = -1;
	px.timer_fd = -1;
	px.tail.doorbell.fd = -1;
	if (setup(&px, &cfg) == 0) {
		if (run(&px) == 0)
			result = 0;
		log_msg(LOG_INFO, "stopped");
	}
	http_stop(&px.http);
	conn_set_release(&px.set);
	tail_release(&px.tail);
	if (px.timer_fd >= 0)
		close(px.timer_fd);
	if (px.signal_fd >= 0)
		close(px.signal_fd);
	loop_free(px.loop);
	config_release(&cfg);
	return result;
}
