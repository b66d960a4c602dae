/* backup.c - flowpush backup: a consistent copy of the live database. */
#include <stdio.h>

#include "backup.h"
#include "util.h"

/* How often a long copy says how far it is. */
#define PROGRESS_MS 1000

struct progress {
	int64_t next_ms;              /* when to print next */
	int printed;                  /* a line was printed */
};

static void progress_cb(long done, long total, void *arg)
{
	struct progress *p = arg;
	int64_t now = util_mono_ms();

	/* The last step always prints when earlier ones did: a long run
	 * ends on 100 %. */
	if (now < p->next_ms && !(p->printed && done == total))
		return;
	p->next_ms = now + PROGRESS_MS;
	p->printed = 1;
	fprintf(stderr, "backup: %ld%% (%ld of %ld pages)\n",
		total > 0 ? done * 100 / total : 100, done, total);
}

int backup_run(struct cli *c, struct store *st)
{
	struct progress p = { util_mono_ms() + PROGRESS_MS, 0 };
	struct backup_opts o = { c->force, c->pages > 0 ? (int)c->pages : 0,
		c->cfg.busy_timeout_ms > 1000 ? c->cfg.busy_timeout_ms : 1000,
		progress_cb, &p };
	struct backup_result res;
	json_t *out;
	int result;

	if (c->pages > 1000000)
		return cli_fail_usage(c, "--pages is at most 1000000.");
	if (store_backup(st, c->argv[0], &o, &res, &c->err) < 0)
		return -1;
	out = json_pack("{s:s, s:I, s:I, s:I}", "backup", c->argv[0], "seq",
		(json_int_t)res.seq, "pages", (json_int_t)res.pages, "bytes",
		(json_int_t)res.pages * res.page_size);
	result = out != NULL ? cli_print_json(out, JSON_COMPACT) : -1;
	json_decref(out);
	return result;
}
