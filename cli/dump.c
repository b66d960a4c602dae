/* dump.c - flowpush export and import: records as JSON lines through the store. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "util.h"

#define DUMP_FORMAT "flowpush-export"
#define DUMP_VERSION 1
#define DUMP_MAX 32               /* collections in the resource table */

/* wanted_parse marks in wanted[] the collections of --collections (all
 * without it), by their place in the resource table. 0, or -1 (404). */
static int wanted_parse(struct cli *c, unsigned char *wanted)
{
	const struct resource *r;
	const char *p = c->collections;
	size_t n = 0;

	for (r = resources; r->name != NULL && n < DUMP_MAX; r++, n++)
		wanted[n] = p == NULL;
	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, ",");

		for (r = resources, n = 0; r->name != NULL; r++, n++)
			if (strlen(r->name) == len &&
			    strncmp(r->name, p, len) == 0)
				break;
		if (r->name == NULL)
			return ferr_set(&c->err, 404, "not_found", "There is "
				"no collection '%.*s'.", (int)(len > 64 ? 64 :
				len), p);
		wanted[n] = 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

/* order_wanted lists the wanted collections so that each comes after
 * those its records name (from the field table); a circle, should one
 * ever be declared, is broken in table order. Returns the count. */
static size_t order_wanted(const unsigned char *wanted,
	const struct resource **order)
{
	unsigned char placed[DUMP_MAX] = { 0 };
	const struct resource *r, *o;
	size_t n = 0, i, j, moved = 1;

	while (moved) {
		moved = 0;
		for (r = resources, i = 0; r->name != NULL; r++, i++) {
			int ready = wanted[i] && !placed[i];

			for (o = resources, j = 0; ready && o->name != NULL;
			    o++, j++)
				if (wanted[j] && !placed[j] &&
				    resource_names_other(r, o))
					ready = 0;
			if (ready) {
				placed[i] = 1;
				order[n++] = r;
				moved = 1;
			}
		}
	}
	for (r = resources, i = 0; r->name != NULL; r++, i++)
		if (wanted[i] && !placed[i])
			order[n++] = r;
	return n;
}

/* print_line writes v (borrowed) as one compact line on stdout. */
static int print_line(json_t *v, struct ferr *err)
{
	if (json_dumpf(v, stdout, JSON_COMPACT) < 0 ||
	    fputc('\n', stdout) == EOF)
		return ferr_set(err, 500, "write_failed", "Cannot write the "
			"export: %s.", strerror(errno));
	return 0;
}

static int export_cb(void *arg, const struct resource *res, json_t *rec,
	struct ferr *err)
{
	long *count = arg;
	json_t *line = json_pack("{s:s, s:O}", "collection", res->name,
		"record", rec);
	int rc;

	if (line == NULL)
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	rc = print_line(line, err);
	json_decref(line);
	(*count)++;
	return rc;
}

/* export_header prints the first line: format, snapshot seq, contents. */
static int export_header(struct cli *c, int64_t seq,
	const struct resource **order, size_t n)
{
	char now[UTIL_TS_LEN];
	json_t *names = json_array(), *h;
	size_t i;
	int rc;

	for (i = 0; names != NULL && i < n; i++)
		json_array_append_new(names, json_string(order[i]->name));
	util_ts_now(now);
	h = json_pack("{s:s, s:i, s:I, s:s, s:o, s:b}", "format",
		DUMP_FORMAT, "version", DUMP_VERSION, "seq", (json_int_t)seq,
		"exportedAt", now, "collections", names, "secrets",
		c->with_secrets);
	if (h == NULL)
		return ferr_set(&c->err, 500, "internal_error",
			"Out of memory.");
	rc = print_line(h, &c->err);
	json_decref(h);
	return rc;
}

int dump_export(struct cli *c, struct store *st)
{
	const struct resource *order[DUMP_MAX];
	unsigned char wanted[DUMP_MAX];
	int64_t seq = 0;
	long count = 0;
	size_t n, i;
	int result = -1;

	if (wanted_parse(c, wanted) < 0)
		return -1;
	n = order_wanted(wanted, order);
	/* One snapshot: the header's seq and every record agree. */
	if (store_read_begin(st, &c->err) < 0)
		return -1;
	if (store_last_seq(st, &seq, &c->err) < 0 ||
	    export_header(c, seq, order, n) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (store_export(st, order[i], c->with_secrets, export_cb,
		    &count, &c->err) < 0)
			goto out;
	if (fflush(stdout) != 0) {
		ferr_set(&c->err, 500, "write_failed", "Cannot write the "
			"export: %s.", strerror(errno));
		goto out;
	}
	fprintf(stderr, "export: %ld records up to seq %lld%s\n", count,
		(long long)seq, c->with_secrets ? ", with their secrets" : "");
	result = 0;
out:
	store_read_end(st);
	return result;
}

/* ---- import ---- */

struct import {
	struct cli *c;
	struct store *st;
	long line, records, refused, without_secrets;
	int seen_content;             /* a line before this one held data */
	json_t *counts;               /* collection -> records imported */
};

/* refuse reports line im->line as refused with e, naming its collection
 * and id when known. Returns -1. */
static int refuse(struct import *im, const char *collection, json_t *rec,
	const struct ferr *e)
{
	json_t *j = ferr_to_json(e), *id = json_object_get(rec, "id");

	im->refused++;
	if (j != NULL) {
		json_t *line = json_pack("{s:I, s:s?, s:O?, s:O}", "line",
			(json_int_t)im->line, "collection", collection, "id",
			json_is_string(id) ? id : NULL, "error",
			json_object_get(j, "error"));

		if (line != NULL)
			json_dumpf(line, stderr, JSON_COMPACT);
		json_decref(line);
	}
	fputc('\n', stderr);
	json_decref(j);
	/* A database that fails (busy, full, broken) fails the run. */
	if (e->status >= 500)
		return ferr_set(&im->c->err, e->status, e->code, "Line %ld: "
			"%s Nothing was imported.", im->line, e->message);
	return -1;
}

/* header_check accepts the export's header as the first line only. */
static int header_check(struct import *im, json_t *doc, struct ferr *e)
{
	json_t *v = json_object_get(doc, "version");

	if (im->seen_content)
		return ferr_set(e, 400, "bad_line", "A header line belongs "
			"at the top of the file.");
	if (strcmp(json_string_value(json_object_get(doc, "format")) ?
	    json_string_value(json_object_get(doc, "format")) : "",
	    DUMP_FORMAT) != 0)
		return ferr_set(e, 400, "bad_line", "The header's format "
			"must be \"" DUMP_FORMAT "\".");
	if (!json_is_integer(v) || json_integer_value(v) != DUMP_VERSION)
		return ferr_set(e, 400, "bad_version", "This flowpush reads "
			"version %d exports only.", DUMP_VERSION);
	return 0;
}

/* lost_secrets: a record that had a secret flag set (hasPassword) that
 * the stored one lacks came without its secret. */
static int lost_secrets(json_t *in, json_t *out)
{
	const char *k;
	json_t *v;

	json_object_foreach(in, k, v)
		if (json_is_true(v) && json_is_false(json_object_get(out, k)))
			return 1;
	return 0;
}

/* import_record writes the record of one line through the store. */
static int import_record(struct import *im, json_t *doc)
{
	const char *name = json_string_value(json_object_get(doc,
		"collection"));
	const struct resource *res = resource_find(name);
	json_t *rec = json_object_get(doc, "record"), *out;
	struct ferr e;
	int rc = -1;

	ferr_init(&e);
	if (name == NULL || !json_is_object(rec) || json_object_size(doc) != 2)
		ferr_set(&e, 400, "bad_line", "A line is {\"collection\":..,"
			"\"record\":{..}} and nothing else.");
	else if (res == NULL)
		ferr_set(&e, 404, "not_found", "There is no collection "
			"'%.64s'.", name);
	if (ferr_is_set(&e)) {
		rc = refuse(im, name, rec, &e);
		goto out;
	}
	out = store_import(im->st, res, rec, &im->c->w, &e);
	if (out == NULL) {
		rc = refuse(im, name, rec, &e);
		goto out;
	}
	im->without_secrets += lost_secrets(rec, out);
	json_decref(out);
	im->records++;
	json_object_set_new(im->counts, name, json_integer(json_integer_value(
		json_object_get(im->counts, name)) + 1));
	rc = 0;
out:
	ferr_release(&e);
	return rc;
}

/* import_line handles one line of text: a header, a record or nothing.
 * Returns 0, or -1 (refused; c->err set when the run must stop). */
static int import_line(struct import *im, const char *text, size_t len)
{
	json_error_t je;
	struct ferr e;
	json_t *doc;
	int rc = 0;

	if (strspn(text, " \t\r\n") == len)
		return 0;
	ferr_init(&e);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL)
		ferr_set(&e, 400, "bad_json", "The line is not valid JSON "
			"(column %d: %.200s).", je.column, je.text);
	else if (!json_is_object(doc))
		ferr_set(&e, 400, "bad_line", "A line must be a JSON object.");
	else if (json_object_get(doc, "format") != NULL)
		header_check(im, doc, &e);
	else
		rc = import_record(im, doc);
	if (ferr_is_set(&e))
		rc = refuse(im, NULL, NULL, &e);
	im->seen_content = 1;
	ferr_release(&e);
	json_decref(doc);
	return rc;
}

/* import_read feeds every line of f to import_line; it stops early only
 * when the run must (c->err set). 0 or -1. */
static int import_read(struct import *im, FILE *f, const char *path)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int result = 0;

	while (!ferr_is_set(&im->c->err) && (len = getline(&buf, &cap, f)) >=
	    0) {
		im->line++;
		import_line(im, buf, (size_t)len);
		if (cli_stop_requested())
			ferr_set(&im->c->err, 503, "interrupted", "Stopped "
				"at line %ld; nothing was imported.", im->line);
	}
	if (!ferr_is_set(&im->c->err) && ferror(f))
		ferr_set(&im->c->err, 500, "read_failed", "Cannot read %s: "
			"%s.", path, strerror(errno));
	if (ferr_is_set(&im->c->err))
		result = -1;
	free(buf);
	return result;
}

/* import_report prints the summary of a committed import. */
static int import_report(struct import *im)
{
	json_t *j = json_pack("{s:O, s:I, s:I, s:I}", "imported", im->counts,
		"records", (json_int_t)im->records, "lines",
		(json_int_t)im->line, "withoutSecrets",
		(json_int_t)im->without_secrets);
	int rc = j != NULL ? cli_print_json(j, JSON_COMPACT) : -1;

	if (im->without_secrets > 0)
		fprintf(stderr, "import: %ld records came without their "
			"secrets (exported without --with-secrets) and were "
			"stored without them\n", im->without_secrets);
	json_decref(j);
	return rc;
}

int dump_import(struct cli *c, struct store *st)
{
	struct import im = { c, st, 0, 0, 0, 0, 0, json_object() };
	const char *path = c->argv[0];
	int stdin_file = strcmp(path, "-") == 0, result = -1;
	FILE *f = stdin_file ? stdin : fopen(path, "r");

	if (f == NULL || im.counts == NULL) {
		ferr_set(&c->err, 404, "not_found", "Cannot read %s: %s.",
			path, strerror(errno));
		goto out;
	}
	/* All or nothing: the file is one transaction. */
	if (store_batch_begin(st, NULL, &c->err) < 0)
		goto out;
	if (import_read(&im, f, path) < 0 || im.refused > 0) {
		store_batch_rollback(st);
		ferr_set(&c->err, 422, "import_failed", "%ld of %ld lines "
			"were refused (each is named above); nothing was "
			"imported.", im.refused, im.line);
		goto out;
	}
	if (store_batch_commit(st, &c->w, &c->err) < 0 ||
	    store_refresh_stats(st, &c->err) < 0)
		goto out;
	result = import_report(&im);
out:
	if (f != NULL && !stdin_file)
		fclose(f);
	json_decref(im.counts);
	return result;
}
