/* campaign.c - campaign state machine, progress counters, params. */
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <stdlib.h>

#include "campaign.h"
#include "validate.h"
#include "util.h"

const char *const campaign_statuses[] = { "pending", "queued", "running",
	"paused", "completed", "failed", "cancelled", "archived", NULL };

/* One row per action: the statuses it may start from and where it goes. */
struct transition {
	const char *action;
	const char *from[5];
	const char *to;
};

static const struct transition transitions[] = {
	{ "start",    { "pending", "failed" },                   "queued" },
	{ "run",      { "queued" },                              "running" },
	{ "pause",    { "queued", "running" },                   "paused" },
	{ "resume",   { "paused" },                              "queued" },
	{ "cancel",   { "pending", "queued", "running", "paused" },
							 "cancelled" },
	{ "complete", { "running" },                             "completed" },
	{ "fail",     { "running" },                             "failed" },
	{ "archive",  { "completed", "failed", "cancelled" },    "archived" },
	{ NULL, { NULL }, NULL }
};

const char *campaign_action_name(size_t i)
{
	return i < sizeof(transitions) / sizeof(transitions[0]) ?
		transitions[i].action : NULL;
}

const char *campaign_transition(const char *from, const char *action,
	int *known)
{
	const struct transition *t;
	size_t i;

	*known = 0;
	for (t = transitions; t->action; t++) {
		if (strcmp(t->action, action) != 0)
			continue;
		*known = 1;
		for (i = 0; i < 5 && t->from[i]; i++)
			if (strcmp(t->from[i], from) == 0)
				return t->to;
		return NULL;
	}
	return NULL;
}

json_t *campaign_allowed_actions(const char *status)
{
	json_t *out = json_array();
	const struct transition *t;
	int known;

	for (t = transitions; t->action; t++)
		if (campaign_transition(status, t->action, &known))
			json_array_append_new(out, json_string(t->action));
	return out;
}

static long long counter(json_t *rec, const char *name)
{
	return rec ? (long long)json_integer_value(json_object_get(rec, name))
		: 0;
}

static const char *status_of(json_t *rec)
{
	const char *s = json_string_value(json_object_get(rec, "status"));

	return s ? s : "pending";
}

/* Every persona id in params must be a persona of the wanted type. */
static int check_persona_types(const struct validate_ctx *ctx,
	json_t *params,
	const char *block, const char *want, struct ferr *err)
{
	json_t *ids = json_object_get(params, "personaIds");
	json_t *id;
	size_t i;
	int result = 0;

	json_array_foreach(ids, i, id) {
		struct ferr e2;
		json_t *p;
		const char *type;
		char path[128];

		ferr_init(&e2);
		p = ctx->get_cb(ctx->arg, "personas", json_string_value(id),
			&e2);
		ferr_release(&e2);
		if (!p)
			continue; /* existence was checked already */
		type = json_string_value(json_object_get(p, "personaType"));
		if (!type || strcmp(type, want) != 0) {
			snprintf(path, sizeof(path), "%s.personaIds[%zu]",
				block, i);
			ferr_field(err, path, "must be a %s persona", want);
			result = -1;
		}
		json_decref(p);
	}
	return result;
}

int campaign_validate(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err)
{
	static const char *const progress[] = { "processedItems",
		"successfulItems", "failedItems" };
	const char *status = status_of(rec);
	long long total, processed, ok, failed;
	json_t *params;
	size_t i;
	int result = 0;

	for (i = 0; i < 3; i++) {
		long long nv = counter(rec, progress[i]);
		long long ov = counter(old, progress[i]);

		if (nv == ov)
			continue;
		/* A restored campaign comes back with its progress. */
		if (!old && ctx != NULL && ctx->restoring)
			continue;
		if (!old) {
			ferr_field(err, progress[i], "is reported by workers "
				"while the campaign runs; send 0 or leave it "
				"out");
			return -1;
		}
		if (strcmp(status_of(old), "running") != 0)
			return ferr_set(err, 409, "not_running", "Progress "
				"can only be reported while the campaign is "
				"running (it is %s).", status_of(old));
		if (nv < ov) {
			ferr_field(err, progress[i], "must not decrease "
				"(it is %lld)", ov);
			result = -1;
		}
	}
	if (result)
		return result;

	total = counter(rec, "totalItems");
	processed = counter(rec, "processedItems");
	ok = counter(rec, "successfulItems");
	failed = counter(rec, "failedItems");
	if (processed != ok + failed)
		return ferr_field(err, "processedItems", "must equal "
			"successfulItems + failedItems (%lld)", ok + failed);
	if (processed > total)
		return ferr_field(err, "processedItems", "must not exceed "
			"totalItems (%lld)", total);

	params = json_object_get(rec, json_is_object(json_object_get(rec,
		"dnsValidationParams")) ? "dnsValidationParams" :
		"httpKeywordParams");
	if (old && json_is_object(params) && json_equal(json_object_get(params,
	    "sourceCampaignId"), json_object_get(old, "id")))
		return ferr_field(err, "sourceCampaignId",
			"must name another campaign, not this one");

	params = json_object_get(rec, "dnsValidationParams");
	if (json_is_object(params) && check_persona_types(ctx, params,
	    "dnsValidationParams", "dns", err))
		result = -1;
	params = json_object_get(rec, "httpKeywordParams");
	if (json_is_object(params) && check_persona_types(ctx, params,
	    "httpKeywordParams", "http", err))
		result = -1;
	if (result)
		return result;

	/* Reaching the total completes a running campaign by itself. */
	if (strcmp(status, "running") == 0 && total > 0 &&
	    processed >= total) {
		char now[UTIL_TS_LEN];

		util_ts_now(now);
		json_object_set_new(rec, "status", json_string("completed"));
		json_object_set_new(rec, "completedAt", json_string(now));
	}
	(void)res;
	return 0;
}

void campaign_derive(json_t *rec)
{
	long long total = counter(rec, "totalItems");
	long long processed = counter(rec, "processedItems");
	double pct = 0;

	if (total > 0)
		pct = floor((double)processed * 1000.0 / (double)total) / 10.0;
	else if (strcmp(status_of(rec), "completed") == 0)
		pct = 100;
	json_object_set_new(rec, "progressPercentage", json_real(pct));
}

int campaign_apply_action(json_t *rec, const char *action, json_t *body,
	const char *now, struct ferr *err)
{
	const char *from = status_of(rec);
	const char *to;
	json_t *allowed;
	char *list;
	int known;

	to = campaign_transition(from, action, &known);
	if (!known)
		return ferr_set(err, 404, "unknown_action",
			"There is no campaign action '%s'.", action);
	if (!to) {
		allowed = campaign_allowed_actions(from);
		list = json_dumps(allowed, JSON_COMPACT);
		ferr_set(err, 409, "invalid_transition", "A %s campaign "
			"cannot %s; allowed actions: %s.", from, action,
			list ? list : "[]");
		free(list);
		json_decref(allowed);
		return -1;
	}
	/* Only fail takes a field (errorMessage); a misspelt one must not
	 * pass unnoticed, as unknown fields nowhere do. */
	if (json_is_object(body)) {
		const char *key;
		json_t *v;
		int bad = 0;

		json_object_foreach(body, key, v) {
			if (strcmp(action, "fail") == 0 &&
			    strcmp(key, "errorMessage") == 0)
				continue;
			ferr_field(err, key, "is not a field the %s action "
				"takes", action);
			bad = 1;
		}
		if (bad)
			return -1;
	}
	if (strcmp(action, "fail") == 0) {
		json_t *m = body ? json_object_get(body, "errorMessage") : NULL;

		if (m && !json_is_null(m) && (!json_is_string(m) ||
		    strlen(json_string_value(m)) > 4096))
			return ferr_field(err, "errorMessage",
				"must be a string of at most 4096 bytes");
		json_object_set_new(rec, "errorMessage", json_string(
			json_is_string(m) ? json_string_value(m) :
			"failed"));
	}
	if (strcmp(action, "start") == 0 && strcmp(from, "failed") == 0) {
		json_object_set_new(rec, "errorMessage", json_null());
		json_object_set_new(rec, "completedAt", json_null());
	}
	if (strcmp(to, "running") == 0 &&
	    json_is_null(json_object_get(rec, "startedAt")))
		json_object_set_new(rec, "startedAt", json_string(now));
	if (strcmp(to, "completed") == 0 || strcmp(to, "failed") == 0 ||
	    strcmp(to, "cancelled") == 0)
		json_object_set_new(rec, "completedAt", json_string(now));
	json_object_set_new(rec, "status", json_string(to));
	return 0;
}
