/* init.c - flowpush init: a config with a fresh secret, and its database. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "db.h"
#include "pgschema.h"
#include "schema.h"
#include "init.h"
#include "util.h"

/* init_absolute turns a path into an absolute one through its folder,
 * which must exist (the file need not). Returns a malloc'd string or
 * NULL. */
static char *init_absolute(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = config_path_dir(path, CONFIG_DIR_REAL), *out = NULL;

	if (dir == NULL)
		return NULL;
	if (asprintf(&out, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
		slash != NULL ? slash + 1 : path) < 0)
		out = NULL;
	free(dir);
	return out;
}

/* init_in_folder tells whether file sits directly in the folder dir. */
static int init_in_folder(const char *file, const char *dir)
{
	const char *slash = strrchr(file, '/');
	size_t n = slash != NULL ? (size_t)(slash - file) : 0;

	return slash != NULL && strlen(dir) == n &&
		strncmp(file, dir, n) == 0;
}

/* init_database_name gives what the new config at cfg_abs says for
 * --database, in *out (malloc'd). Returns 0 or -1 with c->err set. */
static int init_database_name(struct cli *c, const char *cfg_abs,
	char **out)
{
	char *db_abs, *cfg_dir;

	if (config_database_is_pg(c->database)) {
		/* A server's address, not a path: kept as given. */
		*out = strdup(c->database);
		return *out ? 0 : ferr_set(&c->err, 500, "internal_error",
			"Out of memory.");
	}
	db_abs = init_absolute(c->database);
	if (db_abs == NULL)
		return ferr_set(&c->err, 400, "bad_path", "The folder of "
			"%.400s does not exist.", c->database);
	cfg_dir = config_path_dir(cfg_abs, CONFIG_DIR_AS_WRITTEN);
	/* Beside the config a bare name keeps the folder movable;
	 * elsewhere the absolute path is clear. */
	if (cfg_dir != NULL && init_in_folder(db_abs, cfg_dir))
		*out = strdup(strrchr(db_abs, '/') + 1);
	else if (cfg_dir != NULL)
		*out = strdup(db_abs);
	free(cfg_dir);
	free(db_abs);
	if (*out == NULL)
		return ferr_set(&c->err, 500, "internal_error",
			"Out of memory.");
	return 0;
}

/* init_fresh fills cfg with the defaults, a new secret and the database
 * to name. Returns 0 or -1 with c->err set; cfg is released either way
 * by the caller. */
static int init_fresh(struct cli *c, const char *cfg_abs,
	struct config *cfg)
{
	unsigned char key[32];
	char hex[65];

	if (config_defaults(cfg, &c->err) < 0)
		return -1;
	if (util_random(key, sizeof(key)) < 0)
		return ferr_set(&c->err, 500, "internal_error",
			"No random bytes for the secret.");
	util_hex_encode(key, sizeof(key), hex);
	free(cfg->secret);
	cfg->secret = strdup(hex);
	/* Another key seals the secrets at rest: the token secret and it
	 * can then be changed apart (flowpush rekey). */
	if (util_random(key, sizeof(key)) < 0)
		return ferr_set(&c->err, 500, "internal_error",
			"No random bytes for the data key.");
	util_hex_encode(key, sizeof(key), hex);
	free(cfg->data_key);
	cfg->data_key = strdup(hex);
	free(cfg->database);
	cfg->database = NULL;
	free(cfg->doorbell);
	/* The daemon's socket lives beside the config by default. */
	cfg->doorbell = strdup("flowpushd.sock");
	if (c->database != NULL) {
		if (init_database_name(c, cfg_abs, &cfg->database) < 0)
			return -1;
	} else {
		cfg->database = strdup("flowpush.db");
	}
	if (cfg->secret == NULL || cfg->database == NULL ||
	    cfg->doorbell == NULL || cfg->data_key == NULL)
		return ferr_set(&c->err, 500, "internal_error",
			"Out of memory.");
	return 0;
}

/* init_config leaves in cfg the config at cfg_abs as the programs will
 * read it: kept when it exists (init then only creates or migrates the
 * database it names), else written new. Returns 0 or -1 with c->err
 * set. */
static int init_config(struct cli *c, const char *cfg_abs,
	struct config *cfg)
{
	if (access(cfg_abs, F_OK) == 0 && !c->force) {
		if (config_load(cfg, cfg_abs, &c->err) < 0)
			return -1;
		if (c->database != NULL)
			return ferr_set(&c->err, 409, "exists", "%.400s "
				"exists; use --force to write a new one "
				"with this database.", cfg_abs);
		printf("config:   %s (kept; --force writes a new one)\n",
			cfg_abs);
		return 0;
	}
	if (init_fresh(c, cfg_abs, cfg) < 0 ||
	    config_write(cfg, cfg_abs, c->force, &c->err) < 0)
		return -1;
	printf("config:   %s (new secret, mode 0600)\n", cfg_abs);
	/* Read it back: the paths are now those the programs use. */
	config_release(cfg);
	return config_load(cfg, cfg_abs, &c->err);
}

/* The database's files hold proxy passwords: the owner and the group the
 * deployment shares with the web server (docs/DEPLOY.md) may read and
 * write them; nobody else. SQLite gives its -wal and -shm files the mode
 * of the database file, so they follow. */
#define INIT_DB_MODE 0660

/* init_private_files sets INIT_DB_MODE on the database and its -wal and
 * -shm files where they exist. */
static int init_private_files(const struct config *cfg, struct ferr *err)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char path[4096];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", cfg->database, suffix[i]);
		if (chmod(path, INIT_DB_MODE) < 0 && (i == 0 || errno != ENOENT))
			return ferr_set(err, 500, "bad_mode", "Cannot make "
				"%.400s private.", path);
	}
	return 0;
}

int init_run(struct cli *c, struct store *st)
{
	const char *path = c->config_path;
	char *cfg_abs;
	sqlite3 *db = NULL;
	int result = -1;
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (path == NULL)
		path = config_env_path();
	if (path == NULL)
		path = "flowpush.conf";
	cfg_abs = init_absolute(path);
	if (cfg_abs == NULL) {
		ferr_set(&c->err, 400, "bad_path",
			"The folder of %.400s does not exist.", path);
		goto out;
	}
	if (init_config(c, cfg_abs, &cfg) < 0)
		goto out;
	if (config_database_is_pg(cfg.database)) {
		/* The store makes PostgreSQL's tables when it opens; the
		 * server's roles and pg_hba.conf guard them. */
		struct store pst;

		if (store_open(&pst, &cfg, &c->err) < 0)
			goto out;
		store_close(&pst);
		printf("database: PostgreSQL (schema version %d)\n",
			PGSCHEMA_VERSION);
		printf("Use it with: flowpush --config %s ...  or  "
			"FLOWPUSH_CONFIG=%s\n", cfg_abs, cfg_abs);
		result = 0;
		goto out;
	}
	/* schema_open creates the file: the store only opens existing ones. */
	db = schema_open(&cfg, DB_CREATE, &c->err);
	if (db == NULL)
		goto out;
	if (init_private_files(&cfg, &c->err) < 0)
		goto out;
	printf("database: %s (schema version %d, mode %04o)\n", cfg.database,
		SCHEMA_VERSION, INIT_DB_MODE);
	printf("Use it with: flowpush --config %s ...  or  "
		"FLOWPUSH_CONFIG=%s\n", cfg_abs, cfg_abs);
	result = 0;
out:
	sqlite3_close_v2(db);
	config_release(&cfg);
	free(cfg_abs);
	return result;
}
