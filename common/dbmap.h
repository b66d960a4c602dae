/* dbmap.h - one read-only memory map of a database file per process, shared by its connections. */
#ifndef FLOWPUSH_DBMAP_H
#define FLOWPUSH_DBMAP_H

#include <stddef.h>

/* The name of the SQLite VFS that reads through the shared maps. */
#define DBMAP_VFS "flowpush-map"

/*
 * dbmap_register makes the VFS DBMAP_VFS known to SQLite (once per
 * process; later calls only change the length). Each database file it
 * opens is mapped once per process, len bytes of address space whatever
 * the file's size, and every connection of the process reads its pages
 * from that one map: a page one thread has read costs the others nothing,
 * and a commit elsewhere does not drop the map (SQLite's own memory map
 * is per connection and is dropped whenever another connection writes).
 * Returns 0, or -1 when SQLite has no such VFS to wrap.
 */
int dbmap_register(size_t len);

/* What the maps of this process hold, for tests and metrics. */
struct dbmap_stats {
	int maps;                     /* files mapped (kept for the process's life) */
	int readers;                  /* connections reading through them */
	unsigned long long fetches;   /* pages handed out from a map */
	unsigned long long misses;    /* pages read the usual way */
};

void dbmap_stats(struct dbmap_stats *out);

#endif
