/* push_load.c - load client for push servers (flowpushd directly or through a web server, nchan): many SSE and WebSocket subscribers, events written through SQLite or over HTTP, latency from the write to each receipt. */
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
 * Usage: push_load --sub ADDR [--sse-path P] [--ws-path P] --sse N --ws N
 *                  --events N --rate R --seconds S --pid PID [--pid PID...]
 *                  (--sqlite DB,DOORBELL | --http ADDR,METHOD,PATH,BODY)
 *
 * Opens N SSE and N WebSocket subscribers at ADDR (127.0.0.1:PORT, PORT,
 * or unix:PATH), then writes EVENTS events at RATE per second (0: as fast
 * as possible): journal rows straight into DB, ringing DOORBELL after each
 * COMMIT, or HTTP requests to ADDR on one kept-alive connection, BODY with
 * %ld replaced by the event's number, each sent when the previous answer
 * came. Every event carries the marker "bench-N"; a subscriber's message
 * is matched to its event by it, whatever server framed it, so latency is
 * from the COMMIT (SQLite) or from the request being sent (HTTP) to the
 * receipt. Prints one JSON line of results: CPU and RSS of the processes
 * given with --pid (summed; the first is "the server"), and the client's
 * own CPU. Stops after S seconds whatever happens.
 */

struct addr {
	int port;
	const char *unix_path;     /* NULL: TCP on 127.0.0.1 */
};

struct sub {
	int fd;
	int ws;
	int ready;          /* response headers seen */
	char *buf;
	size_t len, cap;
	long got;
};

static int64_t *sent_ns;    /* by event number: when it was written */
static long n_events;
static double *lat;          /* ms, one per delivery */
static long n_lat, cap_lat;
static long deliveries;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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

/* record counts a receipt of event number i at t. */
static void record(long i, int64_t t)
{
	int64_t c;

	if (i < 0 || i >= n_events)
		return;
	c = __atomic_load_n(&sent_ns[i], __ATOMIC_ACQUIRE);
	if (n_lat < cap_lat)
		lat[n_lat++] = c > 0 ? (double)(t - c) / 1e6 : 0.0;
	deliveries++;
}

/* marker finds "bench-N" in p[0..n) and gives N, or -1. */
static long marker(const char *p, size_t n)
{
	const char *m = memmem(p, n, "bench-", 6);

	if (m == NULL || m + 6 >= p + n)
		return -1;
	return strtol(m + 6, NULL, 10);
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
	a->port = (int)strtol(colon != NULL ? colon + 1 : s, NULL, 10);
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
	while (off < s->len) {
		if (s->ws) {
			uint64_t n;
			size_t h = 2;
			unsigned char *b = (unsigned char *)s->buf + off;

			if (s->len - off < 2)
				break;
			n = b[1] & 0x7f;
			if (n == 126) {
				if (s->len - off < 4)
					break;
				n = ((uint64_t)b[2] << 8) | b[3];
				h = 4;
			} else if (n == 127) {
				int i;

				if (s->len - off < 10)
					break;
				for (n = 0, i = 0; i < 8; i++)
					n = (n << 8) | b[2 + i];
				h = 10;
			}
			if (s->len - off < h + n)
				break;
			if ((b[0] & 0x0f) == 1) {
				long i = marker((char *)b + h, (size_t)n);

				if (i >= 0) {
					record(i, t);
					s->got++;
				}
			}
			off += h + (size_t)n;
		} else {
			char *nl = memchr(s->buf + off, '\n', s->len - off);

			if (nl == NULL)
				break;
			if (nl - (s->buf + off) > 6 &&
				memcmp(s->buf + off, "data: ", 6) == 0) {
				long i = marker(s->buf + off,
					(size_t)(nl - (s->buf + off)));

				if (i >= 0) {
					record(i, t);
					s->got++;
				}
			}
			off = (size_t)(nl - s->buf) + 1;
		}
	}
	return off;
}

static int on_readable(struct sub *s)
{
	int64_t t;
	ssize_t n;
	size_t used;

	for (;;) {
		if (s->cap - s->len < 65536) {
			s->cap = s->cap * 2 + 65536;
			s->buf = realloc(s->buf, s->cap);
		}
		n = read(s->fd, s->buf + s->len, s->cap - s->len);
		if (n <= 0)
			return n == 0 ? -1 : 0;
		t = now_ns();
		s->len += (size_t)n;
		used = consume(s, t);
		memmove(s->buf, s->buf + used, s->len - used);
		s->len -= used;
	}
}

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
	int64_t t0 = now_ns();
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
		sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_int64(st, 1, i + 1);
		sqlite3_bind_text(st, 2, data, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL);
		__atomic_store_n(&sent_ns[i], now_ns(), __ATOMIC_RELEASE);
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
	int64_t t0 = now_ns();
	long i;

	for (i = 0; i < n_events; i++) {
		pace(w, t0, i);
		snprintf(body, sizeof(body), w->body, i);
		n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: "
			"127.0.0.1\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\n\r\n%s", w->method, w->path,
			strlen(body), body);
		__atomic_store_n(&sent_ns[i], now_ns(), __ATOMIC_RELEASE);
		if (write(fd, req, (size_t)n) != n) {
			perror("write");
			exit(1);
		}
		status = http_answer(fd);
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
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define MAX_PIDS 8

static long pids_cpu(const int *pids, int n)
{
	long sum = 0, c;
	int i;

	for (i = 0; i < n; i++)
		if ((c = proc_cpu_ticks(pids[i])) > 0)
			sum += c;
	return sum;
}

static long pids_rss(const int *pids, int n)
{
	long sum = 0, k;
	int i;

	for (i = 0; i < n; i++)
		if ((k = proc_rss_kb(pids[i])) > 0)
			sum += k;
	return sum;
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

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

static void usage(void)
{
	fprintf(stderr, "usage: push_load --sub ADDR [--sse-path P] "
		"[--ws-path P] --sse N --ws N --events N --rate R --seconds S "
		"--pid PID... (--sqlite DB,DOORBELL | --http ADDR,METHOD,PATH,"
		"BODY)\n");
	exit(2);
}

/* open_all connects every subscriber and waits for their response
 * headers (or the deadline). */
static void open_all(int ep, struct sub *subs, int n_sse, int n_ws,
	const struct addr *sub, const char *sse_path, const char *ws_path,
	int64_t deadline)
{
	struct epoll_event evs[512];
	int i, n, both = 2 * (n_sse < n_ws ? n_sse : n_ws);

	for (i = 0; i < n_sse + n_ws; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &subs[i] };
		/* alternate SSE and WS while both remain */
		int ws = i < both ? i % 2 : n_ws > n_sse;

		sub_connect(&subs[i], sub, ws ? ws_path : sse_path, ws);
		epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
		/* keep the accept queue short */
		if (i % 200 == 199) {
			n = epoll_wait(ep, evs, 512, 10);
			while (n-- > 0)
				on_readable(evs[n].data.ptr);
		}
	}
	for (;;) {
		int ready = 0;

		for (i = 0; i < n_sse + n_ws; i++)
			ready += subs[i].ready;
		if (ready == n_sse + n_ws || now_ns() > deadline)
			break;
		n = epoll_wait(ep, evs, 512, 100);
		while (n-- > 0)
			on_readable(evs[n].data.ptr);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sub", 1, NULL, 'a' }, { "sse-path", 1, NULL, 'p' },
		{ "ws-path", 1, NULL, 'q' }, { "sse", 1, NULL, 's' },
		{ "ws", 1, NULL, 'w' }, { "events", 1, NULL, 'e' },
		{ "rate", 1, NULL, 'r' }, { "seconds", 1, NULL, 't' },
		{ "pid", 1, NULL, 'P' }, { "sqlite", 1, NULL, 'd' },
		{ "http", 1, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *sse_path = "/push/events", *ws_path = "/push/ws";
	int n_sse = 0, n_ws = 0, pids[MAX_PIDS], n_pids = 0, ep, i, n, c;
	int max_s = 30, have_sub = 0;
	struct addr sub;
	struct sub *subs;
	struct epoll_event evs[512];
	struct writer w;
	struct rlimit rl;
	pthread_t th;
	long rss0, rss1, cpu0, cpu1, tick = sysconf(_SC_CLK_TCK), total;
	long cpu_each[MAX_PIDS];
	double self0, self1;
	int64_t t0, t1 = 0, deadline;
	char *comma;

	memset(&w, 0, sizeof(w));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': addr_parse(&sub, optarg); have_sub = 1; break;
		case 'p': sse_path = optarg; break;
		case 'q': ws_path = optarg; break;
		case 's': n_sse = atoi(optarg); break;
		case 'w': n_ws = atoi(optarg); break;
		case 'e': n_events = atol(optarg); break;
		case 'r': w.rate = strtod(optarg, NULL); break;
		case 't': max_s = atoi(optarg); break;
		case 'P':
			if (n_pids < MAX_PIDS)
				pids[n_pids++] = atoi(optarg);
			break;
		case 'd':
			comma = strchr(optarg, ',');
			if (comma == NULL)
				usage();
			*comma = '\0';
			if (sqlite3_open(optarg, &w.db) != SQLITE_OK)
				return 1;
			w.doorbell = comma + 1;
			break;
		case 'h': split_http(&w, optarg); break;
		default: usage();
		}
	}
	if (!have_sub || n_events <= 0 || n_pids == 0 ||
		(w.db == NULL && w.method == NULL))
		usage();
	deadline = now_ns() + (int64_t)max_s * 1000000000;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (w.db != NULL) {
		sqlite3_busy_timeout(w.db, 5000);
		sqlite3_exec(w.db, "PRAGMA synchronous=NORMAL", NULL, NULL,
			NULL);
	}
	sent_ns = calloc((size_t)n_events + 1, sizeof(*sent_ns));
	cap_lat = (long)(n_sse + n_ws) * n_events;
	lat = malloc((size_t)cap_lat * sizeof(*lat) + 8);

	rss0 = pids_rss(pids, n_pids);
	ep = epoll_create1(0);
	subs = calloc((size_t)(n_sse + n_ws), sizeof(*subs));
	open_all(ep, subs, n_sse, n_ws, &sub, sse_path, ws_path, deadline);
	usleep(300000);
	rss1 = pids_rss(pids, n_pids);
	cpu0 = pids_cpu(pids, n_pids);
	for (i = 0; i < n_pids; i++)
		cpu_each[i] = proc_cpu_ticks(pids[i]);
	self0 = self_cpu_s();
	t0 = now_ns();
	pthread_create(&th, NULL, writer_main, &w);
	total = (long)(n_sse + n_ws) * n_events;
	while (deliveries < total && now_ns() < deadline) {
		n = epoll_wait(ep, evs, 512, 100);
		for (i = 0; i < n; i++)
			if (on_readable(evs[i].data.ptr) < 0) {
				struct sub *s = evs[i].data.ptr;

				epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
			}
		if (n > 0)
			t1 = now_ns();
	}
	cpu1 = pids_cpu(pids, n_pids);
	for (i = 0; i < n_pids; i++)
		cpu_each[i] = proc_cpu_ticks(pids[i]) - cpu_each[i];
	self1 = self_cpu_s();
	pthread_join(th, NULL);
	qsort(lat, (size_t)n_lat, sizeof(*lat), cmp_double);
	printf("{\"subscribers\":%d,\"sse\":%d,\"ws\":%d,\"events\":%ld,"
		"\"deliveries\":%ld,\"expected\":%ld,\"write_errors\":%ld,"
		"\"rss_idle_kb\":%ld,\"rss_connected_kb\":%ld,"
		"\"kb_per_subscriber\":%.2f,"
		"\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
		"\"seconds\":%.3f,\"deliveries_per_s\":%.0f,"
		"\"cpu_s\":%.3f,\"cpu_us_per_delivery\":%.3f,"
		"\"client_cpu_s\":%.3f,\"cpu_s_by_pid\":[",
		n_sse + n_ws, n_sse, n_ws, n_events, deliveries, total,
		w.errors, rss0, rss1,
		n_sse + n_ws ? (double)(rss1 - rss0) / (n_sse + n_ws) : 0,
		n_lat ? lat[n_lat / 2] : 0, n_lat ? lat[n_lat * 99 / 100] : 0,
		n_lat ? lat[n_lat - 1] : 0,
		(double)(t1 - t0) / 1e9,
		t1 > t0 ? deliveries / ((double)(t1 - t0) / 1e9) : 0,
		(double)(cpu1 - cpu0) / tick,
		deliveries ? (double)(cpu1 - cpu0) / tick * 1e6 / deliveries : 0,
		self1 - self0);
	for (i = 0; i < n_pids; i++)
		printf("%s%.3f", i ? "," : "", (double)cpu_each[i] / tick);
	printf("]}\n");
	if (w.db != NULL)
		sqlite3_close(w.db);
	return deliveries == total ? 0 : 1;
}
