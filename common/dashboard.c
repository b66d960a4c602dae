/* dashboard.c - dashboard counts, computed with SQL over the records. */
#include <string.h>

#include "dashboard.h"
#include "campaign.h"
#include "db.h"
#include "journal.h"

/* each_row runs sql and calls row_cb for every row; 0 or -1 with err. */
static int each_row(sqlite3 *db, const char *sql, json_t *out,
	void (*row_cb)(sqlite3_stmt *st, json_t *out), struct ferr *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "dashboard prepare", err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row_cb(st, out);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, "dashboard count", err);
	return 0;
}

/* status_row adds one "status, count" row to byStatus. */
static void status_row_cb(sqlite3_stmt *st, json_t *by)
{
	const char *status = (const char *)sqlite3_column_text(st, 0);

	if (status && json_object_get(by, status))
		json_object_set_new(by, status, json_integer(
			sqlite3_column_int64(st, 1)));
}

/* add raises the count o[key] by n. */
static void add(json_t *o, const char *key, json_int_t n)
{
	json_object_set_new(o, key, json_integer(json_integer_value(
		json_object_get(o, key)) + n));
}

/* enabled_row_cb adds one "isEnabled, count" row to total and enabled. */
static void enabled_row_cb(sqlite3_stmt *st, json_t *o)
{
	json_int_t n = sqlite3_column_int64(st, 1);

	add(o, "total", n);
	if (sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
	    sqlite3_column_int(st, 0) == 1)
		add(o, "enabled", n);
}

/* type_row_cb adds one "personaType, isEnabled, count" row. */
static void type_row_cb(sqlite3_stmt *st, json_t *personas)
{
	const char *type = (const char *)sqlite3_column_text(st, 0);
	json_t *o = type ? json_object_get(personas, type) : NULL;

	if (!o)
		return;
	add(o, "total", sqlite3_column_int64(st, 2));
	if (sqlite3_column_type(st, 1) == SQLITE_INTEGER &&
	    sqlite3_column_int(st, 1) == 1)
		add(o, "enabled", sqlite3_column_int64(st, 2));
}

static void healthy_row_cb(sqlite3_stmt *st, json_t *o)
{
	json_object_set_new(o, "healthy", json_integer(
		sqlite3_column_int64(st, 0)));
}

/* totals counts a table's records, the enabled and (for proxies) the
 * healthy ones. The queries group by or search on indexed expressions
 * (schema.c indexes every counted field), so they read the indexes,
 * not every record's JSON. */
static json_t *totals(sqlite3 *db, const char *table, int healthy,
	struct ferr *err)
{
	json_t *o = healthy ? json_pack("{sisisi}", "total", 0, "enabled", 0,
		"healthy", 0) : json_pack("{sisi}", "total", 0, "enabled", 0);
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT json_extract(data, '$.isEnabled'), "
		"count(*) FROM %s GROUP BY 1", table);
	if (each_row(db, sql, o, enabled_row_cb, err))
		goto fail;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE "
		"json_extract(data, '$.isHealthy') = 1", table);
	if (healthy && each_row(db, sql, o, healthy_row_cb, err))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* A few grouped reads of indexes: the figures of one snapshot. */
json_t *dashboard_compute(sqlite3 *db, struct ferr *err)
{
	json_t *out = json_object(), *by = json_object(), *o;
	json_int_t total = 0;
	const char *key;
	json_t *v;
	size_t i;

	for (i = 0; campaign_statuses[i]; i++)
		json_object_set_new(by, campaign_statuses[i], json_integer(0));
	if (each_row(db, "SELECT json_extract(data, '$.status'), count(*) "
	    "FROM campaigns GROUP BY 1", by, status_row_cb, err))
		goto fail;
	json_object_foreach(by, key, v)
		total += json_integer_value(v);
	json_object_set_new(out, "campaigns", json_pack("{sIsO}", "total",
		total, "byStatus", by));

	o = totals(db, "personas", 0, err);
	if (!o)
		goto fail;
	json_object_set_new(out, "personas", o);
	json_object_set_new(o, "dns", json_pack("{sisi}", "total", 0,
		"enabled", 0));
	json_object_set_new(o, "http", json_pack("{sisi}", "total", 0,
		"enabled", 0));
	if (each_row(db, "SELECT json_extract(data, '$.personaType'), "
	    "json_extract(data, '$.isEnabled'), count(*) FROM personas "
	    "GROUP BY 1, 2", o, type_row_cb, err))
		goto fail;

	o = totals(db, "keyword_sets", 0, err);
	if (!o)
		goto fail;
	json_object_set_new(out, "keywordSets", o);
	o = totals(db, "proxies", 1, err);
	if (!o)
		goto fail;
	json_object_set_new(out, "proxies", o);
	o = totals(db, "proxy_pools", 0, err);
	if (!o)
		goto fail;
	json_object_set_new(out, "proxyPools", o);
	json_decref(by);
	return out;
fail:
	json_decref(by);
	json_decref(out);
	return NULL;
}

json_t *dashboard_activity(sqlite3 *db, int n, struct ferr *err)
{
	sqlite3_stmt *st = NULL;
	json_t *out = json_array();
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT seq, ts, topic, action, id, "
		"version, actor, data FROM journal WHERE topic != 'dashboard' "
		"ORDER BY seq DESC LIMIT ?1", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		json_decref(out);
		db_fail(db, rc, "activity prepare", err);
		return NULL;
	}
	sqlite3_bind_int(st, 1, n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *ev = journal_event_json(st);

		if (ev)
			json_array_append_new(out, ev);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		db_fail(db, rc, "activity read", err);
		return NULL;
	}
	return out;
}
