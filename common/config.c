/* config.c - the key table and the code that loads, documents, writes it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "role.h"
#include "util.h"

/* Each row starts with the programs that read the key (enum
 * config_reader): a program's --help and flowpush.conf(5) list it from
 * there. A key read in common/ code counts for every program that runs
 * that code (store.c: the API and the admin command; db.c: all three). */
#define API CONFIG_API
#define PUSH CONFIG_PUSH
#define CLI CONFIG_CLI
#define ALL (CONFIG_API | CONFIG_PUSH | CONFIG_CLI)
#define OFF(f) offsetof(struct config, f)
#define STR(who, name, field, def, help) \
	{ name, CONFIG_STRING, OFF(field), def, 0, 0, help, who, NULL }
/* A string whose form check() knows, refused at load time when wrong. */
#define STRC(who, name, field, def, check, help) \
	{ name, CONFIG_STRING, OFF(field), def, 0, 0, help, who, check }
#define LNG(who, name, field, def, lo, hi, help) \
	{ name, CONFIG_LONG, OFF(field), def, lo, hi, help, who, NULL }
#define BOOL(who, name, field, def, help) \
	{ name, CONFIG_BOOL, OFF(field), def, 0, 1, help, who, NULL }

const struct config_key config_keys[] = {
	STR(ALL, "database", database, "flowpush.db",
		"SQLite database file, or a PostgreSQL server: a libpq URI "
		"(postgresql://...) or conninfo (host=... dbname=...)"),
	STR(ALL, "doorbell", doorbell, "",
		"Unix datagram socket flowpushd listens on; empty: none"),
	STR(API | PUSH, "secret", secret, "",
		"HMAC secret for push tokens (hex); empty: tokens off"),
	LNG(API, "token_ttl", token_ttl, "3600", 1, 30L * 86400,
		"seconds a token from /api/token stays valid"),
	LNG(API | CLI, "body_limit", body_limit, "1048576", 1024,
		1L << 30, "largest request body in bytes"),
	LNG(API | CLI, "changes_max_bytes", changes_max_bytes, "4194304",
		65536, 1073741824, "most bytes of events in one /api/changes "
		"answer (one event always fits)"),
	BOOL(API, "require_user", require_user, "0",
		"writes need REMOTE_USER (else 401)"),
	LNG(API, "threads", threads, "16", 2, 256,
		"FastCGI worker threads (long-polls hold one each)"),
	LNG(ALL, "busy_timeout_ms", busy_timeout_ms, "5000", 0, 600000,
		"how long a write waits for the database before 503"),
	LNG(API | CLI, "mmap_mb", mmap_mb, "16384", 0, 1L << 22,
		"MiB of address space through which a process reads the "
		"database: one map shared by all its threads (0: off)"),
	LNG(API, "wal_checkpoint_pages", wal_checkpoint_pages, "1000", 0,
		1L << 24, "WAL pages after which flowpush.fcgi's checkpoint "
		"thread copies the WAL into the database, off the request "
		"path (0: SQLite's auto-checkpoint, in the committing "
		"request)"),
	LNG(API, "wal_max_pages", wal_max_pages, "10000", 1, 1L << 24,
		"WAL pages past which that thread makes writers wait once "
		"so that the WAL starts again (RESTART checkpoint)"),
	LNG(API | CLI, "max_rules", max_rules, "1000", 1, 100000,
		"most rules in one keyword set"),
	LNG(API, "changes_wait_max", changes_wait_max, "30", 0, 30,
		"longest wait= of /api/changes in seconds"),
	BOOL(API, "api_metrics", api_metrics, "1",
		"count API requests in <database>-metrics (PostgreSQL: "
		"flowpush-metrics beside the config), shared by every "
		"flowpush.fcgi process, and serve them at /api/metrics"),
	STR(ALL, "log_level", log_level, "info",
		"error, warn, info or debug"),
	STR(ALL, "log_file", log_file, "",
		"log file; empty: stderr"),
	STR(PUSH, "push_listen", push_listen, "127.0.0.1",
		"address flowpushd binds, or unix:PATH for a Unix stream "
		"socket (mode 0660; push_port is then unused)"),
	LNG(PUSH, "push_port", push_port, "8081", 0, 65535,
		"port flowpushd binds (0: any free port)"),
	LNG(PUSH, "push_heartbeat", push_heartbeat, "20", 1, 3600,
		"seconds between SSE comments and WebSocket pings"),
	LNG(PUSH, "push_retry_ms", push_retry_ms, "3000", 0, 3600000,
		"SSE retry: sent to clients, in milliseconds"),
	LNG(PUSH, "push_poll_ms", push_poll_ms, "500", 10, 60000,
		"period of the database check behind the doorbell"),
	LNG(PUSH, "push_ring_size", push_ring_size, "4096", 16, 1L << 22,
		"events flowpushd keeps in memory"),
	LNG(PUSH, "push_ring_bytes", push_ring_bytes, "33554432", 65536,
		1L << 34, "bytes of events flowpushd keeps in memory (the "
		"newest event always stays)"),
	LNG(PUSH, "push_max_connections", push_max_connections, "16384", 1,
		1000000, "most push connections at once"),
	LNG(PUSH, "push_outbound_cap", push_outbound_cap, "1048576", 4096,
		1L << 30,
		"bytes queued for one connection before it is dropped"),
	LNG(PUSH, "push_client_frame_rate", push_client_frame_rate, "20", 1,
		100000, "WebSocket frames a client may send per second "
		"(ten seconds' worth at once); past it: closed with 1008"),
	LNG(PUSH, "push_dispatch_timeout_ms", push_dispatch_timeout_ms, "10000",
		100, 3600000,
		"longest a connection's queue may stay unwritten"),
	STR(API | CLI, "data_key", data_key, "",
		"64 hex digits that seal secrets (proxy passwords) at rest; "
		"flowpush init makes one; empty: stored unsealed"),
	STR(API | CLI, "data_key_previous", data_key_previous, "",
		"the key before the last flowpush rekey, kept while it runs"),
	STR(API, "topic_grants", topic_grants, "",
		"who may subscribe to what: \"USER: TOPICS; ...\" by "
		"REMOTE_USER, * for anyone else; empty: everyone, all"),
	STRC(API, "roles", roles, "", role_check,
		"who may do what, by REMOTE_USER: \"USERS: ROLE; ...\" with "
		"USERS names separated by ',' (* for anyone else) and ROLE "
		"viewer, operator, admin or none; empty: everyone, "
		"everything"),
	STR(PUSH, "push_origins", push_origins, "",
		"WebSocket Origin allow-list, comma-separated; "
		"empty: same origin"),
	STR(PUSH, "push_instance", push_instance, "",
		"this daemon's name in /push/health (several daemons may "
		"follow one PostgreSQL journal); empty: the host name"),
	STR(PUSH, "push_trusted_proxies", push_trusted_proxies,
		"127.0.0.1, ::1, unix",
		"peers whose X-Forwarded-Proto is believed (addresses; "
		"unix: the Unix socket)"),
	{ NULL, CONFIG_STRING, 0, NULL, 0, 0, NULL, 0, NULL },
};

const char *config_database_label(const struct config *cfg)
{
	/* A PostgreSQL address may hold a password. */
	return config_database_is_pg(cfg->database) ?
		"the PostgreSQL database" : cfg->database;
}

int config_database_is_pg(const char *database)
{
	const char *p = database;

	if (p == NULL)
		return 0;
	if (strncmp(p, "postgresql://", 13) == 0 ||
	    strncmp(p, "postgres://", 11) == 0)
		return 1;
	/* conninfo: a keyword, optional blanks, then '='. */
	while (*p == ' ')
		p++;
	if (!islower((unsigned char)*p))
		return 0;
	while (islower((unsigned char)*p) || *p == '_')
		p++;
	while (*p == ' ')
		p++;
	return *p == '=';
}

/* Paths in a config file are relative to the file, not to whatever folder
 * the program happens to start in. A key whose value is a path only after
 * a prefix (push_listen = unix:PATH) names the prefix; others are plain. */
static const struct {
	const char *name;
	const char *prefix;
} path_keys[] = {
	{ "database", "" },
	{ "doorbell", "" },
	{ "log_file", "" },
	{ "push_listen", "unix:" },
	{ NULL, NULL },
};

/* path_prefix gives the prefix before the path in value when key name
 * holds a path there, else NULL. */
static const char *path_prefix(const char *name, const char *value)
{
	size_t i;

	/* A PostgreSQL URI or conninfo is not a path. */
	if (strcmp(name, "database") == 0 && config_database_is_pg(value))
		return NULL;
	for (i = 0; path_keys[i].name != NULL; i++)
		if (strcmp(path_keys[i].name, name) == 0 &&
		    strncmp(value, path_keys[i].prefix,
			strlen(path_keys[i].prefix)) == 0)
			return path_keys[i].prefix;
	return NULL;
}

static const struct config_key *config_find(const char *name)
{
	size_t i;

	for (i = 0; config_keys[i].name != NULL; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on", NULL };
	static const char *const no[] = { "0", "false", "no", "off", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; no[i] != NULL; i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	return -1;
}

/* config_check runs the key's own check on value; its message (which
 * names the key) follows where, the source. */
static int config_check(const struct config_key *k, const char *value,
	const char *where, struct ferr *err)
{
	struct ferr e;
	int result = 0;

	ferr_init(&e);
	if (k->check(value, &e) < 0)
		result = ferr_set(err, 500, e.code[0] ? e.code : "bad_config",
			"%s: %s", where, e.message);
	ferr_release(&e);
	return result;
}

/* config_set stores one value; where names the source for the message. */
static int config_set(struct config *cfg, const struct config_key *k,
	const char *value, const char *where, struct ferr *err)
{
	char *base = (char *)cfg + k->offset;
	long long v;
	int b;

	switch (k->type) {
	case CONFIG_STRING: {
		char *dup;
		char **slot = (char **)(void *)base;

		if (k->check != NULL && config_check(k, value, where, err) < 0)
			return -1;
		dup = strdup(value);
		if (dup == NULL)
			return ferr_set(err, 500, "out_of_memory",
				"Out of memory.");
		free(*slot);
		*slot = dup;
		return 0;
	}
	case CONFIG_LONG:
		if (util_parse_long(value, k->min, k->max, &v) < 0)
			return ferr_set(err, 500, "bad_config",
				"%s: %s must be an integer from %ld to %ld",
				where, k->name, k->min, k->max);
		*(long *)(void *)base = (long)v;
		return 0;
	case CONFIG_BOOL:
		if (parse_bool(value, &b) < 0)
			return ferr_set(err, 500, "bad_config",
				"%s: %s must be true or false", where, k->name);
		*(int *)(void *)base = b;
		return 0;
	}
	return ferr_set(err, 500, "bad_config", "%s: %s has no type", where,
		k->name);
}

/* A relative path from the file at file becomes one from file's folder;
 * prefix comes first, as it was. */
static char *path_from_file(const char *file, const char *prefix,
	const char *value)
{
	char *dir, *out = NULL;

	if (value[0] == '\0' || value[0] == '/') {
		if (asprintf(&out, "%s%s", prefix, value) < 0)
			out = NULL;
		return out;
	}
	/* Absolute, so a daemon that changes folder still finds it; the
	 * folder as written if it cannot be resolved. */
	dir = config_path_dir(file, CONFIG_DIR_REAL);
	if (dir == NULL)
		dir = config_path_dir(file, CONFIG_DIR_AS_WRITTEN);
	if (dir == NULL)
		return NULL;
	if (asprintf(&out, "%s%s/%s", prefix, dir, value) < 0)
		out = NULL;
	free(dir);
	return out;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int config_load_file(struct config *cfg, const char *path,
	struct ferr *err)
{
	int result = -1;
	FILE *f;
	char *line = NULL, *fixed = NULL;
	size_t cap = 0;
	long lineno = 0;
	char where[512];

	f = fopen(path, "re");
	if (f == NULL) {
		ferr_set(err, 500, "bad_config",
			"cannot read config file %s: %s", path,
			strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *s = trim(line), *eq, *key, *value;
		const struct config_key *k;
		const char *prefix;
		size_t vl;

		lineno++;
		snprintf(where, sizeof(where), "%s:%ld", path, lineno);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			ferr_set(err, 500, "bad_config",
				"%s: expected key = value", where);
			goto out;
		}
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		vl = strlen(value);
		/* Quotes keep empty values and edge spaces visible. */
		if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
			value[vl - 1] = '\0';
			value++;
		}
		k = config_find(key);
		if (k == NULL) {
			ferr_set(err, 500, "bad_config", "%s: unknown key '%s'",
				where, key);
			goto out;
		}
		prefix = path_prefix(k->name, value);
		if (prefix != NULL) {
			fixed = path_from_file(path, prefix,
				value + strlen(prefix));
			if (fixed == NULL) {
				ferr_set(err, 500, "out_of_memory",
					"Out of memory.");
				goto out;
			}
			value = fixed;
		}
		if (config_set(cfg, k, value, where, err) < 0)
			goto out;
		free(fixed);
		fixed = NULL;
	}
	if (ferror(f)) {
		ferr_set(err, 500, "bad_config", "cannot read config file %s",
			path);
		goto out;
	}
	result = 0;
out:
	free(fixed);
	free(line);
	fclose(f);
	return result;
}

void config_env_name(const char *key, char *out, size_t n)
{
	size_t i;

	snprintf(out, n, "FLOWPUSH_%s", key);
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

int config_defaults(struct config *cfg, struct ferr *err)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; config_keys[i].name != NULL; i++)
		if (config_set(cfg, &config_keys[i], config_keys[i].def,
			"default", err) < 0)
			return -1;
	return 0;
}

const char *config_env_path(void)
{
	const char *path = getenv("FLOWPUSH_CONFIG");

	return path != NULL && path[0] != '\0' ? path : NULL;
}

int config_load(struct config *cfg, const char *path, struct ferr *err)
{
	size_t i;
	char name[128];

	if (config_defaults(cfg, err) < 0)
		return -1;
	if (path == NULL)
		path = config_env_path();
	if (path != NULL) {
		if (config_load_file(cfg, path, err) < 0)
			return -1;
		cfg->path = strdup(path);
		if (cfg->path == NULL)
			return ferr_set(err, 500, "out_of_memory",
				"Out of memory.");
	}
	for (i = 0; config_keys[i].name != NULL; i++) {
		const char *v;

		config_env_name(config_keys[i].name, name, sizeof(name));
		v = getenv(name);
		if (v != NULL && config_set(cfg, &config_keys[i], v, name,
			err) < 0)
			return -1;
	}
	if (log_level_parse(cfg->log_level) < 0)
		return ferr_set(err, 500, "bad_config",
			"log_level must be error, warn, info or debug");
	return 0;
}

void config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; config_keys[i].name != NULL; i++) {
		if (config_keys[i].type == CONFIG_STRING) {
			char **slot = (char **)(void *)((char *)cfg +
				config_keys[i].offset);

			free(*slot);
			*slot = NULL;
		}
	}
	free(cfg->path);
	cfg->path = NULL;
}

/* format_value renders one key's value as the file should hold it. */
static int format_value(const struct config *cfg, const struct config_key *k,
	char *buf, size_t n)
{
	const char *base = (const char *)cfg + k->offset;
	const char *s;
	size_t len;

	switch (k->type) {
	case CONFIG_LONG:
		snprintf(buf, n, "%ld", *(const long *)(const void *)base);
		return 0;
	case CONFIG_BOOL:
		snprintf(buf, n, "%s", *(const int *)(const void *)base ?
			"true" : "false");
		return 0;
	case CONFIG_STRING:
		break;
	}
	s = *(char *const *)(const void *)base;
	if (s == NULL)
		s = "";
	len = strlen(s);
	if (strpbrk(s, "\r\n") != NULL || len + 3 > n)
		return -1;
	/* Quote what trimming would otherwise change on the way back in. */
	if (len == 0 || isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[len - 1]) || s[0] == '"')
		snprintf(buf, n, "\"%s\"", s);
	else
		snprintf(buf, n, "%s", s);
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* render_config writes every key, with its help and default, as the text
 * of a config file. Returns 0 with *text (the caller frees it) and *len,
 * or -1 with err and *text NULL. */
static int render_config(const struct config *cfg, char **text, size_t *len,
	struct ferr *err)
{
	int result = -1;
	char value[4096], ts[UTIL_TS_LEN];
	FILE *mem;
	size_t i;

	*text = NULL;
	*len = 0;
	mem = open_memstream(text, len);
	if (mem == NULL)
		return ferr_set(err, 500, "out_of_memory", "Out of memory.");
	util_ts_now(ts);
	fprintf(mem, "# flowpush configuration, written %s.\n"
		"# Relative paths are taken from this file's folder. Every key "
		"may be\n# overridden by the environment variable "
		"FLOWPUSH_<KEY>.\n", ts);
	for (i = 0; config_keys[i].name != NULL; i++) {
		const struct config_key *k = &config_keys[i];

		if (format_value(cfg, k, value, sizeof(value)) < 0) {
			ferr_set(err, 500, "bad_config",
				"%s cannot be written to a config file",
				k->name);
			goto out;
		}
		fprintf(mem, "\n# %s (default \"%s\")\n%s = %s\n", k->help,
			k->def, k->name, value);
	}
	result = 0;
out:
	if (fclose(mem) != 0 && result == 0)
		result = ferr_set(err, 500, "out_of_memory", "Out of memory.");
	if (result < 0) {
		free(*text);
		*text = NULL;
	}
	return result;
}

/* write_private_file puts len bytes of text in a new file at path, mode
 * 0600, or in place of the file there when overwrite is set. Returns 0, or
 * -1 with err and nothing left behind. */
static int write_private_file(const char *path, const char *text,
	size_t len, int overwrite, struct ferr *err)
{
	int result = -1, fd = -1, created = 0;
	char *tmp = NULL;
	const char *target = path;

	/* Overwriting goes through a new file and rename so readers never see
	 * half a config, and the mode is 0600 from the first byte. */
	if (overwrite) {
		if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
			tmp = NULL;
			ferr_set(err, 500, "out_of_memory", "Out of memory.");
			goto out;
		}
		target = tmp;
		unlink(tmp);
	}
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST && !overwrite)
			ferr_set(err, 409, "exists", "%s already exists", path);
		else
			ferr_set(err, 500, "write_failed",
				"cannot create %s: %s", path,
				strerror(errno));
		goto out;
	}
	created = 1;
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, len) < 0 ||
	    fsync(fd) < 0) {
		ferr_set(err, 500, "write_failed", "cannot write %s: %s", path,
			strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		ferr_set(err, 500, "write_failed", "cannot write %s", path);
		goto out;
	}
	fd = -1;
	if (overwrite && rename(tmp, path) < 0) {
		ferr_set(err, 500, "write_failed", "cannot replace %s: %s",
			path, strerror(errno));
		goto out;
	}
	result = 0;
out:
	if (fd >= 0)
		close(fd);
	if (result < 0 && created)
		unlink(target);
	free(tmp);
	return result;
}

int config_write(const struct config *cfg, const char *path, int overwrite,
	struct ferr *err)
{
	char *text = NULL;
	size_t len = 0;
	int result;

	result = render_config(cfg, &text, &len, err);
	if (result == 0)
		result = write_private_file(path, text, len, overwrite, err);
	free(text);
	return result;
}

char *config_path_dir(const char *path, enum config_dir_how how)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;

	if (slash == NULL)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL || how == CONFIG_DIR_AS_WRITTEN)
		return dir;
	real = realpath(dir, NULL);
	free(dir);
	return real;
}

/* names_key is non-zero when line sets key ("  key = ..."). */
static int names_key(const char *line, const char *key)
{
	size_t n = strlen(key);

	while (*line == ' ' || *line == '\t')
		line++;
	if (strncmp(line, key, n) != 0)
		return 0;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == '=';
}

int config_file_set(const char *path, const char *key, const char *value,
	struct ferr *err)
{
	char tmp[4096], *line = NULL;
	size_t cap = 0;
	long n = 0, last = -1, i = 0;
	FILE *in, *out = NULL;
	int fd, result = -1;

	in = fopen(path, "r");
	if (in == NULL)
		return ferr_set(err, 500, "bad_config", "Cannot read %.400s.",
			path);
	while (getline(&line, &cap, in) > 0) {
		if (names_key(line, key))
			last = n;
		n++;
	}
	rewind(in);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		out = fdopen(fd, "w");
	if (out == NULL) {
		ferr_set(err, 500, "bad_config", "Cannot write %.400s.", tmp);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	for (i = 0; getline(&line, &cap, in) > 0; i++) {
		if (i != last)
			fputs(line, out);
		else if (*value)
			fprintf(out, "%s = %s\n", key, value);
	}
	if (last < 0 && *value)
		fprintf(out, "%s = %s\n", key, value);
	if (fclose(out) != 0 || rename(tmp, path) != 0) {
		ferr_set(err, 500, "bad_config", "Cannot write %.400s.", path);
		unlink(tmp);
		goto out;
	}
	result = 0;
out:
	free(line);
	fclose(in);
	return result;
}
