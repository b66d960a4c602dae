/* dashboard.c - the dashboard's figures from the counters, and its activity summaries. */
#include <stdio.h>
#include <string.h>

#include "dashboard.h"
#include "campaign.h"
#include "dbx.h"

/* all_counts reads every counter in one statement into a new object
 * topic -> {key -> n} (keys as the schemas write them: "" for all,
 * name=JSON value, and pairs joined by '&'): a few dozen rows, one round
 * trip to the database instead of one per collection. */
static json_t *all_counts(struct dbx *db, struct ferr *err)
{
	struct dbx_stmt *st = NULL;
	json_t *out = json_object();
	int rc;

	if (dbx_prepare(db, "SELECT topic, key, n FROM counts",
	    "dashboard count", &st, err) < 0) {
		json_decref(out);
		return NULL;
	}
	while ((rc = dbx_step(st, err)) == DBX_ROW) {
		const char *topic = dbx_column_text(st, 0);
		json_t *c = json_object_get(out, topic);

		if (c == NULL) {
			c = json_object();
			json_object_set_new(out, topic, c);
		}
		json_object_set_new(c, dbx_column_text(st, 1),
			json_integer(dbx_column_int64(st, 2)));
	}
	dbx_finalize(st);
	if (rc != DBX_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static json_int_t n_of(json_t *counts, const char *key)
{
	return json_integer_value(json_object_get(counts, key));
}

/* totals gives {"total","enabled"} of one collection's counters c
 * (borrowed), and with health the proxies' "healthy", "failing" and
 * "unchecked" (isHealthy true, false, null: the words every page uses). */
static json_t *totals(json_t *c, int health)
{
	json_t *o = json_pack("{sIsI}", "total", n_of(c, ""), "enabled",
		n_of(c, "isEnabled=true"));

	if (health) {
		json_object_set_new(o, "healthy", json_integer(n_of(c,
			"isHealthy=true")));
		json_object_set_new(o, "failing", json_integer(n_of(c,
			"isHealthy=false")));
		json_object_set_new(o, "unchecked", json_integer(n_of(c,
			"isHealthy=null")));
	}
	return o;
}

/* The figures are read from the counters that the triggers keep in every
 * write transaction: one small read, whatever the size of the data. A
 * collection without counters yet counts zero everywhere. */
json_t *dashboard_compute(struct dbx *db, struct ferr *err)
{
	json_t *all = all_counts(db, err), *out, *by, *c, *o;
	char key[64];
	size_t i;

	if (!all)
		return NULL;
	out = json_object();
	by = json_object();
	c = json_object_get(all, "campaigns");
	for (i = 0; campaign_statuses[i]; i++) {
		snprintf(key, sizeof(key), "status=\"%s\"",
			campaign_statuses[i]);
		json_object_set_new(by, campaign_statuses[i],
			json_integer(n_of(c, key)));
	}
	json_object_set_new(out, "campaigns", json_pack("{sIso}", "total",
		n_of(c, ""), "byStatus", by));

	c = json_object_get(all, "personas");
	o = totals(c, 0);
	json_object_set_new(out, "personas", o);
	json_object_set_new(o, "dns", json_pack("{sIsI}", "total",
		n_of(c, "personaType=\"dns\""), "enabled",
		n_of(c, "personaType=\"dns\"&isEnabled=true")));
	json_object_set_new(o, "http", json_pack("{sIsI}", "total",
		n_of(c, "personaType=\"http\""), "enabled",
		n_of(c, "personaType=\"http\"&isEnabled=true")));

	json_object_set_new(out, "keywordSets",
		totals(json_object_get(all, "keyword-sets"), 0));
	json_object_set_new(out, "proxies",
		totals(json_object_get(all, "proxies"), 1));
	json_object_set_new(out, "proxyPools",
		totals(json_object_get(all, "proxy-pools"), 0));
	json_decref(all);
	return out;
}

json_t *dashboard_activity(struct dbx *db, int n, struct ferr *err)
{
	/* Summaries, not records: one large keyword set must not make the
	 * dashboard large. A deleted record's name is in the event's prev.
	 * (The journal keeps data and prev as text on both stores.) */
	static const char sql_sqlite[] = "SELECT seq, ts, topic, action, id, "
		"version, actor, coalesce(json_extract(data, '$.name'), "
		"json_extract(prev, '$.name')) FROM journal "
		"WHERE topic != 'dashboard' ORDER BY seq DESC LIMIT ?1";
	static const char sql_pg[] = "SELECT seq, ts, topic, action, id, "
		"version, actor, coalesce(CAST(data AS jsonb) ->> 'name', "
		"CAST(prev AS jsonb) ->> 'name') FROM journal "
		"WHERE topic != 'dashboard' ORDER BY seq DESC LIMIT ?1";
	struct dbx_stmt *st = NULL;
	json_t *out = json_array();
	int rc;

	if (dbx_prepare(db, dbx_kind(db) == DBX_PG ? sql_pg : sql_sqlite,
	    "activity", &st, err) < 0) {
		json_decref(out);
		return NULL;
	}
	dbx_bind_int64(st, 1, n);
	while ((rc = dbx_step(st, err)) == DBX_ROW) {
		json_t *ev = json_object();
		static const char *const names[] = { "seq", "ts", "topic",
			"action", "id", "version", "actor", "name" };
		int i;

		for (i = 0; i < 8; i++) {
			switch (dbx_column_type(st, i)) {
			case DBX_INTEGER:
				json_object_set_new(ev, names[i], json_integer(
					dbx_column_int64(st, i)));
				break;
			case DBX_NULL:
				json_object_set_new(ev, names[i], json_null());
				break;
			default:
				json_object_set_new(ev, names[i], json_string(
					dbx_column_text(st, i)));
			}
		}
		json_array_append_new(out, ev);
	}
	dbx_finalize(st);
	if (rc != DBX_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}
