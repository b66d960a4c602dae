/* dashboard.c - dashboard counts, computed with SQL over the records. */
#include <string.h>

#include "dashboard.h"
#include "campaign.h"
#include "db.h"
#include "journal.h"

/* count runs a query returning one integer. */
static int count(sqlite3 *db, const char *sql, const char *arg,
	json_int_t *out, struct ferr *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "dashboard prepare", err);
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(db, rc, "dashboard count", err);
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* total_enabled fills {"total","enabled"} for a table, optionally only
 * the personas of one type. */
static json_t *total_enabled(sqlite3 *db, const char *table,
	const char *type, struct ferr *err)
{
	char sql[256];
	json_int_t total, enabled;
	const char *where = type ?
		" WHERE json_extract(data, '$.personaType') = ?1" : "";

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s%s", table, where);
	if (count(db, sql, type, &total, err))
		return NULL;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s%s%s "
		"json_extract(data, '$.isEnabled')", table, where,
		type ? " AND" : " WHERE");
	if (count(db, sql, type, &enabled, err))
		return NULL;
	return json_pack("{sIsI}", "total", total, "enabled", enabled);
}

json_t *dashboard_compute(sqlite3 *db, struct ferr *err)
{
	json_t *out = json_object(), *by = json_object(), *o;
	json_int_t n, total = 0, healthy;
	size_t i;

	for (i = 0; campaign_statuses[i]; i++) {
		if (count(db, "SELECT count(*) FROM campaigns WHERE "
		    "json_extract(data, '$.status') = ?1",
		    campaign_statuses[i], &n, err))
			goto fail;
		json_object_set_new(by, campaign_statuses[i], json_integer(n));
		total += n;
	}
	json_object_set_new(out, "campaigns", json_pack("{sIsO}", "total",
		total, "byStatus", by));

	o = total_enabled(db, "personas", NULL, err);
	if (!o)
		goto fail;
	json_object_set_new(out, "personas", o);
	for (i = 0; i < 2; i++) {
		const char *type = i ? "http" : "dns";
		json_t *t = total_enabled(db, "personas", type, err);

		if (!t)
			goto fail;
		json_object_set_new(o, type, t);
	}

	o = total_enabled(db, "keyword_sets", NULL, err);
	if (!o)
		goto fail;
	json_object_set_new(out, "keywordSets", o);

	o = total_enabled(db, "proxies", NULL, err);
	if (!o || count(db, "SELECT count(*) FROM proxies WHERE "
	    "json_extract(data, '$.isHealthy') IS 1", NULL, &healthy, err)) {
		json_decref(o);
		goto fail;
	}
	json_object_set_new(o, "healthy", json_integer(healthy));
	json_object_set_new(out, "proxies", o);

	o = total_enabled(db, "proxy_pools", NULL, err);
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
