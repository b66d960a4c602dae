/* dbmap.c - one read-only memory map of a database file per process, shared by its connections. */
#include <fcntl.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dbmap.h"
#include "log.h"

/*
 * A wrapper around SQLite's default VFS. It passes every call through,
 * except three on a main database file:
 *
 * - xFetch hands out a pointer into the process's map of the file when
 *   the page lies inside the file as last seen (one fstat when a read
 *   reaches past that, after the file grew); otherwise NULL, and SQLite
 *   reads the page the usual way.
 * - xUnfetch does nothing: the map lives as long as the process (see
 *   map_get for why). SQLite asks for an unmap whenever
 *   another connection has written, because its map may have the old
 *   length; this map is longer than the file and follows it as it grows.
 * - SQLITE_FCNTL_MMAP_SIZE is answered here, so the file underneath never
 *   maps itself.
 *
 * Why it is safe: SQLite only fetches pages of its read snapshot that are
 * not in the WAL. A checkpoint writes a page into the file only when no
 * reader can still need its older content from the file, and a file only
 * shrinks to the size of the newest snapshot, so no page a reader can ask
 * for lies past the end. The map is MAP_SHARED and read-only: what a page
 * shows is the kernel's page cache, as a read() would give.
 */

struct dbmap {
	struct dbmap *next;
	dev_t dev;
	ino_t ino;
	int fd;
	unsigned char *base;
	size_t len;                   /* bytes of address space */
	_Atomic long long size;       /* bytes the file is known to hold */
	int refs;                     /* connections reading through it */
};

struct mfile {
	sqlite3_file base;
	struct dbmap *map;            /* NULL: not mapped */
	sqlite3_file *real;           /* the wrapped file, just after this */
};

/* Where the wrapped file starts: after ours, aligned for any type (the
 * real file holds 64-bit fields, which 32-bit ARM wants 8-aligned). */
#define MFILE_SIZE ((sizeof(struct mfile) + alignof(max_align_t) - 1) & \
	~(alignof(max_align_t) - 1))

static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dbmap *maps;
static _Atomic size_t map_len;       /* for maps made from now on */
static _Atomic unsigned long long n_fetch, n_miss;

static sqlite3_vfs *real_vfs(sqlite3_vfs *v)
{
	return v->pAppData;
}

/*
 * map_get returns this process's map of the file at path, made on first
 * use, or NULL (then reads go the usual way).
 *
 * The descriptor a map was made from is never closed. POSIX locks belong
 * to a process and a file, not to a descriptor: closing any descriptor of
 * the database drops every lock SQLite holds on it in this process, and
 * another process then takes itself for the last user, checkpoints and
 * deletes the WAL that this process goes on writing into (commits lost).
 * SQLite's own VFS keeps such descriptors open for the same reason. So a
 * map is looked up by stat() (no descriptor), made under the lock (never
 * two descriptors for one file), and kept, with its descriptor, for the
 * life of the process: one per database file, which a FastCGI process or
 * a command opens again and again.
 */
static struct dbmap *map_get(const char *path)
{
	struct dbmap *d;
	struct stat sb;
	int fd;
	void *base;
	size_t len;

	if (atomic_load(&map_len) == 0 || stat(path, &sb) != 0)
		return NULL;
	pthread_mutex_lock(&maps_lock);
	for (d = maps; d; d = d->next)
		if (d->dev == sb.st_dev && d->ino == sb.st_ino)
			goto found;
	d = calloc(1, sizeof(*d));
	fd = d ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		/* Left open if fstat failed: see above. */
		pthread_mutex_unlock(&maps_lock);
		free(d);
		return NULL;
	}
	len = atomic_load(&map_len);
	base = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED && (size_t)sb.st_size < len / 4) {
		/* A limit on address space (ulimit -v): room to grow 4x. */
		len = ((size_t)sb.st_size + (1u << 20)) * 4;
		base = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	}
	if (base == MAP_FAILED) {
		log_msg(LOG_INFO, "cannot map %s (%zu MiB): reading it "
			"without a map", path, atomic_load(&map_len) >> 20);
		base = NULL;          /* remembered: not tried again */
		len = 0;
	}
	d->dev = sb.st_dev;
	d->ino = sb.st_ino;
	d->fd = fd;
	d->base = base;
	d->len = len;
	atomic_store(&d->size, (long long)sb.st_size);
	d->next = maps;
	maps = d;
found:
	if (d->base)
		d->refs++;
	pthread_mutex_unlock(&maps_lock);
	return d->base ? d : NULL;
}

static void map_put(struct dbmap *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&maps_lock);
	d->refs--;
	pthread_mutex_unlock(&maps_lock);
}

/* covers tells whether the file holds end bytes, looking again at its
 * size when the last look says no. */
static int covers(struct dbmap *d, long long end)
{
	struct stat sb;
	long long seen = atomic_load(&d->size);

	if (end <= seen)
		return 1;
	if (fstat(d->fd, &sb) != 0)
		return 0;
	/* Only over the size read above: a truncate in between (which
	 * lowers it) wins, and this read then gives no page. */
	if (!atomic_compare_exchange_strong(&d->size, &seen,
	    (long long)sb.st_size))
		return 0;
	return end <= (long long)sb.st_size;
}

/* --- the file methods: a few of our own, the rest passed through --- */

#define REAL(f) (((struct mfile *)(f))->real)

static int m_close(sqlite3_file *f)
{
	struct mfile *m = (struct mfile *)f;
	int rc = m->real->pMethods->xClose(m->real);

	map_put(m->map);
	m->map = NULL;
	return rc;
}

static int m_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int m_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}

static int m_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct mfile *m = (struct mfile *)f;
	int rc = m->real->pMethods->xTruncate(m->real, size);

	if (m->map) {
		long long seen = atomic_load(&m->map->size);

		/* Lower it, never raise it, whatever covers() does meanwhile. */
		while (size < seen && !atomic_compare_exchange_weak(
		    &m->map->size, &seen, (long long)size))
			;
	}
	return rc;
}

static int m_sync(sqlite3_file *f, int flags)
{
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int m_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int m_lock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int m_unlock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int m_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int m_file_control(sqlite3_file *f, int op, void *arg)
{
	struct mfile *m = (struct mfile *)f;

	if (op == SQLITE_FCNTL_MMAP_SIZE) {
		/* Ours to answer: the file underneath must not map itself. */
		*(sqlite3_int64 *)arg = m->map ? (sqlite3_int64)m->map->len : 0;
		return SQLITE_OK;
	}
	return m->real->pMethods->xFileControl(m->real, op, arg);
}

static int m_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int m_device_chars(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int m_shm_map(sqlite3_file *f, int region, int size, int extend,
	void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, pp);
}

static int m_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void m_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int m_shm_unmap(sqlite3_file *f, int delete_flag)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int m_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	struct mfile *m = (struct mfile *)f;
	struct dbmap *d = m->map;

	*pp = NULL;
	if (!d || off < 0 || n <= 0 || (unsigned long long)off + (unsigned)n
	    > d->len || !covers(d, off + n)) {
		atomic_fetch_add_explicit(&n_miss, 1, memory_order_relaxed);
		return SQLITE_OK;
	}
	atomic_fetch_add_explicit(&n_fetch, 1, memory_order_relaxed);
	*pp = d->base + off;
	return SQLITE_OK;
}

static int m_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	(void)f;
	(void)off;
	(void)p;
	return SQLITE_OK;
}

static const sqlite3_io_methods mfile_methods = {
	.iVersion = 3,
	.xClose = m_close,
	.xRead = m_read,
	.xWrite = m_write,
	.xTruncate = m_truncate,
	.xSync = m_sync,
	.xFileSize = m_file_size,
	.xLock = m_lock,
	.xUnlock = m_unlock,
	.xCheckReservedLock = m_check_reserved,
	.xFileControl = m_file_control,
	.xSectorSize = m_sector_size,
	.xDeviceCharacteristics = m_device_chars,
	.xShmMap = m_shm_map,
	.xShmLock = m_shm_lock,
	.xShmBarrier = m_shm_barrier,
	.xShmUnmap = m_shm_unmap,
	.xFetch = m_fetch,
	.xUnfetch = m_unfetch,
};

/* --- the VFS: xOpen wraps, the rest passed through --- */

/* The method table by the version of the file underneath (1 to 3). */
static sqlite3_io_methods methods_v[4];

/* moved tells whether the file SQLite opened is no longer the one its
 * name leads to (SQLite asks the same before it trusts a WAL). */
static int moved(sqlite3_file *real)
{
	int has_moved = 0;

	if (real->pMethods->xFileControl(real, SQLITE_FCNTL_HAS_MOVED,
	    &has_moved) != SQLITE_OK)
		return 1;
	return has_moved != 0;
}

static int v_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f,
	int flags, int *out)
{
	struct mfile *m = (struct mfile *)f;
	sqlite3_vfs *r = real_vfs(v);
	int rc;

	m->map = NULL;
	m->real = (sqlite3_file *)((char *)m + MFILE_SIZE);
	m->real->pMethods = NULL;
	rc = r->xOpen(r, name, m->real, flags, out);
	if (m->real->pMethods == NULL) {
		f->pMethods = NULL;
		return rc;
	}
	/* The version of the file underneath: no shared memory to pass on
	 * below 2, no fetching below 3. */
	f->pMethods = &methods_v[m->real->pMethods->iVersion < 3 ?
		(m->real->pMethods->iVersion < 2 ? 1 : 2) : 3];
	if (rc == SQLITE_OK && (flags & SQLITE_OPEN_MAIN_DB) && name &&
	    f->pMethods->iVersion >= 3)
		m->map = map_get(name);
	if (m->map && moved(m->real)) {
		/* Renamed over between the open and the map's lookup: the
		 * map may show another file than the one SQLite locks. */
		map_put(m->map);
		m->map = NULL;
	}
	return rc;
}

static int v_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	return real_vfs(v)->xDelete(real_vfs(v), name, sync_dir);
}

static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	return real_vfs(v)->xAccess(real_vfs(v), name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *v, const char *name, int n,
	char *out)
{
	return real_vfs(v)->xFullPathname(real_vfs(v), name, n, out);
}

static void *v_dlopen(sqlite3_vfs *v, const char *name)
{
	return real_vfs(v)->xDlOpen(real_vfs(v), name);
}

static void v_dlerror(sqlite3_vfs *v, int n, char *out)
{
	real_vfs(v)->xDlError(real_vfs(v), n, out);
}

static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	return real_vfs(v)->xDlSym(real_vfs(v), h, sym);
}

static void v_dlclose(sqlite3_vfs *v, void *h)
{
	real_vfs(v)->xDlClose(real_vfs(v), h);
}

static int v_randomness(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs(v)->xRandomness(real_vfs(v), n, out);
}

static int v_sleep(sqlite3_vfs *v, int us)
{
	return real_vfs(v)->xSleep(real_vfs(v), us);
}

static int v_current_time(sqlite3_vfs *v, double *out)
{
	return real_vfs(v)->xCurrentTime(real_vfs(v), out);
}

static int v_last_error(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs(v)->xGetLastError(real_vfs(v), n, out);
}

static int v_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	return real_vfs(v)->xCurrentTimeInt64(real_vfs(v), out);
}

static sqlite3_vfs map_vfs;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int registered = -1;

static void do_register(void)
{
	sqlite3_vfs *r = sqlite3_vfs_find(NULL);

	/* Version 2 is what this wrapper passes on (no system-call hooks). */
	if (r == NULL || r->iVersion < 2)
		return;
	map_vfs.iVersion = 2;
	map_vfs.szOsFile = (int)MFILE_SIZE + r->szOsFile;
	map_vfs.mxPathname = r->mxPathname;
	map_vfs.zName = DBMAP_VFS;
	map_vfs.pAppData = r;
	map_vfs.xOpen = v_open;
	map_vfs.xDelete = v_delete;
	map_vfs.xAccess = v_access;
	map_vfs.xFullPathname = v_full_pathname;
	map_vfs.xDlOpen = v_dlopen;
	map_vfs.xDlError = v_dlerror;
	map_vfs.xDlSym = v_dlsym;
	map_vfs.xDlClose = v_dlclose;
	map_vfs.xRandomness = v_randomness;
	map_vfs.xSleep = v_sleep;
	map_vfs.xCurrentTime = v_current_time;
	map_vfs.xGetLastError = v_last_error;
	map_vfs.xCurrentTimeInt64 = v_current_time64;
	for (int v = 1; v <= 3; v++) {
		methods_v[v] = mfile_methods;
		methods_v[v].iVersion = v;
	}
	if (sqlite3_vfs_register(&map_vfs, 0) == SQLITE_OK)
		registered = 0;
}

int dbmap_register(size_t len)
{
	pthread_once(&once, do_register);
	pthread_mutex_lock(&maps_lock);
	/* A map made already keeps its length; new ones take this one. */
	map_len = len;
	pthread_mutex_unlock(&maps_lock);
	return registered;
}

void dbmap_stats(struct dbmap_stats *out)
{
	struct dbmap *d;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&maps_lock);
	for (d = maps; d; d = d->next) {
		if (d->base)
			out->maps++;
		out->readers += d->refs;
	}
	pthread_mutex_unlock(&maps_lock);
	out->fetches = atomic_load(&n_fetch);
	out->misses = atomic_load(&n_miss);
}
