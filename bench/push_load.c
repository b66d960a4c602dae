/* push_load.c - load client for flowpushd: many SSE and WebSocket subscribers, journal rows written straight into SQLite, latency from COMMIT to receipt. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
 * Usage: push_load PORT DB DOORBELL SSE WS EVENTS RATE MAX_SECONDS PID
 * Opens SSE + WS subscribers to 127.0.0.1:PORT, then writes EVENTS journal
 * rows into DB at RATE per second (0: as fast as possible), ringing
 * DOORBELL after each COMMIT. Prints one JSON line of results. Stops after
 * MAX_SECONDS whatever happens. PID is the daemon's, for /proc figures.
 */

struct sub {
	int fd;
	int ws;
	int ready;          /* response headers seen */
	char *buf;
	size_t len, cap;
	long got;
};

static int64_t *commit_ns;  /* by seq - base */
static int64_t base_seq;
static long n_events;
/* The daemon's Unix socket when ADDRESS is unix:PATH, else NULL: TCP. */
static const char *unix_path;
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

static void record(int64_t seq, int64_t t)
{
	int64_t i = seq - base_seq - 1;
	int64_t c;

	if (i < 0 || i >= n_events)
		return;
	c = __atomic_load_n(&commit_ns[i], __ATOMIC_ACQUIRE);
	if (n_lat < cap_lat)
		lat[n_lat++] = c > 0 ? (double)(t - c) / 1e6 : 0.0;
	deliveries++;
}

/* sub_connect connects like nginx would: to 127.0.0.1:port, or to the
 * daemon's Unix socket. */
static void sub_connect(struct sub *s, int port, const char *path, int ws)
{
	struct sockaddr_in sa;
	struct sockaddr_un su;
	char req[512];
	int n, rc, one = 1;

	s->ws = ws;
	if (unix_path != NULL) {
		s->fd = socket(AF_UNIX, SOCK_STREAM, 0);
		memset(&su, 0, sizeof(su));
		su.sun_family = AF_UNIX;
		snprintf(su.sun_path, sizeof(su.sun_path), "%s", unix_path);
		rc = connect(s->fd, (struct sockaddr *)&su, sizeof(su));
	} else {
		s->fd = socket(AF_INET, SOCK_STREAM, 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one,
			sizeof(one));
		rc = connect(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (rc != 0) {
		perror("connect");
		exit(1);
	}
	if (ws)
		n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1"
			"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n", path);
	else
		/* HTTP/1.0: the stream comes without chunk framing. */
		n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: "
			"127.0.0.1\r\n\r\n", path);
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
			if ((b[0] & 0x0f) == 1 && n > 8 &&
				memcmp(b + h, "{\"seq\":", 7) == 0) {
				record(strtoll((char *)b + h + 7, NULL, 10), t);
				s->got++;
			}
			off += h + (size_t)n;
		} else {
			char *nl = memchr(s->buf + off, '\n', s->len - off);

			if (nl == NULL)
				break;
			if (nl - (s->buf + off) > 4 &&
				memcmp(s->buf + off, "id: ", 4) == 0) {
				record(strtoll(s->buf + off + 4, NULL, 10), t);
				s->got++;
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
	sqlite3 *db;
	const char *doorbell;
	double rate;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct sockaddr_un sa;
	sqlite3_stmt *st;
	char data[512], pad[301];
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
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
		snprintf(data, sizeof(data), "{\"n\":%ld,\"pad\":\"%s\"}", i, pad);
		sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_int64(st, 1, i + 1);
		sqlite3_bind_text(st, 2, data, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL);
		__atomic_store_n(&commit_ns[sqlite3_last_insert_rowid(w->db) -
			base_seq - 1], now_ns(), __ATOMIC_RELEASE);
		sendto(fd, "!", 1, MSG_DONTWAIT, (struct sockaddr *)&sa,
			sizeof(sa));
		if (w->rate > 0)
			usleep((useconds_t)(1e6 / w->rate));
	}
	sqlite3_finalize(st);
	close(fd);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int port, n_sse, n_ws, pid, ep, i, n, max_s;
	struct sub *subs;
	struct epoll_event evs[512];
	struct writer w;
	struct rlimit rl;
	pthread_t th;
	long rss0, rss1, cpu0, cpu1, tick = sysconf(_SC_CLK_TCK), total;
	int64_t t_start, t0, t1 = 0, deadline;
	sqlite3_stmt *st;

	if (argc != 10) {
		fprintf(stderr, "usage: push_load PORT|unix:PATH DB DOORBELL "
			"SSE WS EVENTS RATE MAX_SECONDS PID\n");
		return 2;
	}
	port = 0;
	if (strncmp(argv[1], "unix:", 5) == 0)
		unix_path = argv[1] + 5;
	else
		port = (int)strtol(argv[1], NULL, 10);
	n_sse = (int)strtol(argv[4], NULL, 10);
	n_ws = (int)strtol(argv[5], NULL, 10);
	n_events = strtol(argv[6], NULL, 10);
	w.rate = strtod(argv[7], NULL);
	max_s = (int)strtol(argv[8], NULL, 10);
	pid = (int)strtol(argv[9], NULL, 10);
	w.doorbell = argv[3];
	t_start = now_ns();
	deadline = t_start + (int64_t)max_s * 1000000000;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);

	if (sqlite3_open(argv[2], &w.db) != SQLITE_OK)
		return 1;
	sqlite3_busy_timeout(w.db, 5000);
	sqlite3_exec(w.db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	sqlite3_prepare_v2(w.db, "SELECT coalesce(max(seq),0) FROM journal",
		-1, &st, NULL);
	sqlite3_step(st);
	base_seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	commit_ns = calloc((size_t)n_events + 1, sizeof(*commit_ns));
	cap_lat = (long)(n_sse + n_ws) * n_events;
	lat = malloc((size_t)cap_lat * sizeof(*lat) + 8);

	rss0 = proc_rss_kb(pid);
	ep = epoll_create1(0);
	subs = calloc((size_t)(n_sse + n_ws), sizeof(*subs));
	for (i = 0; i < n_sse + n_ws; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &subs[i] };
		int both = 2 * (n_sse < n_ws ? n_sse : n_ws);
		/* alternate SSE and WS while both remain */
		int ws = i < both ? i % 2 : n_ws > n_sse;

		sub_connect(&subs[i], port, ws ? "/push/ws" : "/push/events", ws);
		epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
		/* keep the accept queue short */
		if (i % 200 == 199) {
			n = epoll_wait(ep, evs, 512, 10);
			while (n-- > 0)
				on_readable(evs[n].data.ptr);
		}
	}
	/* wait until every subscriber has its response headers */
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
	usleep(300000);
	rss1 = proc_rss_kb(pid);
	cpu0 = proc_cpu_ticks(pid);
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
	cpu1 = proc_cpu_ticks(pid);
	pthread_join(th, NULL);
	qsort(lat, (size_t)n_lat, sizeof(*lat), cmp_double);
	printf("{\"subscribers\":%d,\"sse\":%d,\"ws\":%d,\"events\":%ld,"
		"\"deliveries\":%ld,\"expected\":%ld,"
		"\"rss_idle_kb\":%ld,\"rss_connected_kb\":%ld,"
		"\"kb_per_subscriber\":%.2f,"
		"\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
		"\"seconds\":%.3f,\"deliveries_per_s\":%.0f,"
		"\"cpu_s\":%.3f,\"cpu_us_per_delivery\":%.3f}\n",
		n_sse + n_ws, n_sse, n_ws, n_events, deliveries, total,
		rss0, rss1,
		n_sse + n_ws ? (double)(rss1 - rss0) / (n_sse + n_ws) : 0,
		n_lat ? lat[n_lat / 2] : 0, n_lat ? lat[n_lat * 99 / 100] : 0,
		n_lat ? lat[n_lat - 1] : 0,
		(double)(t1 - t0) / 1e9,
		t1 > t0 ? deliveries / ((double)(t1 - t0) / 1e9) : 0,
		(double)(cpu1 - cpu0) / tick,
		deliveries ? (double)(cpu1 - cpu0) / tick * 1e6 / deliveries : 0);
	sqlite3_close(w.db);
	return deliveries == total ? 0 : 1;
}
