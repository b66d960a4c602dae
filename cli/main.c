/* main.c - flowpush, the admin command line: init, demo, CRUD, tail, check. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apidoc.h"
#include "db.h"
#include "demo.h"
#include "scale.h"
#include "journal.h"
#include "log.h"
#include "store.h"
#include "util.h"

/* Everything about the invocation, parsed before any command runs. */
struct cli {
	const char *config_path;   /* --config, or NULL */
	const char *actor;         /* --actor, or NULL */
	const char *database;      /* init --database */
	int force;                 /* --force */
	int follow;                /* tail --follow */
	long long if_match;        /* --if-match, -1 = none */
	long long since;           /* tail --since, -1 = from the start */
	const char *topics;        /* tail --topics */
	long long limit;           /* list --limit, -1 = default */
	long long scale;           /* demo --scale, -1 = the demo data */
	const char *after;         /* list --after */
	long long keep_days;       /* prune, -1 = not given */
	long long keep_rows;       /* prune, -1 = not given */
	const char *message;       /* action --message (fail) */
	const struct resource *res; /* argv[0] when the command names one */
	int argc;                  /* positional arguments after the command */
	char **argv;
	struct config cfg;
	struct ferr err;
};

enum cmd_flags {
	NEED_DB = 1 << 0,      /* opens the store before running */
	NEED_COLL = 1 << 1,    /* argv[0] is a collection */
	NEED_ID = 1 << 2,      /* argv[1] is a record id */
};

struct cmd {
	const char *name;
	int (*fn)(struct cli *c, struct store *st);
	unsigned flags;
	int min_args, max_args;
	const char *usage;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* print_json writes v to stdout, one document, and a newline. */
static int print_json(json_t *v, size_t flags)
{
	if (json_dumpf(v, stdout, flags) < 0 || fputc('\n', stdout) == EOF)
		return -1;
	return fflush(stdout) == 0 ? 0 : -1;
}

static int fail_usage(struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail_usage(struct cli *c, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ferr_set(&c->err, 400, "usage", "%s", msg);
}

/* read_stdin_json parses stdin as one JSON document (new reference). */
static json_t *read_stdin_json(struct cli *c)
{
	json_error_t je;
	json_t *v = json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);

	if (v == NULL)
		ferr_set(&c->err, 400, "bad_request",
			"The input is not valid JSON (line %d: %.200s).",
			je.line, je.text);
	return v;
}

static struct store_write writer(const struct cli *c)
{
	struct store_write w;

	w.actor = c->actor;
	w.if_match = c->if_match;
	return w;
}

/* ---- commands ---- */

/* path_in_folder tells whether file sits directly in the folder dir. */
static int path_in_folder(const char *file, const char *dir)
{
	const char *slash = strrchr(file, '/');
	size_t n = slash != NULL ? (size_t)(slash - file) : 0;

	return slash != NULL && strlen(dir) == n &&
		strncmp(file, dir, n) == 0;
}

/* absolute turns a path into an absolute one through its folder, which
 * must exist (the file need not). Returns a malloc'd string or NULL. */
static char *absolute(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real, *out = NULL;

	if (slash == NULL)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return NULL;
	real = realpath(dir, NULL);
	if (real != NULL && asprintf(&out, "%s/%s", strcmp(real, "/") == 0 ?
		"" : real, slash != NULL ? slash + 1 : path) < 0)
		out = NULL;
	free(real);
	free(dir);
	return out;
}

static int cmd_init(struct cli *c, struct store *st)
{
	const char *path = c->config_path;
	char *cfg_abs = NULL, *db_abs = NULL, *cfg_dir = NULL, *p;
	unsigned char key[32];
	char hex[65];
	sqlite3 *db = NULL;
	int result = -1, exists;
	struct config fresh;

	memset(&fresh, 0, sizeof(fresh));
	if (path == NULL)
		path = config_env_path();
	if (path == NULL)
		path = "flowpush.conf";
	cfg_abs = absolute(path);
	if (cfg_abs == NULL) {
		ferr_set(&c->err, 400, "bad_path",
			"The folder of %.400s does not exist.", path);
		goto out;
	}
	cfg_dir = strdup(cfg_abs);
	if (cfg_dir == NULL) {
		ferr_set(&c->err, 500, "internal_error", "Out of memory.");
		goto out;
	}
	p = strrchr(cfg_dir, '/');
	if (p == cfg_dir)
		p[1] = '\0';
	else
		*p = '\0';
	exists = access(cfg_abs, F_OK) == 0;
	if (exists && !c->force) {
		/* Keep the secret of an existing config: init then only
		 * creates or migrates the database it names. */
		if (config_load(&fresh, cfg_abs, &c->err) < 0)
			goto out;
		if (c->database != NULL) {
			ferr_set(&c->err, 409, "exists", "%.400s exists; use "
				"--force to write a new one with this "
				"database.", cfg_abs);
			goto out;
		}
		printf("config:   %s (kept; --force writes a new one)\n",
			cfg_abs);
	} else {
		if (config_defaults(&fresh, &c->err) < 0)
			goto out;
		if (util_random(key, sizeof(key)) < 0) {
			ferr_set(&c->err, 500, "internal_error",
				"No random bytes for the secret.");
			goto out;
		}
		util_hex_encode(key, sizeof(key), hex);
		free(fresh.secret);
		fresh.secret = strdup(hex);
		free(fresh.database);
		fresh.database = NULL;
		free(fresh.doorbell);
		/* The daemon's socket lives beside the config by default. */
		fresh.doorbell = strdup("flowpushd.sock");
		if (c->database != NULL) {
			db_abs = absolute(c->database);
			if (db_abs == NULL) {
				ferr_set(&c->err, 400, "bad_path",
					"The folder of %.400s does not exist.",
					c->database);
				goto out;
			}
			/* Beside the config a bare name keeps the folder
			 * movable; elsewhere the absolute path is clear. */
			if (path_in_folder(db_abs, cfg_dir))
				fresh.database = strdup(strrchr(db_abs, '/') +
					1);
			else
				fresh.database = strdup(db_abs);
		} else {
			fresh.database = strdup("flowpush.db");
		}
		if (fresh.secret == NULL || fresh.database == NULL ||
		    fresh.doorbell == NULL) {
			ferr_set(&c->err, 500, "internal_error",
				"Out of memory.");
			goto out;
		}
		if (config_write(&fresh, cfg_abs, c->force, &c->err) < 0)
			goto out;
		printf("config:   %s (new secret, mode 0600)\n", cfg_abs);
		/* Read it back: the paths are now those the programs use. */
		config_release(&fresh);
		if (config_load(&fresh, cfg_abs, &c->err) < 0)
			goto out;
	}
	db = db_open(&fresh, DB_CREATE, &c->err);
	if (db == NULL)
		goto out;
	printf("database: %s (schema version %d)\n", fresh.database,
		DB_SCHEMA_VERSION);
	printf("Use it with: flowpush --config %s ...  or  "
		"FLOWPUSH_CONFIG=%s\n", cfg_abs, cfg_abs);
	result = 0;
out:
	sqlite3_close_v2(db);
	config_release(&fresh);
	free(db_abs);
	free(cfg_dir);
	free(cfg_abs);
	return result;
}

static int cmd_demo(struct cli *c, struct store *st)
{
	int has = 0, n;
	char suffix[16] = "";

	if (c->scale >= 0) {
		long long made;

		if (c->scale < 1 || c->scale > 10000000)
			return fail_usage(c, "--scale takes a number of "
				"records per collection from 1 to 10000000.");
		if (c->argc == 1 && !resource_find(c->argv[0]))
			return fail_usage(c, "There is no collection '%.64s'.",
				c->argv[0]);
		made = scale_load(st, c->actor, c->scale,
			c->argc == 1 ? c->argv[0] : NULL, stdout, &c->err);
		if (made < 0)
			return -1;
		printf("%lld records loaded into %s\n", made,
			c->cfg.database);
		return 0;
	}

	if (c->argc > 0)
		return fail_usage(c, "usage: flowpush demo [--force] | demo "
			"--scale N [COLLECTION]");
	if (demo_has_data(st, &has, &c->err) < 0)
		return -1;
	if (has && !c->force) {
		ferr_set(&c->err, 409, "not_empty", "The database already "
			"holds records; flowpush demo --force adds the demo "
			"data anyway, with new names.");
		return -1;
	}
	if (has) {
		unsigned char r[2];

		if (util_random(r, sizeof(r)) < 0)
			return ferr_set(&c->err, 500, "internal_error",
				"No random bytes.");
		snprintf(suffix, sizeof(suffix), " (%02x%02x)", r[0], r[1]);
	}
	n = demo_load(st, c->actor, suffix, stdout, &c->err);
	if (n < 0)
		return -1;
	printf("%d demo records loaded into %s\n", n, c->cfg.database);
	return 0;
}

/* print_record prints a record the store returned and frees it; a NULL
 * record is the store's failure, already described in c->err. */
static int print_record(json_t *rec)
{
	int result;

	if (rec == NULL)
		return -1;
	result = print_json(rec, JSON_INDENT(2));
	json_decref(rec);
	return result;
}

static int cmd_get(struct cli *c, struct store *st)
{
	const struct resource *res = c->res;
	json_t *rec;

	rec = store_get(st, res, c->argv[1], &c->err);
	return print_record(rec);
}

static int cmd_list(struct cli *c, struct store *st)
{
	const struct resource *res = c->res;
	struct form q = { 0, NULL };
	char limit[32];
	json_t *page = NULL;
	int i, result = -1;

	/* Room for limit, after and every NAME=VALUE filter. */
	q.pairs = calloc((size_t)c->argc + 2, sizeof(*q.pairs));
	if (q.pairs == NULL)
		return ferr_set(&c->err, 500, "internal_error",
			"Out of memory.");
	if (c->limit >= 0) {
		snprintf(limit, sizeof(limit), "%lld", c->limit);
		q.pairs[q.n].name = (char *)"limit";
		q.pairs[q.n++].value = limit;
	}
	if (c->after != NULL) {
		q.pairs[q.n].name = (char *)"after";
		q.pairs[q.n++].value = (char *)c->after;
	}
	for (i = 1; i < c->argc; i++) {
		char *eq = strchr(c->argv[i], '=');

		if (eq == NULL) {
			fail_usage(c, "Filters are NAME=VALUE, not '%.64s'.",
				c->argv[i]);
			goto out;
		}
		/* argv is ours to cut. */
		*eq = '\0';
		q.pairs[q.n].name = c->argv[i];
		q.pairs[q.n++].value = eq + 1;
	}
	page = store_list(st, res, &q, &c->err);
	if (page == NULL)
		goto out;
	result = print_json(page, JSON_INDENT(2));
out:
	json_decref(page);
	free(q.pairs);
	return result;
}

static int cmd_create(struct cli *c, struct store *st)
{
	const struct resource *res = c->res;
	struct store_write w = writer(c);
	json_t *body, *rec;

	body = read_stdin_json(c);
	if (body == NULL)
		return -1;
	rec = store_create(st, res, body, &w, &c->err);
	json_decref(body);
	return print_record(rec);
}

static int cmd_update(struct cli *c, struct store *st)
{
	const struct resource *res = c->res;
	struct store_write w = writer(c);
	json_t *patch, *rec;

	patch = read_stdin_json(c);
	if (patch == NULL)
		return -1;
	rec = store_patch(st, res, c->argv[1], patch, &w, &c->err);
	json_decref(patch);
	return print_record(rec);
}

static int cmd_delete(struct cli *c, struct store *st)
{
	const struct resource *res = c->res;
	struct store_write w = writer(c);
	json_t *ok;
	int result;

	if (store_delete(st, res, c->argv[1], &w, &c->err) < 0)
		return -1;
	ok = json_pack("{s:s, s:s, s:b}", "collection", res->name, "id",
		c->argv[1], "deleted", 1);
	result = ok != NULL ? print_json(ok, JSON_COMPACT) : -1;
	json_decref(ok);
	return result;
}

static int cmd_action(struct cli *c, struct store *st)
{
	struct store_write w = writer(c);
	json_t *body = NULL, *rec;

	if (c->message != NULL) {
		body = json_pack("{s:s}", "errorMessage", c->message);
		if (body == NULL)
			return fail_usage(c, "The message is not UTF-8 text.");
	}
	rec = store_action(st, c->argv[0], c->argv[1], body, &w, &c->err);
	json_decref(body);
	return print_record(rec);
}

/* nap sleeps ms milliseconds unless a stop signal comes first. */
static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (!stop_requested)
		nanosleep(&ts, NULL);
}

static int cmd_tail(struct cli *c, struct store *st)
{
	struct topic_list tl;
	int64_t since = c->since, next = 0, last = 0, first = 0;
	int64_t seen = -1;
	int result = -1;
	size_t i;

	if (topic_list_parse(c->topics, &tl, &c->err) < 0)
		return -1;
	for (;;) {
		json_t *events;

		if (stop_requested)
			break;
		/* The cheap check first: no new seq, nothing to read. */
		if (journal_last_seq(st->db, &last, &c->err) < 0 ||
			journal_first_seq(st->db, &first, &c->err) < 0)
			goto out;
		/* Without --since: every event still kept. */
		if (since < 0)
			since = first > 0 ? first - 1 : last;
		/* The one reset rule (journal_reset_due), said the way the
		 * push transports say it; then follow from the newest seq. */
		if (journal_reset_due(since, first, last)) {
			printf("{\"action\":\"reset\",\"seq\":%lld}\n",
				(long long)last);
			since = last;
		}
		if (last != seen) {
			do {
				events = journal_read(st->db, since, &tl, 1000,
					&next, &c->err);
				if (events == NULL)
					goto out;
				for (i = 0; i < json_array_size(events); i++)
					if (json_dumpf(json_array_get(events,
					    i), stdout, JSON_COMPACT) < 0 ||
					    fputc('\n', stdout) == EOF)
						break;
				json_decref(events);
				if (fflush(stdout) != 0)
					goto out;
				if (next == since)
					break;
				since = next;
			} while (!stop_requested);
			seen = last;
		}
		if (!c->follow)
			break;
		nap(200);
	}
	result = 0;
out:
	topic_list_release(&tl);
	return result;
}

static int cmd_prune(struct cli *c, struct store *st)
{
	long deleted = 0;
	json_t *res;
	int result;

	if (c->keep_days < 0 && c->keep_rows < 0)
		return fail_usage(c, "prune needs --keep-days N or "
			"--keep-rows N (or both).");
	if (journal_prune(st->db, c->keep_days > 0 ? (long)c->keep_days : 0,
		c->keep_rows > 0 ? (long)c->keep_rows : 0, 1000, &deleted,
		&c->err) < 0)
		return -1;
	res = json_pack("{s:i}", "deleted", (json_int_t)deleted);
	result = res != NULL ? print_json(res, JSON_COMPACT) : -1;
	json_decref(res);
	return result;
}

/* check_line prints one verdict and counts failures. */
static void check_line(int *failed, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check_line(int *failed, int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%-4s ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		(*failed)++;
}

static void check_not_world_writable(int *failed, const char *what,
	const char *path)
{
	struct stat sb;

	if (stat(path, &sb) < 0) {
		check_line(failed, 0, "%s %s: %s", what, path,
			strerror(errno));
		return;
	}
	check_line(failed, !(sb.st_mode & S_IWOTH),
		"%s %s is not world-writable (mode %04o)", what, path,
		(unsigned)(sb.st_mode & 07777));
}

static int cmd_check(struct cli *c, struct store *st)
{
	int failed = 0, version = -1, rc;
	struct ferr e;
	sqlite3 *db;
	sqlite3_stmt *stmt = NULL;
	char *dir;
	const char *slash;

	ferr_init(&e);
	if (c->cfg.path != NULL) {
		struct stat sb;

		if (stat(c->cfg.path, &sb) < 0)
			check_line(&failed, 0, "config %s: %s", c->cfg.path,
				strerror(errno));
		else
			check_line(&failed, (sb.st_mode & 0077) == 0,
				"config %s is private (mode %04o, want 0600)",
				c->cfg.path, (unsigned)(sb.st_mode & 07777));
	} else {
		check_line(&failed, 1, "config: none given, defaults and "
			"environment only");
	}
	db = db_open(&c->cfg, DB_READWRITE, &e);
	check_line(&failed, db != NULL, "database %s opens%s%s",
		c->cfg.database, db != NULL ? "" : ": ",
		db != NULL ? "" : e.message);
	if (db != NULL) {
		const unsigned char *t = NULL;

		rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
			&stmt, NULL);
		if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
			t = sqlite3_column_text(stmt, 0);
		check_line(&failed, t != NULL && strcmp((const char *)t, "ok")
			== 0, "integrity_check: %s", t != NULL ?
			(const char *)t : "did not run");
		sqlite3_finalize(stmt);
		stmt = NULL;
		rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt,
			NULL);
		if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
			version = sqlite3_column_int(stmt, 0);
		sqlite3_finalize(stmt);
		check_line(&failed, version == DB_SCHEMA_VERSION,
			"schema version %d (this program: %d)", version,
			DB_SCHEMA_VERSION);
		sqlite3_close_v2(db);
		check_not_world_writable(&failed, "database",
			c->cfg.database);
		slash = strrchr(c->cfg.database, '/');
		dir = slash == NULL ? strdup(".") : strndup(c->cfg.database,
			slash == c->cfg.database ? 1 :
			(size_t)(slash - c->cfg.database));
		if (dir != NULL)
			check_not_world_writable(&failed, "folder", dir);
		free(dir);
	}
	ferr_release(&e);
	if (failed > 0)
		return ferr_set(&c->err, 500, "check_failed",
			"%d check%s failed.", failed, failed == 1 ? "" : "s");
	return 0;
}

static int cmd_help(struct cli *c, struct store *st);

/* cmd_doc prints the API reference that docs/API.md holds. */
static int cmd_doc(struct cli *c, struct store *st)
{
	apidoc_write(stdout);
	return 0;
}

static const struct cmd cmds[] = {
	{ "init", cmd_init, 0, 0, 0,
		"init [--database PATH] [--force]" },
	{ "demo", cmd_demo, NEED_DB, 0, 1,
	  "demo [--force] | demo --scale N [COLLECTION]" },
	{ "get", cmd_get, NEED_DB | NEED_COLL | NEED_ID, 2, 2,
		"get COLLECTION ID" },
	{ "list", cmd_list, NEED_DB | NEED_COLL, 1, INT_MAX,
		"list COLLECTION [--limit N] [--after CURSOR] "
		"[NAME=VALUE...]" },
	{ "create", cmd_create, NEED_DB | NEED_COLL, 1, 1,
		"create COLLECTION < record.json" },
	{ "update", cmd_update, NEED_DB | NEED_COLL | NEED_ID, 2, 2,
		"update COLLECTION ID [--if-match N] < merge-patch.json" },
	{ "delete", cmd_delete, NEED_DB | NEED_COLL | NEED_ID, 2, 2,
		"delete COLLECTION ID [--if-match N]" },
	{ "action", cmd_action, NEED_DB, 2, 2,
		"action CAMPAIGN-ID start|run|pause|resume|cancel|complete|"
		"fail|archive [--message TEXT] [--if-match N]" },
	{ "tail", cmd_tail, NEED_DB, 0, 0,
		"tail [--since N] [--topics T,...] [--follow]" },
	{ "prune", cmd_prune, NEED_DB, 0, 0,
		"prune [--keep-days N] [--keep-rows N]" },
	{ "check", cmd_check, 0, 0, 0, "check" },
	{ "doc", cmd_doc, 0, 0, 0, "doc > docs/API.md" },
	{ "help", cmd_help, 0, 0, 0, "help" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static void usage(FILE *f)
{
	const struct cmd *k;
	const struct resource *r;

	fprintf(f, "usage: flowpush [--config FILE] [--actor NAME] COMMAND "
		"[ARGS]\n\ncommands:\n");
	for (k = cmds; k->name != NULL; k++)
		fprintf(f, "  %s\n", k->usage);
	fprintf(f, "\ncollections:");
	for (r = resources; r->name != NULL; r++)
		fprintf(f, " %s", r->name);
	fprintf(f, "\n\nJSON goes in on stdin and out on stdout; an error "
		"is the API's JSON error\non stderr with exit status 1. "
		"Writes are journaled with --actor NAME (or null).\n\n");
}

static int cmd_help(struct cli *c, struct store *st)
{
	usage(stdout);
	config_print_help(stdout);
	return 0;
}

/* ---- argument parsing ---- */

static const struct cmd *cmd_find(const char *name)
{
	const struct cmd *k;

	for (k = cmds; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* opt_value takes the value of --name VALUE or --name=VALUE at argv[*i]. */
static int opt_value(struct cli *c, int argc, char **argv, int *i,
	const char *name, const char **out)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fail_usage(c, "%s needs a value.", name);
		return -1;
	}
	*out = argv[++*i];
	return 1;
}

static int opt_number(struct cli *c, const char *name, const char *v,
	long long *out)
{
	if (util_parse_long(v, 0, LLONG_MAX, out) < 0) {
		ferr_set(&c->err, 400, "usage",
			"%s needs a whole number, not '%.32s'.", name, v);
		return -1;
	}
	return 0;
}

static int parse_args(struct cli *c, int argc, char **argv,
	const struct cmd **cmd)
{
	static const char *const num_opts[] = { "--if-match", "--since",
		"--limit", "--keep-days", "--keep-rows", "--scale", NULL };
	long long *num_slots[6];
	const char *v;
	int i, r, k;

	num_slots[0] = &c->if_match;
	num_slots[1] = &c->since;
	num_slots[2] = &c->limit;
	num_slots[3] = &c->keep_days;
	num_slots[4] = &c->keep_rows;
	num_slots[5] = &c->scale;
	c->argv = calloc((size_t)argc + 1, sizeof(*c->argv));
	if (c->argv == NULL)
		return ferr_set(&c->err, 500, "internal_error",
			"Out of memory.");
	*cmd = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int matched = 0;

		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				c->argv[c->argc++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (*cmd == NULL) {
				*cmd = cmd_find(a);
				if (*cmd == NULL)
					return fail_usage(c, "Unknown command "
						"'%.64s'; see flowpush help.",
						a);
			} else {
				c->argv[c->argc++] = argv[i];
			}
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*cmd = cmd_find("help");
			continue;
		}
		if (strcmp(a, "--force") == 0) {
			c->force = 1;
			continue;
		}
		if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
			c->follow = 1;
			continue;
		}
		r = opt_value(c, argc, argv, &i, "--config", &c->config_path);
		if (r == 0)
			r = opt_value(c, argc, argv, &i, "--actor", &c->actor);
		if (r == 0)
			r = opt_value(c, argc, argv, &i, "--database",
				&c->database);
		if (r == 0)
			r = opt_value(c, argc, argv, &i, "--topics",
				&c->topics);
		if (r == 0)
			r = opt_value(c, argc, argv, &i, "--after", &c->after);
		if (r == 0)
			r = opt_value(c, argc, argv, &i, "--message",
				&c->message);
		if (r < 0)
			return -1;
		matched = r > 0;
		for (k = 0; !matched && num_opts[k] != NULL; k++) {
			r = opt_value(c, argc, argv, &i, num_opts[k], &v);
			if (r < 0)
				return -1;
			if (r > 0) {
				matched = 1;
				if (opt_number(c, num_opts[k], v,
					num_slots[k]) < 0)
					return -1;
			}
		}
		if (!matched)
			return fail_usage(c, "Unknown option '%.64s'; see "
				"flowpush help.", a);
	}
	if (*cmd == NULL)
		return fail_usage(c, "No command given; see flowpush help.");
	if (c->argc < (*cmd)->min_args || c->argc > (*cmd)->max_args)
		return fail_usage(c, "usage: flowpush %s", (*cmd)->usage);
	return 0;
}

static void report_error(const struct ferr *e)
{
	json_t *j = ferr_to_json(e);

	if (j != NULL)
		json_dumpf(j, stderr, JSON_COMPACT);
	fputc('\n', stderr);
	json_decref(j);
}

int main(int argc, char **argv)
{
	struct cli c;
	struct store st;
	const struct cmd *cmd = NULL;
	struct sigaction sa;
	int result = -1, have_cfg = 0, have_store = 0;

	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	ferr_init(&c.err);
	c.if_match = -1;
	c.since = -1;
	c.limit = -1;
	c.keep_days = -1;
	c.keep_rows = -1;
	c.scale = -1;
	/* No SA_RESTART: a signal cuts the follow loop's sleep short. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (parse_args(&c, argc, argv, &cmd) < 0)
		goto out;
	if (cmd->fn == cmd_help || cmd->fn == cmd_init ||
	    cmd->fn == cmd_doc) {
		result = cmd->fn(&c, NULL);
		goto out;
	}
	if (config_load(&c.cfg, c.config_path, &c.err) < 0) {
		have_cfg = 1;
		goto out;
	}
	have_cfg = 1;
	log_setup("flowpush", c.cfg.log_level, c.cfg.log_file);
	/* Checked once here so that no command runs on a bad collection. */
	if (cmd->flags & NEED_COLL) {
		c.res = resource_find(c.argv[0]);
		if (c.res == NULL) {
			ferr_set(&c.err, 404, "not_found",
				"There is no collection '%.64s'.", c.argv[0]);
			goto out;
		}
	}
	if ((cmd->flags & NEED_ID) && !util_is_uuid(c.argv[1])) {
		ferr_set(&c.err, 404, "not_found", "There is no record "
			"'%.64s' in %s.", c.argv[1], c.res->name);
		goto out;
	}
	if (cmd->flags & NEED_DB) {
		if (store_open(&st, &c.cfg, &c.err) < 0)
			goto out;
		have_store = 1;
	}
	result = cmd->fn(&c, &st);
out:
	if (result < 0)
		report_error(&c.err);
	if (have_store)
		store_close(&st);
	if (have_cfg)
		config_release(&c.cfg);
	ferr_release(&c.err);
	free(c.argv);
	return result < 0 ? 1 : 0;
}
