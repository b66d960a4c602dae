/* push_load.c - load client for push servers (flowpushd directly or through a web server, nchan) and for pages that poll a list instead: events written through SQLite or over HTTP, the time from each write to each receipt. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*
 * Two modes share the writer and the process figures.
 *
 * Subscribers (--sse, --ws): opens that many SSE and WebSocket subscribers,
 * then writes the events; every receipt is stored by subscriber and event.
 * Each event carries the marker "bench-N" and a message is matched to its
 * event by it, whatever server framed it.
 *
 * Pages (--poll PATH,INTERVAL_MS with --pages N): the model of a console
 * page without push. Each page holds one kept-alive connection and asks GET
 * PATH every INTERVAL_MS, the pages' turns spread evenly over the interval;
 * an event is visible to a page in the first answer that carries its
 * marker or a later one (the record as that write or a later one left it).
 *
 * The one JSON line printed at the end is described in USAGE below.
 */

static const char USAGE[] =
	"usage: push_load --sub ADDR [--sse-path P] [--ws-path P] [--sse N]\n"
	"                 [--ws N] --events N [--rate R] [--seconds S]\n"
	"                 --pid PID [--pid PID...]\n"
	"                 (--sqlite DB,DOORBELL | --http ADDR,METHOD,PATH,BODY)\n"
	"       push_load --sub ADDR --poll PATH,INTERVAL_MS --pages N ...\n"
	"       push_load --help\n"
	"\n"
	"  --sub ADDR      where subscribers or pages connect: 127.0.0.1:PORT,\n"
	"                  PORT, or unix:PATH\n"
	"  --sse-path P    path of an SSE subscription (/push/events)\n"
	"  --ws-path P     path of a WebSocket subscription (/push/ws)\n"
	"  --sse N, --ws N subscribers of each transport, alternating\n"
	"  --poll PATH,INTERVAL_MS\n"
	"                  pages instead of subscribers: each asks GET PATH\n"
	"                  every INTERVAL_MS on a kept-alive connection\n"
	"  --pages N       how many pages poll\n"
	"  --events N      events to write, numbered 0..N-1\n"
	"  --rate R        events per second (0: each as soon as the last is\n"
	"                  written)\n"
	"  --seconds S     stop after S seconds whatever happens (30)\n"
	"  --pid PID       a process of the server, up to 8; the first is the\n"
	"                  push server itself\n"
	"  --sqlite DB,DOORBELL\n"
	"                  write journal rows straight into DB and ring the\n"
	"                  DOORBELL datagram socket after each COMMIT\n"
	"  --http ADDR,METHOD,PATH,BODY\n"
	"                  write with HTTP requests on one kept-alive connection,\n"
	"                  each sent when the last was answered; %ld in BODY\n"
	"                  becomes the event's number (BODY may hold commas)\n"
	"\n"
	"Latency runs from the COMMIT (SQLite) or from the request being sent\n"
	"(HTTP) to the receipt. Prints one JSON line. Subscribers: p50/p99/max\n"
	"over every delivery (_ms); last_p50_ms and last_max_ms over events of\n"
	"the time to an event's last subscriber; last_decile_max_share, the\n"
	"largest share of events for which one subscriber was among the last\n"
	"tenth served, and last_decile_random_share, the same figure were the\n"
	"last tenth drawn at random; rss_kb_by_pid, each process's RSS after\n"
	"connecting minus before; cpu_s_by_pid. Pages: requests_per_min,\n"
	"bytes_per_min, visible_p50_ms and visible_p99_ms over every page and\n"
	"event. Both: write_p50_ms, write_p99_ms, write_max_ms (request sent\n"
	"to answer read; BEGIN to COMMIT with --sqlite), cpu_s of the --pid\n"
	"processes, client_cpu_s. Exits 0 when every event reached everyone.\n";

#define MAX_PIDS 8

struct addr {
	int port;
	const char *unix_path;     /* NULL: TCP on 127.0.0.1 */
};

struct sub {
	long idx;
	int fd;
	int ws;
	int ready;          /* response headers seen */
	char *buf;
	size_t len, cap;
};

struct page {
	long idx;
	int fd;
	int busy;           /* a request is out */
	int late;           /* its turn came while busy: ask when answered */
	long seen;          /* highest marker answered so far, -1: none */
	char *buf;
	size_t len, cap;
};

struct opts {
	struct addr sub;
	int have_sub;
	const char *sse_path, *ws_path, *poll_path;
	long n_sse, n_ws, pages, poll_ms, max_s;
	int pids[MAX_PIDS];
	int n_pids;
};

struct dist {
	double p50, p99, max;
};

/* The writer fills these; readers look at sent_ns[i] only through
 * atomics, the rest is read after the writer is joined. */
static int64_t *sent_ns;     /* by event: request sent, or COMMIT done */
static int64_t *write_ns;    /* by event: how long the write took */
static long n_events;
static int writer_done;

static long n_subs;
static int64_t *recv_ns;     /* [subscriber * n_events + event], 0: not yet */
static long deliveries, duplicates, counting;
static long bytes_in;        /* read by subscribers or pages while counting */

static int64_t *vis_ns;      /* [page * n_events + event], -1: not yet */
static long visible, pages_done, requests, poll_errors;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* number reads a whole decimal argument in [lo, hi] or exits with the
 * usage. */
static long number(const char *s, long lo, long hi, const char *name)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "push_load: %s: not a number in %ld..%ld: %s\n",
			name, lo, hi, s);
		exit(2);
	}
	return v;
}

static long proc_cpu_ticks(int pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 0; p != NULL && i < 12; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

static long proc_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* procs_sample fills cpu[i] (ticks) and rss[i] (KB) for each process;
 * a process that is gone counts 0. */
static void procs_sample(const struct opts *o, long *cpu, long *rss)
{
	int i;

	for (i = 0; i < o->n_pids; i++) {
		cpu[i] = proc_cpu_ticks(o->pids[i]);
		rss[i] = proc_rss_kb(o->pids[i]);
		if (cpu[i] < 0)
			cpu[i] = 0;
		if (rss[i] < 0)
			rss[i] = 0;
	}
}

/* marker finds "bench-N" in p[0..n) and gives N, or -1. */
static long marker(const char *p, size_t n)
{
	const char *m = memmem(p, n, "bench-", 6);

	if (m == NULL || m + 6 >= p + n)
		return -1;
	return strtol(m + 6, NULL, 10);
}

/* marker_max gives the largest N of every "bench-N" in p[0..n), or -1. */
static long marker_max(const char *p, size_t n)
{
	const char *end = p + n, *m;
	long best = -1, v;

	while ((m = memmem(p, (size_t)(end - p), "bench-", 6)) != NULL) {
		v = marker(m, (size_t)(end - m));
		if (v > best)
			best = v;
		p = m + 6;
	}
	return best;
}

/* record stores subscriber s's receipt of event i at t; a second receipt
 * of the same event is counted apart. */
static void record(const struct sub *s, long i, int64_t t)
{
	int64_t *slot;

	if (i < 0 || i >= n_events)
		return;
	slot = &recv_ns[s->idx * n_events + i];
	if (*slot != 0) {
		duplicates++;
		return;
	}
	*slot = t;
	deliveries++;
}

/* addr_parse reads 127.0.0.1:PORT, PORT or unix:PATH. */
static void addr_parse(struct addr *a, const char *s)
{
	const char *colon;

	memset(a, 0, sizeof(*a));
	if (strncmp(s, "unix:", 5) == 0) {
		a->unix_path = s + 5;
		return;
	}
	colon = strrchr(s, ':');
	a->port = (int)number(colon != NULL ? colon + 1 : s, 1, 65535,
		"port");
}

/* addr_connect opens a blocking stream socket to a. */
static int addr_connect(const struct addr *a)
{
	struct sockaddr_in sa;
	struct sockaddr_un su;
	int fd, rc, one = 1;

	if (a->unix_path != NULL) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		memset(&su, 0, sizeof(su));
		su.sun_family = AF_UNIX;
		snprintf(su.sun_path, sizeof(su.sun_path), "%s", a->unix_path);
		rc = connect(fd, (struct sockaddr *)&su, sizeof(su));
	} else {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)a->port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (rc != 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

/* buf_room makes room for 64 KiB more in *buf. */
static void buf_room(char **buf, size_t len, size_t *cap)
{
	if (*cap - len >= 65536)
		return;
	*cap = *cap * 2 + 65536;
	*buf = realloc(*buf, *cap);
	if (*buf == NULL) {
		perror("realloc");
		exit(1);
	}
}

/* ------------------------------------------------------------ subscribers */

/* sub_connect opens subscriber s at a: a WebSocket or an SSE stream. */
static void sub_connect(struct sub *s, const struct addr *a, const char *path,
	int ws)
{
	char req[512];
	int n;

	s->ws = ws;
	s->fd = addr_connect(a);
	if (ws)
		n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1"
			"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n", path);
	else
		/* HTTP/1.0: the stream comes without chunk framing. */
		n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: "
			"127.0.0.1\r\nAccept: text/event-stream\r\n\r\n", path);
	if (write(s->fd, req, (size_t)n) != n) {
		perror("write");
		exit(1);
	}
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
}

/* ws_consume takes the whole WebSocket frames at b[0..n); returns the
 * bytes used. */
static size_t ws_consume(struct sub *s, const unsigned char *b, size_t n,
	int64_t t)
{
	size_t off = 0, h;
	uint64_t len;
	int i;

	while (n - off >= 2) {
		const unsigned char *f = b + off;

		len = f[1] & 0x7f;
		h = 2;
		if (len == 126) {
			if (n - off < 4)
				break;
			len = ((uint64_t)f[2] << 8) | f[3];
			h = 4;
		} else if (len == 127) {
			if (n - off < 10)
				break;
			for (len = 0, i = 0; i < 8; i++)
				len = (len << 8) | f[2 + i];
			h = 10;
		}
		if (n - off < h + len)
			break;
		if ((f[0] & 0x0f) == 1)
			record(s, marker((const char *)f + h, (size_t)len), t);
		off += h + (size_t)len;
	}
	return off;
}

/* sse_consume takes the whole lines at p[0..n); returns the bytes used. */
static size_t sse_consume(struct sub *s, const char *p, size_t n, int64_t t)
{
	size_t off = 0;
	const char *nl;

	while (off < n) {
		nl = memchr(p + off, '\n', n - off);
		if (nl == NULL)
			break;
		if (nl - (p + off) > 6 && memcmp(p + off, "data: ", 6) == 0)
			record(s, marker(p + off, (size_t)(nl - (p + off))), t);
		off = (size_t)(nl - p) + 1;
	}
	return off;
}

/* consume parses what s has buffered; returns bytes used. */
static size_t consume(struct sub *s, int64_t t)
{
	size_t off = 0;

	if (!s->ready) {
		char *e = memmem(s->buf, s->len, "\r\n\r\n", 4);

		if (e == NULL)
			return 0;
		s->ready = 1;
		off = (size_t)(e - s->buf) + 4;
	}
	if (s->ws)
		return off + ws_consume(s, (unsigned char *)s->buf + off,
			s->len - off, t);
	return off + sse_consume(s, s->buf + off, s->len - off, t);
}

/* sub_readable reads what s has; returns -1 when its server closed it. */
static int sub_readable(struct sub *s)
{
	int64_t t;
	ssize_t n;
	size_t used;

	for (;;) {
		buf_room(&s->buf, s->len, &s->cap);
		n = read(s->fd, s->buf + s->len, s->cap - s->len);
		if (n <= 0)
			return n == 0 ? -1 : 0;
		t = now_ns();
		if (counting)
			bytes_in += n;
		s->len += (size_t)n;
		used = consume(s, t);
		memmove(s->buf, s->buf + used, s->len - used);
		s->len -= used;
	}
}

/* ---------------------------------------------------------------- writer */

struct writer {
	sqlite3 *db;               /* SQLite writer, or NULL */
	const char *doorbell;
	struct addr http;          /* HTTP writer */
	const char *method, *path, *body;
	double rate;
	long errors;               /* HTTP answers not 2xx */
};

/* pace waits until event i is due at the writer's rate. */
static void pace(const struct writer *w, int64_t t0, long i)
{
	int64_t due, now;

	if (w->rate <= 0)
		return;
	due = t0 + (int64_t)((double)i * 1e9 / w->rate);
	now = now_ns();
	if (due > now)
		usleep((useconds_t)((due - now) / 1000));
}

static void sqlite_write(struct writer *w)
{
	struct sockaddr_un sa;
	sqlite3_stmt *st;
	char data[512], pad[301];
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	int64_t t0 = now_ns(), begun;
	long i;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", w->doorbell);
	memset(pad, 'x', 300);
	pad[300] = '\0';
	sqlite3_prepare_v2(w->db, "INSERT INTO journal(ts, topic, action, id,"
		" version, actor, data) VALUES('2026-01-01T00:00:00.000Z',"
		" 'personas', 'updated', '00000000-0000-4000-8000-000000000000',"
		" ?1, NULL, ?2)", -1, &st, NULL);
	for (i = 0; i < n_events; i++) {
		pace(w, t0, i);
		snprintf(data, sizeof(data), "{\"m\":\"bench-%ld\",\"pad\":"
			"\"%s\"}", i, pad);
		begun = now_ns();
		sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_int64(st, 1, i + 1);
		sqlite3_bind_text(st, 2, data, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL);
		__atomic_store_n(&sent_ns[i], now_ns(), __ATOMIC_RELEASE);
		write_ns[i] = sent_ns[i] - begun;
		sendto(fd, "!", 1, MSG_DONTWAIT, (struct sockaddr *)&sa,
			sizeof(sa));
	}
	sqlite3_finalize(st);
	close(fd);
}

/* http_answer reads one whole answer (headers and a Content-Length or
 * chunked body) from fd; returns its status, or -1. */
static int http_answer(int fd)
{
	static char buf[65536];
	size_t len = 0;
	char *end, *cl;
	long body = 0;
	int status;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end != NULL)
			break;
	}
	status = (int)strtol(buf + 9, NULL, 10);
	cl = strcasestr(buf, "\r\ncontent-length:");
	if (cl != NULL && cl < end)
		body = strtol(cl + 17, NULL, 10);
	else if (strcasestr(buf, "\r\ntransfer-encoding: chunked") != NULL) {
		/* Read to the last chunk. */
		while (strstr(end, "\r\n0\r\n\r\n") == NULL) {
			if (len >= sizeof(buf) - 1)
				len = (size_t)(end - buf) + 4;
			n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				return -1;
			len += (size_t)n;
			buf[len] = '\0';
		}
		return status;
	}
	body -= (long)(len - (size_t)(end + 4 - buf));
	while (body > 0) {
		n = read(fd, buf, body < (long)sizeof(buf) ? (size_t)body :
			sizeof(buf));
		if (n <= 0)
			return -1;
		body -= n;
	}
	return status;
}

static void http_write(struct writer *w)
{
	char body[4096], req[8192];
	int fd = addr_connect(&w->http), n, status;
	int64_t t0 = now_ns(), sent;
	long i;

	for (i = 0; i < n_events; i++) {
		pace(w, t0, i);
		snprintf(body, sizeof(body), w->body, i);
		n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: "
			"127.0.0.1\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\n\r\n%s", w->method, w->path,
			strlen(body), body);
		sent = now_ns();
		__atomic_store_n(&sent_ns[i], sent, __ATOMIC_RELEASE);
		if (write(fd, req, (size_t)n) != n) {
			perror("write");
			exit(1);
		}
		status = http_answer(fd);
		write_ns[i] = now_ns() - sent;
		if (status < 0) {
			close(fd);
			fd = addr_connect(&w->http);
			w->errors++;
		} else if (status / 100 != 2) {
			w->errors++;
		}
	}
	close(fd);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	if (w->db != NULL)
		sqlite_write(w);
	else
		http_write(w);
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ----------------------------------------------------------------- pages */

/* page_open connects page p (again) and forgets what it had buffered. */
static void page_open(struct page *p, const struct addr *a, int ep)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = p };

	if (p->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
	}
	p->fd = addr_connect(a);
	fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
	epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev);
	p->len = 0;
	p->busy = 0;
}

/* page_ask sends page p's GET; a connection the server closed between two
 * requests is opened again once. */
static void page_ask(struct page *p, const char *path, const struct addr *a,
	int ep)
{
	char req[1024];
	int n, tries;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		"Accept: application/json\r\n\r\n", path);
	for (tries = 0; tries < 2; tries++) {
		if (send(p->fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
			p->busy = 1;
			requests++;
			return;
		}
		page_open(p, a, ep);
	}
	poll_errors++;
}

/* chunks_end walks the chunked body at b[0..n): returns the bytes up to
 * and with its last chunk, 0 when it has not all come, -1 when it is not
 * chunked framing. With join set, the chunks' data is moved together to
 * the start of b and *data_len says how long it is. */
static long chunks_end(char *b, size_t n, int join, size_t *data_len)
{
	size_t off = 0, out = 0;
	unsigned long size;
	char *eol, *end;

	for (;;) {
		eol = memmem(b + off, n - off, "\r\n", 2);
		if (eol == NULL)
			return 0;
		size = strtoul(b + off, &end, 16);
		if (end == b + off)
			return -1;
		off = (size_t)(eol - b) + 2;
		if (size == 0)
			break;
		if (n - off < size + 2)
			return 0;
		if (join)
			memmove(b + out, b + off, size);
		out += size;
		off += size + 2;
	}
	/* No trailers are expected: the empty line closes the body. */
	if (n - off < 2)
		return 0;
	if (data_len != NULL)
		*data_len = out;
	return (long)(off + 2);
}

/* answer_take looks for one whole answer at the start of b[0..n): returns
 * its length with *status and the body (chunks joined in place) in
 * *body[0..*body_len), 0 when it has not all come, -1 when it cannot be
 * read. */
static long answer_take(char *b, size_t n, int *status, char **body,
	size_t *body_len)
{
	char *end = memmem(b, n, "\r\n\r\n", 4), *h, *v;
	size_t head;
	long rc;

	if (end == NULL)
		return 0;
	head = (size_t)(end - b) + 4;
	*status = n > 12 ? (int)strtol(b + 9, NULL, 10) : 0;
	*body = b + head;
	h = memmem(b, head, "\r\nContent-Length:", 17);
	if (h == NULL)
		h = memmem(b, head, "\r\ncontent-length:", 17);
	if (h != NULL) {
		*body_len = (size_t)strtoul(h + 17, NULL, 10);
		return n - head >= *body_len ? (long)(head + *body_len) : 0;
	}
	v = memmem(b, head, "chunked", 7);
	if (v == NULL)
		return -1;
	rc = chunks_end(b + head, n - head, 0, NULL);
	if (rc <= 0)
		return rc;
	chunks_end(b + head, n - head, 1, body_len);
	return (long)head + rc;
}

/* page_answer counts an answer read at t: every event up to the largest
 * marker it carries becomes visible to p now, unless it was before. */
static void page_answer(struct page *p, int status, const char *body,
	size_t len, int64_t t)
{
	long m = marker_max(body, len), j;

	if (status / 100 != 2)
		poll_errors++;
	if (m >= n_events)
		m = n_events - 1;
	for (j = p->seen + 1; j <= m; j++) {
		vis_ns[p->idx * n_events + j] = t -
			__atomic_load_n(&sent_ns[j], __ATOMIC_ACQUIRE);
		visible++;
	}
	if (m > p->seen) {
		p->seen = m;
		if (m == n_events - 1)
			pages_done++;
	}
}

/* page_readable reads what p has; after a whole answer p asks again when
 * its turn came meanwhile. */
static void page_readable(struct page *p, const struct opts *o, int ep)
{
	char *body;
	size_t blen;
	ssize_t n;
	long used;
	int status;

	for (;;) {
		buf_room(&p->buf, p->len, &p->cap);
		n = read(p->fd, p->buf + p->len, p->cap - p->len);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			/* The server closed it (keepalive_requests reached). */
			if (p->busy)
				poll_errors++;
			page_open(p, &o->sub, ep);
			break;
		}
		if (n < 0)
			break;
		bytes_in += n;
		p->len += (size_t)n;
		used = answer_take(p->buf, p->len, &status, &body, &blen);
		if (used == 0)
			continue;
		if (used > 0)
			page_answer(p, status, body, blen, now_ns());
		else
			poll_errors++;
		p->len = 0;
		p->busy = 0;
		if (p->late) {
			p->late = 0;
			page_ask(p, o->poll_path, &o->sub, ep);
		}
	}
}

/* ------------------------------------------------------------ statistics */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* dist_of sorts v[0..n) and gives its median, 99th percentile and
 * largest value (zeros when n is 0). */
static struct dist dist_of(double *v, long n)
{
	struct dist d = { 0, 0, 0 };

	if (n == 0)
		return d;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	d.p50 = v[n / 2];
	d.p99 = v[n * 99 / 100];
	d.max = v[n - 1];
	return d;
}

static double ms_of(int64_t ns)
{
	return ns > 0 ? (double)ns / 1e6 : 0.0;
}

/* write_dist gives the writer's request times in ms. */
static struct dist write_dist(void)
{
	double *v = malloc((size_t)n_events * sizeof(*v));
	struct dist d;
	long i;

	for (i = 0; i < n_events; i++)
		v[i] = ms_of(write_ns[i]);
	d = dist_of(v, n_events);
	free(v);
	return d;
}

/* delivery_dist gives every delivery's latency in ms. */
static struct dist delivery_dist(void)
{
	double *v = malloc((size_t)(n_subs * n_events + 1) * sizeof(*v));
	struct dist d;
	long i, n = 0;

	for (i = 0; i < n_subs * n_events; i++)
		if (recv_ns[i] != 0)
			v[n++] = ms_of(recv_ns[i] - sent_ns[i % n_events]);
	d = dist_of(v, n);
	free(v);
	return d;
}

/* last_dist gives, over the events that reached anyone, the time from the
 * write to the last subscriber's receipt in ms; *complete counts the
 * events that reached every subscriber. */
static struct dist last_dist(long *complete)
{
	double *v = malloc((size_t)(n_events + 1) * sizeof(*v));
	struct dist d;
	int64_t last, t;
	long i, j, n = 0, got;

	*complete = 0;
	for (i = 0; i < n_events; i++) {
		for (last = 0, got = 0, j = 0; j < n_subs; j++) {
			t = recv_ns[j * n_events + i];
			if (t != 0)
				got++;
			if (t > last)
				last = t;
		}
		if (got > 0)
			v[n++] = ms_of(last - sent_ns[i]);
		if (got == n_subs)
			(*complete)++;
	}
	d = dist_of(v, n);
	free(v);
	return d;
}

struct stamp {
	int64_t t;
	long sub;
};

static int cmp_stamp(const void *a, const void *b)
{
	const struct stamp *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->sub < y->sub ? -1 : x->sub > y->sub;
}

/* below gives a pseudo-random number in [0, n): xorshift, fixed seed, so
 * that the reference figure is the same from run to run. */
static long below(long n)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (long)(x % (uint64_t)n);
}

static double share_max(const long *count)
{
	long j, most = 0;

	for (j = 0; j < n_subs; j++)
		if (count[j] > most)
			most = count[j];
	return n_events ? (double)most / (double)n_events : 0;
}

/* last_decile_shares gives, over subscribers, the largest share of events
 * for which one subscriber was among the last tenth to receive it (one
 * that never got the event counts as last): as measured in *measured, and
 * in *random for the last tenth drawn at random for each event, which is
 * what a server that favours no one would score at these sizes. */
static void last_decile_shares(double *measured, double *random)
{
	long k = (n_subs + 9) / 10, i, j, r, tmp;
	long *count = calloc((size_t)n_subs, sizeof(*count));
	long *count_r = calloc((size_t)n_subs, sizeof(*count_r));
	long *perm = malloc((size_t)n_subs * sizeof(*perm));
	struct stamp *st = malloc((size_t)n_subs * sizeof(*st));

	for (i = 0; i < n_events; i++) {
		for (j = 0; j < n_subs; j++) {
			st[j].t = recv_ns[j * n_events + i];
			if (st[j].t == 0)
				st[j].t = INT64_MAX;
			st[j].sub = j;
			perm[j] = j;
		}
		qsort(st, (size_t)n_subs, sizeof(*st), cmp_stamp);
		for (j = n_subs - k; j < n_subs; j++)
			count[st[j].sub]++;
		for (j = 0; j < k; j++) {
			r = j + below(n_subs - j);
			tmp = perm[j];
			perm[j] = perm[r];
			perm[r] = tmp;
			count_r[perm[j]]++;
		}
	}
	*measured = share_max(count);
	*random = share_max(count_r);
	free(st);
	free(perm);
	free(count_r);
	free(count);
}

/* visible_dist gives the time from each write to its being visible, over
 * every page and event, in ms. */
static struct dist visible_dist(long pages)
{
	double *v = malloc((size_t)(pages * n_events + 1) * sizeof(*v));
	struct dist d;
	long i, n = 0;

	for (i = 0; i < pages * n_events; i++)
		if (vis_ns[i] >= 0)
			v[n++] = ms_of(vis_ns[i]);
	d = dist_of(v, n);
	free(v);
	return d;
}

/* ---------------------------------------------------------------- report */

struct window {
	long cpu0[MAX_PIDS], cpu1[MAX_PIDS];
	long rss0[MAX_PIDS], rss1[MAX_PIDS];
	double self0, self1;
	int64_t t0, t1;
};

static void print_pid_array(const char *key, const struct opts *o,
	const long *a, const long *b, double scale)
{
	int i;

	printf(",\"%s\":[", key);
	for (i = 0; i < o->n_pids; i++)
		printf("%s%.3f", i ? "," : "", (double)(b[i] - a[i]) * scale);
	printf("]");
}

/* print_common prints the figures both modes share and closes the line. */
static void print_common(const struct opts *o, const struct window *w,
	const struct writer *wr)
{
	double tick = (double)sysconf(_SC_CLK_TCK);
	struct dist wd = write_dist();
	long cpu = 0;
	int i;

	for (i = 0; i < o->n_pids; i++)
		cpu += w->cpu1[i] - w->cpu0[i];
	printf(",\"write_errors\":%ld,\"write_p50_ms\":%.3f,"
		"\"write_p99_ms\":%.3f,\"write_max_ms\":%.3f,\"seconds\":%.3f,"
		"\"cpu_s\":%.3f,\"client_cpu_s\":%.3f", wr->errors, wd.p50,
		wd.p99, wd.max, (double)(w->t1 - w->t0) / 1e9,
		(double)cpu / tick, w->self1 - w->self0);
	print_pid_array("cpu_s_by_pid", o, w->cpu0, w->cpu1, 1 / tick);
	printf("}\n");
}

static void report_subs(const struct opts *o, const struct window *w,
	const struct writer *wr)
{
	double tick = (double)sysconf(_SC_CLK_TCK), secs, share, share_r;
	long rss = 0, rss0 = 0, cpu = 0, complete;
	struct dist all = delivery_dist(), last = last_dist(&complete);
	int i;

	last_decile_shares(&share, &share_r);
	for (i = 0; i < o->n_pids; i++) {
		rss0 += w->rss0[i];
		rss += w->rss1[i] - w->rss0[i];
		cpu += w->cpu1[i] - w->cpu0[i];
	}
	secs = (double)(w->t1 - w->t0) / 1e9;
	printf("{\"mode\":\"subscribers\",\"subscribers\":%ld,\"sse\":%ld,"
		"\"ws\":%ld,\"events\":%ld,\"deliveries\":%ld,\"expected\":%ld,"
		"\"duplicates\":%ld,\"events_complete\":%ld,"
		"\"rss_idle_kb\":%ld,\"rss_connected_kb\":%ld,"
		"\"kb_per_subscriber\":%.2f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
		"\"max_ms\":%.3f,\"last_p50_ms\":%.3f,\"last_max_ms\":%.3f,"
		"\"last_decile_max_share\":%.3f,"
		"\"last_decile_random_share\":%.3f,\"deliveries_per_s\":%.0f,"
		"\"bytes\":%ld,\"cpu_us_per_delivery\":%.3f",
		n_subs, o->n_sse, o->n_ws, n_events, deliveries,
		n_subs * n_events, duplicates, complete, rss0, rss0 + rss,
		n_subs ? (double)rss / (double)n_subs : 0, all.p50, all.p99,
		all.max, last.p50, last.max, share, share_r,
		secs > 0 ? (double)deliveries / secs : 0, bytes_in,
		deliveries ? (double)cpu / tick * 1e6 / (double)deliveries : 0);
	print_pid_array("rss_kb_by_pid", o, w->rss0, w->rss1, 1);
	print_common(o, w, wr);
}

static void report_pages(const struct opts *o, const struct window *w,
	const struct writer *wr)
{
	double min = (double)(w->t1 - w->t0) / 60e9;
	struct dist vd = visible_dist(o->pages);

	printf("{\"mode\":\"pages\",\"pages\":%ld,\"interval_ms\":%ld,"
		"\"events\":%ld,\"requests\":%ld,\"poll_errors\":%ld,"
		"\"requests_per_min\":%.1f,\"bytes\":%ld,\"bytes_per_min\":%.0f,"
		"\"visible\":%ld,\"expected\":%ld,\"visible_p50_ms\":%.3f,"
		"\"visible_p99_ms\":%.3f,\"visible_max_ms\":%.3f",
		o->pages, o->poll_ms, n_events, requests, poll_errors,
		min > 0 ? (double)requests / min : 0, bytes_in,
		min > 0 ? (double)bytes_in / min : 0, visible,
		o->pages * n_events, vd.p50, vd.p99, vd.max);
	print_common(o, w, wr);
}

/* ------------------------------------------------------------------- run */

/* open_all connects every subscriber and waits for their response
 * headers (or the deadline). */
static void open_all(int ep, struct sub *subs, const struct opts *o,
	int64_t deadline)
{
	struct epoll_event evs[512];
	long i, ready, both = 2 * (o->n_sse < o->n_ws ? o->n_sse : o->n_ws);
	int n;

	for (i = 0; i < n_subs; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &subs[i] };
		/* alternate SSE and WS while both remain */
		int ws = i < both ? (int)(i % 2) : o->n_ws > o->n_sse;

		subs[i].idx = i;
		sub_connect(&subs[i], &o->sub, ws ? o->ws_path : o->sse_path,
			ws);
		epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
		/* keep the accept queue short */
		if (i % 200 == 199) {
			n = epoll_wait(ep, evs, 512, 10);
			while (n-- > 0)
				sub_readable(evs[n].data.ptr);
		}
	}
	for (;;) {
		for (ready = 0, i = 0; i < n_subs; i++)
			ready += subs[i].ready;
		if (ready == n_subs || now_ns() > deadline)
			break;
		n = epoll_wait(ep, evs, 512, 100);
		while (n-- > 0)
			sub_readable(evs[n].data.ptr);
	}
}

/* run_subs opens the subscribers, writes the events and reads until every
 * event reached everyone or the deadline; fills w. */
static void run_subs(const struct opts *o, struct writer *wr,
	struct window *w, int64_t deadline)
{
	struct epoll_event evs[512];
	struct sub *subs = calloc((size_t)n_subs, sizeof(*subs));
	int ep = epoll_create1(0), n, i;
	long total = n_subs * n_events;
	pthread_t th;
	long skip[MAX_PIDS];

	procs_sample(o, skip, w->rss0);
	open_all(ep, subs, o, deadline);
	usleep(300000);
	procs_sample(o, w->cpu0, w->rss1);
	w->self0 = self_cpu_s();
	w->t0 = w->t1 = now_ns();
	counting = 1;
	pthread_create(&th, NULL, writer_main, wr);
	while (deliveries < total && now_ns() < deadline) {
		n = epoll_wait(ep, evs, 512, 100);
		for (i = 0; i < n; i++)
			if (sub_readable(evs[i].data.ptr) < 0) {
				struct sub *s = evs[i].data.ptr;

				epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
			}
		if (n > 0)
			w->t1 = now_ns();
	}
	procs_sample(o, w->cpu1, skip);
	w->self1 = self_cpu_s();
	pthread_join(th, NULL);
	close(ep);
}

/* poll_turns asks for every page whose turn is due by now; page i's turns
 * fall at t0 + k * interval + i * interval / pages. */
static int64_t poll_turns(struct page *pages, const struct opts *o, int ep,
	int64_t t0, long *turn)
{
	int64_t iv = (int64_t)o->poll_ms * 1000000, due, now = now_ns();
	struct page *p;

	for (;;) {
		due = t0 + (*turn / o->pages) * iv +
			(*turn % o->pages) * iv / o->pages;
		if (due > now)
			return due;
		p = &pages[*turn % o->pages];
		if (p->busy)
			p->late = 1;
		else
			page_ask(p, o->poll_path, &o->sub, ep);
		(*turn)++;
	}
}

/* run_pages opens the pages, then polls while the events are written,
 * until every page saw the last one or the deadline; fills w. */
static void run_pages(const struct opts *o, struct writer *wr,
	struct window *w, int64_t deadline)
{
	struct epoll_event evs[512];
	struct page *pages = calloc((size_t)o->pages, sizeof(*pages));
	int ep = epoll_create1(0), n, i;
	int64_t next;
	long turn = 0;
	pthread_t th;

	for (i = 0; i < o->pages; i++) {
		pages[i].idx = i;
		pages[i].seen = -1;
		pages[i].fd = -1;
		page_open(&pages[i], &o->sub, ep);
	}
	procs_sample(o, w->cpu0, w->rss0);
	w->self0 = self_cpu_s();
	w->t0 = now_ns();
	pthread_create(&th, NULL, writer_main, wr);
	while (now_ns() < deadline) {
		next = poll_turns(pages, o, ep, w->t0, &turn);
		if (pages_done == o->pages &&
			__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE))
			break;
		n = (int)((next - now_ns()) / 1000000);
		n = epoll_wait(ep, evs, 512, n < 0 ? 0 : n > 100 ? 100 : n);
		for (i = 0; i < n; i++)
			page_readable(evs[i].data.ptr, o, ep);
	}
	w->t1 = now_ns();
	procs_sample(o, w->cpu1, w->rss1);
	w->self1 = self_cpu_s();
	pthread_join(th, NULL);
	close(ep);
}

/* ---------------------------------------------------------------- set-up */

/* split_http fills w's HTTP writer from ADDR,METHOD,PATH,BODY (BODY may
 * hold commas). */
static void split_http(struct writer *w, char *spec)
{
	char *f[4];
	int i;

	for (i = 0; i < 3; i++) {
		f[i] = spec;
		spec = strchr(spec, ',');
		if (spec == NULL) {
			fprintf(stderr, "--http ADDR,METHOD,PATH,BODY\n");
			exit(2);
		}
		*spec++ = '\0';
	}
	f[3] = spec;
	addr_parse(&w->http, f[0]);
	w->method = f[1];
	w->path = f[2];
	w->body = f[3];
}

static void usage_exit(void)
{
	fputs(USAGE, stderr);
	exit(2);
}

/* split_at cuts s at its first comma and gives what follows, or exits. */
static char *split_at(char *s)
{
	char *comma = strchr(s, ',');

	if (comma == NULL)
		usage_exit();
	*comma = '\0';
	return comma + 1;
}

static void parse_args(int argc, char **argv, struct opts *o,
	struct writer *w)
{
	static const struct option table[] = {
		{ "sub", 1, NULL, 'a' }, { "sse-path", 1, NULL, 'p' },
		{ "ws-path", 1, NULL, 'q' }, { "sse", 1, NULL, 's' },
		{ "ws", 1, NULL, 'w' }, { "events", 1, NULL, 'e' },
		{ "rate", 1, NULL, 'r' }, { "seconds", 1, NULL, 't' },
		{ "pid", 1, NULL, 'P' }, { "sqlite", 1, NULL, 'd' },
		{ "http", 1, NULL, 'h' }, { "poll", 1, NULL, 'o' },
		{ "pages", 1, NULL, 'n' }, { "help", 0, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	char *rest;
	int c;

	while ((c = getopt_long(argc, argv, "", table, NULL)) != -1) {
		switch (c) {
		case 'a': addr_parse(&o->sub, optarg); o->have_sub = 1; break;
		case 'p': o->sse_path = optarg; break;
		case 'q': o->ws_path = optarg; break;
		case 's': o->n_sse = number(optarg, 0, 1000000, "--sse"); break;
		case 'w': o->n_ws = number(optarg, 0, 1000000, "--ws"); break;
		case 'e':
			n_events = number(optarg, 1, 10000000, "--events");
			break;
		case 'r': w->rate = strtod(optarg, NULL); break;
		case 't': o->max_s = number(optarg, 1, 86400, "--seconds"); break;
		case 'P':
			if (o->n_pids < MAX_PIDS)
				o->pids[o->n_pids++] = (int)number(optarg, 1,
					1 << 30, "--pid");
			break;
		case 'd':
			rest = split_at(optarg);
			if (sqlite3_open(optarg, &w->db) != SQLITE_OK)
				exit(1);
			w->doorbell = rest;
			break;
		case 'h': split_http(w, optarg); break;
		case 'o':
			rest = split_at(optarg);
			o->poll_path = optarg;
			o->poll_ms = number(rest, 10, 3600000, "--poll interval");
			break;
		case 'n': o->pages = number(optarg, 1, 1000000, "--pages"); break;
		case 'H': fputs(USAGE, stdout); exit(0);
		default: usage_exit();
		}
	}
}

/* check_opts refuses what cannot run, and sizes the receipt tables. */
static void check_opts(const struct opts *o, const struct writer *w)
{
	long cells;

	if (!o->have_sub || n_events <= 0 || o->n_pids == 0 ||
		(w->db == NULL && w->method == NULL))
		usage_exit();
	if (o->poll_path != NULL && (o->pages <= 0 || w->db != NULL)) {
		fprintf(stderr, "push_load: --poll needs --pages and --http\n");
		exit(2);
	}
	cells = (o->poll_path != NULL ? o->pages : o->n_sse + o->n_ws) *
		n_events;
	if (cells <= 0 || cells > 50000000) {
		fprintf(stderr, "push_load: subscribers (or pages) times events"
			" must be 1..50,000,000\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct writer w;
	struct window win;
	struct rlimit rl;
	int64_t deadline;
	long i, total;

	memset(&o, 0, sizeof(o));
	memset(&w, 0, sizeof(w));
	memset(&win, 0, sizeof(win));
	o.sse_path = "/push/events";
	o.ws_path = "/push/ws";
	o.max_s = 30;
	parse_args(argc, argv, &o, &w);
	check_opts(&o, &w);
	deadline = now_ns() + (int64_t)o.max_s * 1000000000;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (w.db != NULL) {
		sqlite3_busy_timeout(w.db, 5000);
		sqlite3_exec(w.db, "PRAGMA synchronous=NORMAL", NULL, NULL,
			NULL);
	}
	sent_ns = calloc((size_t)n_events, sizeof(*sent_ns));
	write_ns = calloc((size_t)n_events, sizeof(*write_ns));
	if (o.poll_path != NULL) {
		total = o.pages * n_events;
		vis_ns = malloc((size_t)total * sizeof(*vis_ns));
		for (i = 0; i < total; i++)
			vis_ns[i] = -1;
		run_pages(&o, &w, &win, deadline);
		report_pages(&o, &win, &w);
		return visible == total ? 0 : 1;
	}
	n_subs = o.n_sse + o.n_ws;
	total = n_subs * n_events;
	recv_ns = calloc((size_t)total, sizeof(*recv_ns));
	run_subs(&o, &w, &win, deadline);
	report_subs(&o, &win, &w);
	if (w.db != NULL)
		sqlite3_close(w.db);
	return deliveries == total ? 0 : 1;
}
