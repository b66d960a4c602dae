/* check.c - flowpush check: is the installation sound and private? */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "pgschema.h"
#include "db.h"
#include "schema.h"

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

/* check_private_files: the database and its -wal and -shm files hold
 * proxy passwords; users other than the owner and its group get nothing. */
static void check_private_files(int *failed, const char *db)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char path[4096];
	struct stat sb;
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
		if (stat(path, &sb) < 0) {
			if (i == 0 || errno != ENOENT)
				check_line(failed, 0, "database %s: %s", path,
					strerror(errno));
			continue;
		}
		check_line(failed, (sb.st_mode & 0007) == 0,
			"database %s is closed to other users (mode %04o%s)",
			path, (unsigned)(sb.st_mode & 07777),
			(sb.st_mode & 0007) ? "; chmod o-rwx it" : "");
	}
}

/* check_sealed: every stored secret is sealed with the current data key
 * (none left from before sealing, or from before the last rekey). */
static void check_sealed(int *failed, const struct config *cfg)
{
	struct store st;
	struct ferr e;
	long left = 0;

	ferr_init(&e);
	if (store_open(&st, cfg, &e) < 0 || store_unsealed(&st, &left,
	    &e) < 0) {
		check_line(failed, 0, "secrets: %s", e.message);
	} else if (cfg->data_key == NULL || *cfg->data_key == '\0') {
		check_line(failed, 0, "secrets are stored unsealed: no "
			"data_key (flowpush rekey makes one)");
	} else {
		check_line(failed, left == 0, "secrets sealed with data_key "
			"%s (%ld not yet: flowpush rekey)", st.keys[0].id, left);
	}
	store_close(&st);
	ferr_release(&e);
}

/* check_config: the secret is in the file, so only its owner reads it. */
static void check_config(int *failed, const struct config *cfg)
{
	struct stat sb;

	if (cfg->path == NULL) {
		check_line(failed, 1, "config: none given, defaults and "
			"environment only");
		return;
	}
	if (stat(cfg->path, &sb) < 0)
		check_line(failed, 0, "config %s: %s", cfg->path,
			strerror(errno));
	else
		check_line(failed, (sb.st_mode & 0077) == 0,
			"config %s is private (mode %04o, want 0600)",
			cfg->path, (unsigned)(sb.st_mode & 07777));
}

/* check_database: it opens, SQLite finds it sound, the schema is this
 * program's, and no other user may write it or its folder. */
static void check_database(int *failed, const struct config *cfg)
{
	struct store_health h;
	struct ferr e;
	char *dir;
	int opens;

	ferr_init(&e);
	opens = store_inspect(cfg, &h, &e) == 0;
	/* A PostgreSQL address may hold a password: not printed. */
	check_line(failed, opens, "database %s opens%s%s",
		config_database_is_pg(cfg->database) ? "(PostgreSQL)" :
		cfg->database, opens ? "" : ": ", opens ? "" : e.message);
	ferr_release(&e);
	if (!opens)
		return;
	if (config_database_is_pg(cfg->database)) {
		/* A server's tables: the server guards its files. */
		check_line(failed, h.version == PGSCHEMA_VERSION,
			"PostgreSQL schema version %d (this program: %d)",
			h.version, PGSCHEMA_VERSION);
		check_sealed(failed, cfg);
		return;
	}
	check_line(failed, strcmp(h.integrity, "ok") == 0,
		"integrity_check: %s", h.integrity[0] != '\0' ?
		h.integrity : "did not run");
	check_line(failed, h.version == SCHEMA_VERSION,
		"schema version %d (this program: %d)", h.version,
		SCHEMA_VERSION);
	check_private_files(failed, cfg->database);
	check_sealed(failed, cfg);
	dir = config_path_dir(cfg->database, CONFIG_DIR_AS_WRITTEN);
	if (dir != NULL)
		check_not_world_writable(failed, "folder", dir);
	free(dir);
}

int check_run(struct cli *c, struct store *st)
{
	int failed = 0;

	check_config(&failed, &c->cfg);
	check_database(&failed, &c->cfg);
	if (failed > 0)
		return ferr_set(&c->err, 500, "check_failed",
			"%d check%s failed.", failed, failed == 1 ? "" : "s");
	return 0;
}
