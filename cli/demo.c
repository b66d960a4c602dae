/* demo.c - flowpush demo: the demo records, or a scale load, via the store. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "demo_data.h"
#include "list.h"
#include "scale.h"
#include "util.h"

/* What one load needs along the way. */
struct demo {
	struct store *st;
	const struct store_write *w;
	const char *suffix;
	int count;
	int port_shift;   /* keeps proxy addresses unique on a second load */
	json_t *ids;      /* key -> id of the records made so far */
};

/* demo_has_data sets *has when any collection already holds a record.
 * Returns 0 or -1 with err set. */
static int demo_has_data(struct store *st, int *has, struct ferr *err)
{
	const struct resource *r;
	struct form q;
	struct form_pair one = { (char *)"limit", (char *)"1" };

	*has = 0;
	q.n = 1;
	q.pairs = &one;
	for (r = resources; r->name != NULL; r++) {
		json_t *page = list_window(st, r, &q, err);

		if (page == NULL)
			return -1;
		if (json_array_size(json_object_get(page, "items")) > 0)
			*has = 1;
		json_decref(page);
	}
	return 0;
}

/* demo_resolve replaces, anywhere in v, a string "@key" by the id of the
 * record made under key. Returns 0 or -1 with err set. */
static int demo_resolve(struct demo *d, json_t *v, struct ferr *err)
{
	const char *s, *k;
	json_t *x, *id;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			if (demo_resolve(d, x, err) < 0)
				return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (demo_resolve(d, x, err) < 0)
				return -1;
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		if (s[0] != '@')
			return 0;
		id = json_object_get(d->ids, s + 1);
		if (id == NULL)
			return ferr_set(err, 500, "internal_error", "The demo "
				"data names no record '%.64s'.", s);
		return json_string_set(v, json_string_value(id));
	}
	return 0;
}

/* demo_vary makes a second load's record unique: the suffix on its name,
 * the port of a proxy's "host:port" moved. Returns 0 or -1. */
static int demo_vary(const struct demo *d, const char *coll, json_t *body)
{
	const char *addr = json_string_value(json_object_get(body,
		"address"));
	const char *colon;
	char buf[300];

	if (d->suffix != NULL && d->suffix[0] != '\0') {
		snprintf(buf, sizeof(buf), "%s%s", json_string_value(
			json_object_get(body, "name")), d->suffix);
		if (json_object_set_new(body, "name", json_string(buf)) < 0)
			return -1;
	}
	if (strcmp(coll, "proxies") != 0 || addr == NULL)
		return 0;
	colon = strrchr(addr, ':');
	if (colon == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "%.*s:%ld", (int)(colon - addr), addr,
		strtol(colon + 1, NULL, 10) + d->port_shift);
	return json_object_set_new(body, "address", json_string(buf));
}

/* demo_step runs one step after a record's creation: an action name,
 * {"action": NAME, ...body} or {"patch": merge-patch}. */
static int demo_step(struct demo *d, const char *id, json_t *step,
	struct ferr *err)
{
	json_t *body = NULL, *rec;
	const char *action = json_string_value(step);

	if (json_is_object(step) && json_object_get(step, "patch") != NULL) {
		rec = store_patch(d->st, resource_find("campaigns"), id,
			json_object_get(step, "patch"), d->w, err);
	} else {
		if (action == NULL) {
			action = json_string_value(json_object_get(step,
				"action"));
			body = json_deep_copy(step);
			json_object_del(body, "action");
		}
		if (action == NULL)
			return ferr_set(err, 500, "internal_error", "A demo "
				"step is neither an action nor a patch.");
		rec = store_action(d->st, id, action, body, d->w, err);
		json_decref(body);
	}
	if (rec == NULL)
		return -1;
	json_decref(rec);
	return 0;
}

/* demo_parse loads JSON text of the demo data (new reference). */
static json_t *demo_parse(const char *text, struct ferr *err)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &je);

	if (v == NULL)
		ferr_set(err, 500, "internal_error", "The demo data is not "
			"valid JSON (line %d: %.200s).", je.line, je.text);
	return v;
}

/* demo_make creates one record of the demo data and runs its steps. */
static int demo_make(struct demo *d, const struct demo_data_record *r,
	struct ferr *err)
{
	json_t *body, *steps = NULL, *rec = NULL, *step;
	const char *id;
	size_t i;
	int result = -1;

	body = demo_parse(r->json, err);
	if (body == NULL || demo_resolve(d, body, err) < 0)
		goto out;
	if (demo_vary(d, r->collection, body) < 0) {
		ferr_set(err, 500, "internal_error", "Out of memory.");
		goto out;
	}
	rec = store_create(d->st, resource_find(r->collection), body, d->w,
		err);
	if (rec == NULL)
		goto out;
	id = json_string_value(json_object_get(rec, "id"));
	d->count++;
	printf("created %-12s %s  %s\n", r->collection, id,
		json_string_value(json_object_get(rec, "name")));
	if (json_object_set(d->ids, r->key, json_object_get(rec, "id")) < 0)
		goto out;
	if (r->steps != NULL) {
		steps = demo_parse(r->steps, err);
		if (steps == NULL)
			goto out;
		json_array_foreach(steps, i, step)
			if (demo_step(d, id, step, err) < 0)
				goto out;
	}
	result = 0;
out:
	json_decref(steps);
	json_decref(rec);
	json_decref(body);
	return result;
}

/* demo_load makes every record of the demo data; suffix ("" for none)
 * goes on every name. Returns the number of records made, or -1. */
static int demo_load(struct demo *d, struct ferr *err)
{
	const struct demo_data_record *r;
	const char *p;

	/* Addresses are unique too: move the ports by an amount drawn
	 * from the suffix, which is random. */
	for (p = d->suffix; *p != '\0'; p++)
		d->port_shift = (d->port_shift * 31 + (unsigned char)*p) %
			20000;
	if (d->suffix[0] != '\0')
		d->port_shift++;
	for (r = demo_data_records; r->key != NULL; r++)
		if (demo_make(d, r, err) < 0)
			return -1;
	return d->count;
}

static int demo_scale(struct cli *c, struct store *st)
{
	long long made;

	if (c->scale < 1 || c->scale > 10000000)
		return cli_fail_usage(c, "--scale takes a number of records "
			"per collection from 1 to 10000000.");
	if (c->argc == 1 && !resource_find(c->argv[0]))
		return cli_fail_usage(c, "There is no collection '%.64s'.",
			c->argv[0]);
	made = scale_load(st, c->w.actor, c->scale, c->argc == 1 ?
		c->argv[0] : NULL, stdout, &c->err);
	if (made < 0)
		return -1;
	printf("%lld records loaded into %s\n", made,
		config_database_label(&c->cfg));
	return 0;
}

int demo_run(struct cli *c, struct store *st)
{
	struct demo d;
	/* --if-match is about one record; the demo's writes expect none. */
	struct store_write w = { c->w.actor, -1 };
	int has = 0, n;
	char suffix[16] = "";

	if (c->scale >= 0)
		return demo_scale(c, st);
	if (c->argc > 0)
		return cli_fail_usage(c, "usage: flowpush %s", c->usage);
	if (demo_has_data(st, &has, &c->err) < 0)
		return -1;
	if (has && !c->force)
		return ferr_set(&c->err, 409, "not_empty", "The database "
			"already holds records; flowpush demo --force adds "
			"the demo data anyway, with new names.");
	if (has) {
		unsigned char r[2];

		if (util_random(r, sizeof(r)) < 0)
			return ferr_set(&c->err, 500, "internal_error",
				"No random bytes.");
		snprintf(suffix, sizeof(suffix), " (%02x%02x)", r[0], r[1]);
	}
	memset(&d, 0, sizeof(d));
	d.st = st;
	d.w = &w;
	d.suffix = suffix;
	d.ids = json_object();
	if (d.ids == NULL)
		return ferr_set(&c->err, 500, "internal_error",
			"Out of memory.");
	n = demo_load(&d, &c->err);
	json_decref(d.ids);
	if (n < 0)
		return -1;
	printf("%d demo records loaded into %s\n", n,
		config_database_label(&c->cfg));
	return 0;
}
