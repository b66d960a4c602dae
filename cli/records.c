/* records.c - the record commands of flowpush: the API's CRUD on a shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "records.h"

int records_get(struct cli *c, struct store *st)
{
	return cli_print_record(store_get(st, c->res, c->argv[1], &c->err));
}

/* list_query fills q from --limit, --after and every NAME=VALUE filter;
 * limit is room for the number's text. Returns 0 or -1 with c->err set;
 * free q->pairs either way. */
static int list_query(struct cli *c, struct form *q, char *limit,
	size_t limit_size)
{
	int i;

	/* Room for limit, after and every NAME=VALUE filter. */
	q->pairs = calloc((size_t)c->argc + 2, sizeof(*q->pairs));
	if (q->pairs == NULL)
		return ferr_set(&c->err, 500, "internal_error",
			"Out of memory.");
	if (c->limit >= 0) {
		snprintf(limit, limit_size, "%lld", c->limit);
		q->pairs[q->n].name = (char *)"limit";
		q->pairs[q->n++].value = limit;
	}
	if (c->after != NULL) {
		q->pairs[q->n].name = (char *)"after";
		q->pairs[q->n++].value = (char *)c->after;
	}
	for (i = 1; i < c->argc; i++) {
		char *eq = strchr(c->argv[i], '=');

		if (eq == NULL)
			return cli_fail_usage(c, "Filters are NAME=VALUE, not "
				"'%.64s'.", c->argv[i]);
		/* argv is ours to cut. */
		*eq = '\0';
		q->pairs[q->n].name = c->argv[i];
		q->pairs[q->n++].value = eq + 1;
	}
	return 0;
}

int records_list(struct cli *c, struct store *st)
{
	struct form q = { 0, NULL };
	char limit[32];
	json_t *page = NULL;
	int result = -1;

	if (list_query(c, &q, limit, sizeof(limit)) < 0)
		goto out;
	page = list_window(st, c->res, &q, &c->err);
	if (page == NULL)
		goto out;
	result = cli_print_json(page, JSON_INDENT(2));
out:
	json_decref(page);
	free(q.pairs);
	return result;
}

int records_create(struct cli *c, struct store *st)
{
	return cli_print_record(store_create(st, c->res, c->body, &c->w,
		&c->err));
}

int records_update(struct cli *c, struct store *st)
{
	return cli_print_record(store_patch(st, c->res, c->argv[1], c->body,
		&c->w, &c->err));
}

int records_delete(struct cli *c, struct store *st)
{
	json_t *ok;
	int result;

	if (store_delete(st, c->res, c->argv[1], &c->w, &c->err) < 0)
		return -1;
	ok = json_pack("{s:s, s:s, s:b}", "collection", c->res->name, "id",
		c->argv[1], "deleted", 1);
	result = ok != NULL ? cli_print_json(ok, JSON_COMPACT) : -1;
	json_decref(ok);
	return result;
}

int records_action(struct cli *c, struct store *st)
{
	json_t *body = NULL, *rec;

	if (c->message != NULL) {
		body = json_pack("{s:s}", "errorMessage", c->message);
		if (body == NULL)
			return cli_fail_usage(c, "The message is not UTF-8 "
				"text.");
	}
	rec = store_action(st, c->argv[0], c->argv[1], body, &c->w, &c->err);
	json_decref(body);
	return cli_print_record(rec);
}
