/* config.h - the configuration struct, its key table, file and env. */
#ifndef FP_CONFIG_H
#define FP_CONFIG_H

#include <stdio.h>
#include "ferr.h"

/*
 * Every key lives in the table in config.c (name, type, offset, default,
 * help). A config file holds "key = value" lines, '#' comments and blank
 * lines. After the file, each key may be overridden by the environment
 * variable FLOWPUSH_<KEY> in upper case (e.g. FLOWPUSH_DATABASE).
 */
struct config {
	char *path;              /* the file loaded, or NULL */
	char *database;          /* SQLite file */
	char *doorbell;          /* flowpushd datagram socket; "" none */
	char *secret;            /* token HMAC secret (hex); "" = tokens off */
	long token_ttl;          /* seconds a token from /api/token lives */
	long body_limit;         /* largest request body, bytes */
	long changes_max_bytes;  /* most event bytes in one /api/changes */
	int require_user;        /* writes need REMOTE_USER */
	long threads;            /* FastCGI worker threads */
	long busy_timeout_ms;    /* SQLite busy timeout before 503 */
	long mmap_mb;            /* SQLite memory-mapped I/O, MiB; 0 = off */
	long wal_checkpoint_pages; /* checkpoint thread wakes; 0 = off */
	long wal_max_pages;      /* past it, a RESTART checkpoint */
	long max_rules;          /* most rules in one keyword set */
	long changes_wait_max;   /* longest wait= for /api/changes, seconds */
	int api_metrics;         /* count requests in <database>-metrics */
	char *log_level;         /* error|warn|info|debug */
	char *log_file;          /* "" = stderr */
	/* flowpushd */
	char *push_listen;       /* address to bind */
	long push_port;          /* port to bind */
	long push_heartbeat;     /* seconds between SSE comments / WS pings */
	long push_retry_ms;      /* SSE retry: */
	long push_poll_ms;       /* data_version safety-net period */
	long push_ring_size;     /* events kept in memory */
	long push_ring_bytes;      /* bytes of events kept in memory */
	long push_client_frame_rate; /* WebSocket frames a client may send a second */
	long push_max_connections;
	long push_outbound_cap;  /* bytes queued per connection before drop */
	long push_dispatch_timeout_ms; /* longest a queue may stay unwritten */
	/* WebSocket Origin allow-list, comma-separated; "" = same origin */
	char *topic_grants;
	char *roles;             /* who may do what, by REMOTE_USER (role.h) */
	char *data_key;          /* seals secrets at rest (64 hex) */
	char *data_key_previous; /* still opens secrets during a rekey */
	char *push_origins;
	char *push_instance;
	char *push_trusted_proxies;
};

enum config_type { CONFIG_STRING, CONFIG_LONG, CONFIG_BOOL };

/* The programs that read a key, as bits of config_key.readers: each
 * program's --help lists its own keys, flowpush.conf(5) names them. */
enum config_reader {
	CONFIG_API = 1 << 0,     /* flowpush.fcgi */
	CONFIG_PUSH = 1 << 1,    /* flowpushd */
	CONFIG_CLI = 1 << 2,     /* flowpush */
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	const char *def;
	long min, max;           /* for CONFIG_LONG */
	const char *help;
	unsigned readers;        /* enum config_reader bits */
	/* CONFIG_STRING: checks the form of a value before it is stored;
	 * 0, or -1 with err set (a message naming the key). NULL: any. */
	int (*check)(const char *value, struct ferr *err);
};

/* config_keys is the table, terminated by a {NULL} row. */
extern const struct config_key config_keys[];

/*
 * config_load fills cfg with the defaults, then the file at path (NULL:
 * $FLOWPUSH_CONFIG if set, else no file), then the environment. Returns 0,
 * or -1 with err set (unknown key, bad value, unreadable file: the message
 * names file and line). cfg must be released with config_release even on
 * failure.
 */
int config_load(struct config *cfg, const char *path, struct ferr *err);

/*
 * config_defaults fills cfg with the table's defaults only: no file, no
 * environment (flowpush init, which writes a new file). Returns 0 or -1
 * with err set; release cfg with config_release either way.
 */
int config_defaults(struct config *cfg, struct ferr *err);

/* config_env_path gives $FLOWPUSH_CONFIG when set and not empty, else
 * NULL. Borrowed from the environment. */
const char *config_env_path(void);

/* config_release frees the strings in cfg. */
void config_release(struct config *cfg);

/* config_env_name writes FLOWPUSH_<KEY>, the environment variable that
 * overrides key, into out (n bytes, cut to fit). */
void config_env_name(const char *key, char *out, size_t n);

/*
 * config_write writes cfg as a commented key = value file at path with
 * mode 0600, failing if the file exists unless overwrite is set.
 * Returns 0 or -1 with err set.
 */
int config_write(const struct config *cfg, const char *path, int overwrite,
	struct ferr *err);

/*
 * config_file_set sets key to value in the config file at path, keeping
 * every other line: the last line naming key is replaced (value "" drops
 * it), or one is appended. The file is replaced whole (mode 0600, renamed
 * into place), so readers see the old or the new one. 0 or -1 with err.
 */
int config_file_set(const char *path, const char *key, const char *value,
	struct ferr *err);

/* How config_path_dir gives the folder. */
enum config_dir_how {
	CONFIG_DIR_AS_WRITTEN = 0,    /* the text before the last slash */
	CONFIG_DIR_REAL = 1           /* that folder made absolute (realpath) */
};

/*
 * config_path_dir returns the folder of the file at path, which need not
 * exist: "." for a bare name, "/" for a file in the root, else the text
 * before the last slash; with CONFIG_DIR_REAL that folder made absolute
 * with realpath, so a program that changes folder still finds it. Returns
 * a string the caller frees, or NULL when out of memory or (with
 * CONFIG_DIR_REAL) when the folder does not exist.
 */
char *config_path_dir(const char *path, enum config_dir_how how);

/* config_database_label names cfg's database for messages: its path, or
 * "the PostgreSQL database" (whose address may hold a password). */
const char *config_database_label(const struct config *cfg);

/* config_database_is_pg is non-zero when a `database` value names a
 * PostgreSQL server: a libpq URI (postgresql:// or postgres://) or a
 * conninfo string ("host=... dbname=...", a first word followed by '=').
 * Anything else is the path of an SQLite file. */
int config_database_is_pg(const char *database);

#endif
