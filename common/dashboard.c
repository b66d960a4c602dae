/* dashboard.c - the dashboard's figures from the counters, and its activity summaries. */
#include <stdio.h>
#include <string.h>

#include "dashboard.h"
#include "campaign.h"
#include "dbx.h"

/* counts_of reads the counters of one collection into a new object
 * key -> n (keys as schema.c writes them: "" for all, name=JSON value,
 * and pairs joined by '&'). */
static json_t *counts_of(struct dbx *db, const char *topic, struct ferr *err)
{
	struct dbx_stmt *st = NULL;
	json_t *out = json_object();
	int rc;

	if (dbx_prepare(db, "SELECT key, n FROM counts WHERE topic = ?1",
	    "dashboard count", &st, err) < 0) {
		json_decref(out);
		return NULL;
	}
	dbx_bind_text(st, 1, topic);
	while ((rc = dbx_step(st, err)) == DBX_ROW)
		json_object_set_new(out, dbx_column_text(st, 0),
			json_integer(dbx_column_int64(st, 1)));
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

/* add_totals reads topic's counters and sets key of out to its totals. */
static int add_totals(struct dbx *db, json_t *out, const char *key,
	const char *topic, int health, struct ferr *err)
{
	json_t *c = counts_of(db, topic, err);

	if (!c)
		return -1;
	json_object_set_new(out, key, totals(c, health));
	json_decref(c);
	return 0;
}

/* The figures are read from the counters that the triggers keep in every
 * write transaction: a few index reads, whatever the size of the data. */
json_t *dashboard_compute(struct dbx *db, struct ferr *err)
{
	json_t *out = json_object(), *by = json_object(), *c, *o;
	char key[64];
	size_t i;

	c = counts_of(db, "campaigns", err);
	if (!c)
		goto fail;
	for (i = 0; campaign_statuses[i]; i++) {
		snprintf(key, sizeof(key), "status=\"%s\"",
			campaign_statuses[i]);
		json_object_set_new(by, campaign_statuses[i],
			json_integer(n_of(c, key)));
	}
	json_object_set_new(out, "campaigns", json_pack("{sIsO}", "total",
		n_of(c, ""), "byStatus", by));
	json_decref(c);

	c = counts_of(db, "personas", err);
	if (!c)
		goto fail;
	o = totals(c, 0);
	json_object_set_new(out, "personas", o);
	json_object_set_new(o, "dns", json_pack("{sIsI}", "total",
		n_of(c, "personaType=\"dns\""), "enabled",
		n_of(c, "personaType=\"dns\"&isEnabled=true")));
	json_object_set_new(o, "http", json_pack("{sIsI}", "total",
		n_of(c, "personaType=\"http\""), "enabled",
		n_of(c, "personaType=\"http\"&isEnabled=true")));
	json_decref(c);

	if (add_totals(db, out, "keywordSets", "keyword-sets", 0, err) ||
	    add_totals(db, out, "proxies", "proxies", 1, err) ||
	    add_totals(db, out, "proxyPools", "proxy-pools", 0, err))
		goto fail;
	json_decref(by);
	return out;
fail:
	json_decref(by);
	json_decref(out);
	return NULL;
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
