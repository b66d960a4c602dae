/* apimetrics.c - the API's request counters, shared by every process through one mapped file. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apimetrics.h"
#include "strbuf.h"

/* Processes add to the same words: the atomics must not hide a lock. */
#if ATOMIC_LLONG_LOCK_FREE != 2
#error "flowpush's API metrics need lock-free 64-bit atomics"
#endif

#define APIMETRICS_MAGIC 0x66706d6574726963ULL /* "fpmetric" */
#define APIMETRICS_STATUSES 600  /* index = HTTP status; 0 = other */

const unsigned apimetrics_le[APIMETRICS_BUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
};

struct apimetrics_slot {
	_Atomic uint64_t status[APIMETRICS_STATUSES];
	_Atomic uint64_t le[APIMETRICS_BUCKETS + 1];
	_Atomic uint64_t sum_us;
	_Atomic uint64_t count;
};

struct apimetrics_file {
	_Atomic uint64_t layout;      /* magic ^ the layout, once cleared */
	uint64_t reserved[7];
	struct apimetrics_slot slot[];
};

/* layout_of names a file's shape: a file of another shape is cleared. */
static uint64_t layout_of(size_t nslots, uint64_t tag)
{
	return APIMETRICS_MAGIC ^ tag ^ ((uint64_t)nslots << 48 ^
		(uint64_t)APIMETRICS_STATUSES << 24 ^ APIMETRICS_BUCKETS ^
		(uint64_t)sizeof(struct apimetrics_slot) << 8);
}

/* file_ready makes the mapped file f of nslots (tagged tag) hold our layout, clearing
 * it once when it held another; the caller holds the flock. */
static void file_ready(struct apimetrics_file *f, size_t nslots,
	uint64_t tag)
{
	uint64_t want = layout_of(nslots, tag);
	size_t i, j;

	if (atomic_load(&f->layout) == want)
		return;
	for (i = 0; i < nslots; i++) {
		struct apimetrics_slot *s = &f->slot[i];

		for (j = 0; j < APIMETRICS_STATUSES; j++)
			atomic_store(&s->status[j], 0);
		for (j = 0; j <= APIMETRICS_BUCKETS; j++)
			atomic_store(&s->le[j], 0);
		atomic_store(&s->sum_us, 0);
		atomic_store(&s->count, 0);
	}
	atomic_store(&f->layout, want);
}

/* map_locked maps fd (locked by the caller) at size bytes, growing the
 * file first. Returns the mapping, or MAP_FAILED with errno set. */
static void *map_locked(int fd, size_t size)
{
	struct stat sb;
	int rc;

	if (fstat(fd, &sb) < 0)
		return MAP_FAILED;
	/* Blocks reserved, not a sparse hole: a full disk must fail here,
	 * not as SIGBUS on a later write through the mapping. */
	if ((size_t)sb.st_size < size) {
		rc = posix_fallocate(fd, 0, (off_t)size);
		if (rc != 0) {
			errno = rc;
			return MAP_FAILED;
		}
	}
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

int apimetrics_open(struct apimetrics *m, const char *path, size_t nslots,
	uint64_t tag, struct ferr *err)
{
	size_t size = sizeof(struct apimetrics_file) +
		nslots * sizeof(struct apimetrics_slot);
	void *map = MAP_FAILED;
	int fd;

	memset(m, 0, sizeof(*m));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0)
		return ferr_set(err, 500, "metrics_file", "Cannot open %s: %s",
			path, strerror(errno));
	if (flock(fd, LOCK_EX) == 0)
		map = map_locked(fd, size);
	if (map == MAP_FAILED) {
		ferr_set(err, 500, "metrics_file", "Cannot map %s: %s", path,
			strerror(errno));
	} else {
		file_ready(map, nslots, tag);
		m->file = map;
		m->size = size;
		m->nslots = nslots;
	}
	/* Unlocked by hand: the mapping keeps the open file alive, and with
	 * it a lock that close() alone would leave to block every other
	 * process for as long as this one runs. */
	flock(fd, LOCK_UN);
	close(fd);
	return m->file != NULL ? 0 : -1;
}

void apimetrics_close(struct apimetrics *m)
{
	if (m->file != NULL)
		munmap(m->file, m->size);
	memset(m, 0, sizeof(*m));
}

void apimetrics_count(struct apimetrics *m, size_t slot, int status,
	uint64_t us)
{
	struct apimetrics_slot *s;
	size_t i = 0;

	if (m->file == NULL || slot >= m->nslots)
		return;
	s = &m->file->slot[slot];
	if (status < 100 || status >= APIMETRICS_STATUSES)
		status = 0;
	while (i < APIMETRICS_BUCKETS && us > (uint64_t)apimetrics_le[i] * 1000)
		i++;
	atomic_fetch_add_explicit(&s->status[status], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->le[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

static uint64_t get(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* requests writes the counts by status of every slot that has any. */
static void requests(struct strbuf *b, const struct apimetrics *m,
	const struct apimetrics_label *labels)
{
	size_t i, j;

	strbuf_adds(b, "# HELP flowpush_api_requests_total API requests "
		"answered, by route, method and status.\n# TYPE "
		"flowpush_api_requests_total counter\n");
	for (i = 0; i < m->nslots; i++)
		for (j = 0; j < APIMETRICS_STATUSES; j++) {
			uint64_t n = get(&m->file->slot[i].status[j]);
			char st[8];

			if (n == 0)
				continue;
			snprintf(st, sizeof(st), "%zu", j);
			strbuf_addf(b, "flowpush_api_requests_total{route=\"%s\","
				"method=\"%s\",status=\"%s\"} %" PRIu64 "\n",
				labels[i].route, labels[i].method,
				j == 0 ? "other" : st, n);
		}
}

/* errors writes the 4xx and 5xx answers of every slot that answered. */
static void errors(struct strbuf *b, const struct apimetrics *m,
	const struct apimetrics_label *labels)
{
	size_t i, j;

	strbuf_adds(b, "# HELP flowpush_api_errors_total API answers with an "
		"error status, by route and method: client (4xx) or server "
		"(5xx).\n# TYPE flowpush_api_errors_total counter\n");
	for (i = 0; i < m->nslots; i++) {
		struct apimetrics_slot *s = &m->file->slot[i];
		uint64_t client = 0, server = 0;

		if (get(&s->count) == 0)
			continue;
		for (j = 400; j < 500; j++)
			client += get(&s->status[j]);
		for (j = 500; j < APIMETRICS_STATUSES; j++)
			server += get(&s->status[j]);
		strbuf_addf(b, "flowpush_api_errors_total{route=\"%s\",method="
			"\"%s\",class=\"client\"} %" PRIu64 "\n"
			"flowpush_api_errors_total{route=\"%s\",method=\"%s\","
			"class=\"server\"} %" PRIu64 "\n", labels[i].route,
			labels[i].method, client, labels[i].route,
			labels[i].method, server);
	}
}

/* latency writes the histogram of every slot that answered. */
static void latency(struct strbuf *b, const struct apimetrics *m,
	const struct apimetrics_label *labels)
{
	size_t i, j;

	strbuf_adds(b, "# HELP flowpush_api_request_ms From reading a request "
		"to its answer handed to the web server, ms.\n# TYPE "
		"flowpush_api_request_ms histogram\n");
	for (i = 0; i < m->nslots; i++) {
		struct apimetrics_slot *s = &m->file->slot[i];
		const char *r = labels[i].route, *me = labels[i].method;
		uint64_t n = 0, us = get(&s->sum_us);

		if (get(&s->count) == 0)
			continue;
		for (j = 0; j < APIMETRICS_BUCKETS; j++) {
			n += get(&s->le[j]);
			strbuf_addf(b, "flowpush_api_request_ms_bucket{route="
				"\"%s\",method=\"%s\",le=\"%u\"} %" PRIu64 "\n",
				r, me, apimetrics_le[j], n);
		}
		n += get(&s->le[APIMETRICS_BUCKETS]);
		strbuf_addf(b, "flowpush_api_request_ms_bucket{route=\"%s\","
			"method=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
			"flowpush_api_request_ms_sum{route=\"%s\",method=\"%s\"}"
			" %" PRIu64 ".%03" PRIu64 "\n"
			"flowpush_api_request_ms_count{route=\"%s\",method="
			"\"%s\"} %" PRIu64 "\n", r, me, n, r, me, us / 1000,
			us % 1000, r, me, n);
	}
}

char *apimetrics_render(const struct apimetrics *m,
	const struct apimetrics_label *labels, size_t *len)
{
	struct strbuf b = { NULL, 0, 0, 0 };

	if (m->file == NULL)
		return NULL;
	requests(&b, m, labels);
	errors(&b, m, labels);
	latency(&b, m, labels);
	if (b.failed) {
		strbuf_release(&b);
		return NULL;
	}
	*len = b.len;
	return strbuf_take(&b);
}
