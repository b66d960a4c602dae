/* main.c - flowpush.fcgi: FastCGI on a listening fd 0, else plain CGI. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "about.h"
#include "log.h"
#include "api.h"
#include "util.h"
#include "response.h"

#define PROGNAME "flowpush.fcgi"
#define MAX_THREADS 256
#define JOIN_GRACE_S 5
#define DRAIN_MAX (64L << 20)
#define ACCEPT_RETRIES 50

/* --- plain CGI: the environment, stdin and stdout --- */

/* The CGI request reader: the one place outside config loading that reads
 * the environment, because in CGI the environment is the request. */
static const char *cgi_param_cb(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static long cgi_read_cb(void *ctx, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	(void)ctx;
	while (got < n) {
		r = read(STDIN_FILENO, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

struct cgi_state {
	int more;   /* bytes came after the declared length */
};

/* At first only what has already arrived: a server may keep stdin open
 * after the body, and waiting for an end that never comes would hang the
 * request. Once more bytes did come, the client is sending past its
 * Content-Length: a short wait for the rest tells 400 from 413. */
static long cgi_read_more_cb(void *ctx, char *buf, size_t n)
{
	struct cgi_state *cs = ctx;
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	ssize_t r;

	if (poll(&p, 1, cs->more ? 100 : 0) <= 0 ||
		!(p.revents & (POLLIN | POLLHUP)))
		return 0;
	r = read(STDIN_FILENO, buf, n);
	if (r > 0)
		cs->more = 1;
	return r < 0 ? -1 : (long)r;
}

static int cgi_write_cb(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	return fwrite(buf, 1, n, stdout) == n ? 0 : -1;
}

static struct cgi_state cgi_state;

static const struct request_io cgi_io = {
	.ctx = &cgi_state,
	.param_cb = cgi_param_cb,
	.read_cb = cgi_read_cb,
	.read_more_cb = cgi_read_more_cb,
	.write_cb = cgi_write_cb,
	.body_to_eof = 0,
};

/* A body over the limit is refused (413) before it is read; servers such
 * as mod_cgid drop the connection, answer and all, when the program exits
 * with input unread. So read it off, bounded in bytes and in idle time. */
static void cgi_drain(const struct config *cfg)
{
	const char *v = getenv("CONTENT_LENGTH");
	long long want, total = 0;
	char buf[16384];

	if (!v || util_parse_long(v, 0, LLONG_MAX, &want) < 0 ||
		want <= cfg->body_limit)
		return;
	if (want > DRAIN_MAX)
		want = DRAIN_MAX;
	while (total < want) {
		struct pollfd p = {STDIN_FILENO, POLLIN, 0};
		ssize_t r;

		if (poll(&p, 1, 2000) <= 0)
			break;
		r = read(STDIN_FILENO, buf, sizeof buf);
		if (r <= 0)
			break;
		total += r;
	}
}

static int run_cgi(const struct config *cfg)
{
	struct api_env env;
	int result;

	struct apimetrics metrics;
	struct ferr err;

	ferr_init(&err);
	if (api_metrics_open(&metrics, cfg, &err) < 0)
		log_msg(LOG_WARN, "requests are not counted: %s", err.message);
	ferr_release(&err);
	api_env_init(&env, cfg, NULL, NULL, &metrics);
	api_serve(&env, &cgi_io);
	api_env_release(&env);
	apimetrics_close(&metrics);
	result = fflush(stdout) == 0 ? 0 : 1;
	cgi_drain(cfg);
	return result;
}

/* --- FastCGI: a pool of workers sharing the listening socket on fd 0 --- */

static const char *fcgi_param_cb(void *ctx, const char *name)
{
	FCGX_Request *req = ctx;

	return FCGX_GetParam(name, req->envp);
}

static long fcgi_read_cb(void *ctx, char *buf, size_t n)
{
	FCGX_Request *req = ctx;
	size_t got = 0;
	int r, chunk;

	while (got < n) {
		chunk = n - got > INT_MAX ? INT_MAX : (int)(n - got);
		r = FCGX_GetStr(buf + got, chunk, req->in);
		if (r < 0)
			return -1;
		got += (size_t)r;
		if (r < chunk)
			break;
	}
	return (long)got;
}

/* FastCGI frames the body and ends it with an empty record, so reading on
 * to the end cannot hang. */
static long fcgi_read_more_cb(void *ctx, char *buf, size_t n)
{
	FCGX_Request *req = ctx;
	int r = FCGX_GetStr(buf, n > INT_MAX ? INT_MAX : (int)n, req->in);

	return r < 0 ? -1 : r;
}

static int fcgi_write_cb(void *ctx, const char *buf, size_t n)
{
	FCGX_Request *req = ctx;
	int chunk;

	while (n > 0) {
		chunk = n > INT_MAX ? INT_MAX : (int)n;
		if (FCGX_PutStr(buf, chunk, req->out) != chunk)
			return -1;
		buf += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/* A request refused before its body was read (413) still has input in
 * flight; reading it off lets the server take the answer instead of a
 * reset connection. Bounded, so a huge upload cannot hold the worker. */
static void fcgi_drain(FCGX_Request *req)
{
	char buf[16384];
	long total = 0;
	int r;

	do {
		r = FCGX_GetStr(buf, (int)sizeof buf, req->in);
		total += r > 0 ? r : 0;
	} while (r == (int)sizeof buf && total < DRAIN_MAX);
}

struct pool {
	const struct config *cfg;
	pthread_mutex_t accept_lock;  /* libfcgi wants one accept at a time */
	atomic_int stop;
	atomic_int running;           /* workers not yet finished */
	pthread_t main_thread;
	struct checkpoint checkpoint; /* every worker's WAL checkpoints */
	struct apimetrics metrics;    /* every worker counts here */
};

/* start_checkpoints starts the thread that checkpoints the WAL for every
 * worker. Without it (no database yet, or wal_checkpoint_pages 0) each
 * connection keeps SQLite's auto-checkpoint: slower writes, same data. */
static void start_checkpoints(struct pool *pool)
{
	struct ferr err;

	ferr_init(&err);
	if (checkpoint_start(&pool->checkpoint, pool->cfg, &err) < 0)
		log_msg(LOG_WARN, "no checkpoint thread (%s): each request "
			"checkpoints the WAL itself", err.message);
	ferr_release(&err);
}

/* start_metrics maps the request counters every worker adds to. */
static void start_metrics(struct pool *pool)
{
	struct ferr err;

	ferr_init(&err);
	if (api_metrics_open(&pool->metrics, pool->cfg, &err) < 0)
		log_msg(LOG_WARN, "requests are not counted: %s", err.message);
	ferr_release(&err);
}

static void *worker_main(void *arg)
{
	struct pool *pool = arg;
	FCGX_Request req;
	struct api_env env;
	struct request_io io = {
		.ctx = &req,
		.param_cb = fcgi_param_cb,
		.read_cb = fcgi_read_cb,
		.read_more_cb = fcgi_read_more_cb,
		.write_cb = fcgi_write_cb,
		.body_to_eof = 1,
	};
	struct timespec pause = {0, 100 * 1000 * 1000};
	int rc, failures = 0;

	api_env_init(&env, pool->cfg, &pool->stop, &pool->checkpoint,
		&pool->metrics);
	if (FCGX_InitRequest(&req, STDIN_FILENO, 0) != 0) {
		log_msg(LOG_ERROR, "cannot set up a FastCGI request");
		goto out;
	}
	for (;;) {
		pthread_mutex_lock(&pool->accept_lock);
		if (atomic_load(&pool->stop)) {
			pthread_mutex_unlock(&pool->accept_lock);
			break;
		}
		rc = FCGX_Accept_r(&req);
		pthread_mutex_unlock(&pool->accept_lock);
		if (rc < 0 && atomic_load(&pool->stop))
			break;
		if (rc < 0) {
			/* Out of file descriptors and the like pass; a socket
			 * that keeps failing ends the worker. */
			log_msg(LOG_ERROR, "FastCGI accept failed (%d)", rc);
			if (++failures > ACCEPT_RETRIES)
				break;
			nanosleep(&pause, NULL);
			continue;
		}
		failures = 0;
		api_serve(&env, &io);
		fcgi_drain(&req);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
out:
	api_env_release(&env);
	/* The last worker to go wakes main, which may still be waiting for
	 * a signal: a pool that died on its own must not leave a process
	 * that looks alive. */
	if (atomic_fetch_sub(&pool->running, 1) == 1 &&
		!atomic_load(&pool->stop))
		pthread_kill(pool->main_thread, SIGTERM);
	return NULL;
}

static int run_fcgi(const struct config *cfg)
{
	struct pool pool;
	pthread_t tids[MAX_THREADS];
	sigset_t set;
	struct timespec deadline;
	long n, i, started = 0;
	int sig = 0, result = 1;

	memset(&pool, 0, sizeof pool);
	pool.cfg = cfg;
	pool.main_thread = pthread_self();
	pthread_mutex_init(&pool.accept_lock, NULL);
	atomic_init(&pool.stop, 0);

	/*
	 * libfcgi installs a SIGTERM handler that only sets a flag nobody
	 * polls in a threaded program. Blocking the signals before any thread
	 * exists (threads inherit the mask) and taking them with sigwait()
	 * here turns them into an orderly stop.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (FCGX_Init() != 0) {
		log_msg(LOG_ERROR, "cannot initialise libfcgi");
		goto out;
	}
	start_checkpoints(&pool);
	start_metrics(&pool);
	n = cfg->threads < 1 ? 1 : cfg->threads > MAX_THREADS ? MAX_THREADS
		: cfg->threads;
	atomic_init(&pool.running, (int)n);
	for (i = 0; i < n; i++) {
		if (pthread_create(&tids[i], NULL, worker_main, &pool) != 0) {
			log_msg(LOG_ERROR, "cannot start worker %ld", i);
			atomic_fetch_sub(&pool.running, (int)(n - i));
			break;
		}
		started++;
	}
	if (started == 0)
		goto out;
	log_msg(LOG_INFO, "FastCGI with %ld worker threads", started);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_setup(PROGNAME, cfg->log_level, cfg->log_file);
			continue;
		}
		break;
	}
	log_msg(LOG_INFO, "stopping on signal %d", sig);
	atomic_store(&pool.stop, 1);
	/* Wakes the worker blocked in accept() (Linux answers EINVAL); the
	 * others see stop once they get the accept lock. */
	shutdown(STDIN_FILENO, SHUT_RDWR);

	/* Requests in progress finish (a long-poll answers at once); a
	 * worker stuck on a slow client does not keep the process alive. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += JOIN_GRACE_S;
	result = 0;
	for (i = 0; i < started; i++)
		if (pthread_timedjoin_np(tids[i], NULL, &deadline) != 0) {
			log_msg(LOG_WARN, "workers still busy; exiting anyway");
			break;
		}
	if (i < started)
		_exit(0);
out:
	/* The workers have closed their connections. */
	checkpoint_stop(&pool.checkpoint);
	apimetrics_close(&pool.metrics);
	return result;
}

/* fd 0 is a listening socket when a FastCGI server or spawner started us;
 * for a CGI it is a pipe, a file or a terminal. */
static int fd0_listens(void)
{
	int v = 0;
	socklen_t len = sizeof v;

	if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0)
		return 0;
	return v != 0;
}

/* Without a configuration the CGI still owes its client a JSON answer. */
static void cgi_config_error(void)
{
	struct response resp;
	struct ferr shown;

	ferr_init(&shown);
	ferr_set(&shown, 500, "bad_config",
		"The server's configuration could not be loaded.");
	response_init(&resp);
	response_error(&resp, &shown);
	response_render(&resp, cgi_write_cb, NULL);
	fflush(stdout);
	response_release(&resp);
	ferr_release(&shown);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: flowpush.fcgi --help | --version\n"
		"The flowpush API. Started with a listening socket on fd 0 "
		"(spawn-fcgi, a\nFastCGI server) it serves FastCGI; started "
		"by a web server as a CGI it answers\nthe one request in its "
		"environment. The config file is $FLOWPUSH_CONFIG.\n"
		"SIGTERM stops the FastCGI pool, SIGHUP reopens the log file. "
		"More in\nflowpush.fcgi(8).\n\n");
	about_keys(f, CONFIG_API);
}

/*
 * A web server never gives a FastCGI arguments and gives a CGI
 * GATEWAY_INTERFACE (and, for a query without '=', the query's words as
 * arguments, RFC 3875 4.4): only someone at a shell gets an answer to
 * --help or --version. Returns the exit status when argv was such a
 * request, -1 when the program should serve.
 */
static int shell_args(int argc, char **argv, int fcgi)
{
	if (argc < 2 || fcgi ||
	    cgi_param_cb(NULL, "GATEWAY_INTERFACE") != NULL)
		return -1;
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		about_version(stdout, PROGNAME);
		return 0;
	}
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct ferr err;
	int fcgi = fd0_listens(), result;

	result = shell_args(argc, argv, fcgi);
	if (result >= 0)
		return result;
	result = 1;
	signal(SIGPIPE, SIG_IGN);
	ferr_init(&err);
	memset(&cfg, 0, sizeof cfg);
	if (config_load(&cfg, NULL, &err) < 0) {
		log_setup(PROGNAME, "error", NULL);
		log_msg(LOG_ERROR, "configuration: %s", err.message);
		if (!fcgi)
			cgi_config_error();
		goto out;
	}
	if (log_setup(PROGNAME, cfg.log_level, cfg.log_file) < 0)
		log_msg(LOG_WARN, "cannot open log file %s; using stderr",
			cfg.log_file);
	result = fcgi ? run_fcgi(&cfg) : run_cgi(&cfg);
out:
	config_release(&cfg);
	ferr_release(&err);
	return result;
}
