/* events.c - the journal from the command line: flowpush tail and prune. */
#include <stdio.h>

#include "events.h"

#define TAIL_PAGE 1000

/* Days of journal prune keeps by default: a page left open over a long
 * weekend still resumes without a refetch. */
#define EVENTS_KEEP_DAYS 7

/* tail_page prints one answer of store_changes (borrowed) and gives the
 * seq to read on from in *next. */
static void tail_page(json_t *page, int64_t *next)
{
	json_t *events = json_object_get(page, "events");
	size_t i;

	*next = json_integer_value(json_object_get(page, "seq"));
	if (json_is_true(json_object_get(page, "reset"))) {
		/* Said the way the push transports say it. */
		printf("{\"action\":\"reset\",\"seq\":%lld}\n",
			(long long)*next);
		return;
	}
	for (i = 0; i < json_array_size(events); i++)
		if (json_dumpf(json_array_get(events, i), stdout,
		    JSON_COMPACT) < 0 || fputc('\n', stdout) == EOF)
			break;
}

/* tail_drain prints every event after *since, a page at a time, and
 * moves *since on. The reset rule is the store's (store_changes asks
 * journal_reset_due): after a reset the reading follows from the newest
 * seq. Returns 0, or -1 with c->err set. */
static int tail_drain(struct cli *c, struct store *st,
	const struct topic_list *tl, int64_t *since)
{
	int64_t next;

	do {
		json_t *page = store_changes(st, *since, tl, TAIL_PAGE,
			&c->err);

		if (page == NULL)
			return -1;
		tail_page(page, &next);
		json_decref(page);
		if (fflush(stdout) != 0)
			return -1;
		if (next == *since)
			break;
		*since = next;
	} while (!cli_stop_requested());
	return 0;
}

int events_tail(struct cli *c, struct store *st)
{
	struct topic_list tl;
	int64_t since = c->since, last = 0, first = 0, seen = -1;
	int result = -1;

	if (topic_list_parse(c->topics, &tl, &c->err) < 0)
		return -1;
	while (!cli_stop_requested()) {
		/* The cheap check first: no new seq, nothing to read. */
		if (store_last_seq(st, &last, &c->err) < 0)
			goto out;
		/* Without --since: every event still kept. */
		if (since < 0) {
			if (store_first_seq(st, &first, &c->err) < 0)
				goto out;
			since = first > 0 ? first - 1 : last;
		}
		if (last != seen) {
			if (tail_drain(c, st, &tl, &since) < 0)
				goto out;
			seen = last;
		}
		if (!c->follow)
			break;
		cli_nap(200);
	}
	result = 0;
out:
	topic_list_release(&tl);
	return result;
}

/* events_prune_limits gives the limits prune runs with: --keep-days
 * (default EVENTS_KEEP_DAYS) and --keep-rows (default the daemon's
 * push_ring_size, so that a restarted flowpushd fills its ring with
 * rows that still exist). 0 turns a limit off; both off is refused, as
 * it would empty the journal. Returns 0, or -1 with c->err set. */
static int events_prune_limits(struct cli *c, long *days, long *rows)
{
	*days = c->keep_days >= 0 ? (long)c->keep_days : EVENTS_KEEP_DAYS;
	*rows = c->keep_rows >= 0 ? (long)c->keep_rows :
		c->cfg.push_ring_size;
	if (*days == 0 && *rows == 0)
		return cli_fail_usage(c, "prune with --keep-days 0 and "
			"--keep-rows 0 would delete the whole journal; keep "
			"some days or some rows.");
	return 0;
}

int events_prune(struct cli *c, struct store *st)
{
	long deleted = 0, days, rows;
	int64_t first = 0, last = 0;
	json_t *res;
	int result;

	if (events_prune_limits(c, &days, &rows) < 0)
		return -1;
	if (store_journal_prune(st, days, rows, 1000, &deleted, &c->err) < 0 ||
	    store_first_seq(st, &first, &c->err) < 0 ||
	    store_last_seq(st, &last, &c->err) < 0)
		return -1;
	res = json_pack("{s:I, s:i, s:i, s:I, s:I}", "deleted",
		(json_int_t)deleted, "keepDays", (int)days, "keepRows",
		(int)rows, "firstSeq", (json_int_t)first, "lastSeq",
		(json_int_t)last);
	result = res != NULL ? cli_print_json(res, JSON_COMPACT) : -1;
	json_decref(res);
	return result;
}
