/* rekey.c - flowpush rekey: a new data key, every stored secret sealed again with it. */
#include <stdio.h>
#include <time.h>

#include "rekey.h"
#include "util.h"

#define REKEY_BATCH 500

static void progress_cb(long done, void *arg)
{
	(void)arg;
	fprintf(stderr, "rekey: %ld secrets sealed again\n", done);
}

int rekey_run(struct cli *c, struct store *st)
{
	const char *path = c->cfg.path;
	unsigned char key[SEAL_KEY_BYTES];
	char hex[2 * SEAL_KEY_BYTES + 1];
	const char *old = c->cfg.data_key != NULL ? c->cfg.data_key : "";
	struct timespec settle = { 2, 0 };
	long done = 0, left = 0;

	if (path == NULL)
		return ferr_set(&c->err, 400, "no_config", "rekey writes the "
			"new key into the config: give --config FILE.");
	if (util_random(key, sizeof(key)) < 0)
		return ferr_set(&c->err, 500, "internal_error",
			"No random bytes for the data key.");
	util_hex_encode(key, sizeof(key), hex);
	/* Old and new together first, so that every process can open what
	 * the others seal while the rows move over. */
	if (config_file_set(path, "data_key_previous", old, &c->err) < 0 ||
	    config_file_set(path, "data_key", hex, &c->err) < 0 ||
	    store_reload_keys(st, &c->err) < 0)
		return -1;
	/* A write that began under the old config finishes meanwhile. */
	nanosleep(&settle, NULL);
	if (store_rekey(st, REKEY_BATCH, progress_cb, NULL, &done,
	    &c->err) < 0 || store_unsealed(st, &left, &c->err) < 0)
		return -1;
	if (left > 0)
		return ferr_set(&c->err, 409, "rekey_incomplete", "%ld "
			"secrets are still sealed otherwise; run rekey "
			"again.", left);
	if (config_file_set(path, "data_key_previous", "", &c->err) < 0)
		return -1;
	printf("{\"sealed\":%ld,\"key\":\"%s\"}\n", done, st->keys[0].id);
	return 0;
}
