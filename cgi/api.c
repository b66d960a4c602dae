/* api.c - the HTTP API: route table and handlers over the store. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "body.h"
#include "campaign.h"
#include "formjson.h"
#include "list.h"
#include "log.h"
#include "role.h"
#include "token.h"
#include "topic.h"
#include "util.h"
#include "api.h"
#include "failpage.h"
#include "header.h"
#include "redirect.h"
#include "response.h"

/* Everything a handler gets; the request is fully parsed and checked. */
struct api {
	struct api_env *env;
	struct request *rq;
	struct response *resp;
	struct route_match m;
	const struct resource *res;   /* {c}, or campaigns for actions */
	json_t *body;                 /* decoded body; owned */
	struct store_write w;
	unsigned allow;               /* for 405 */
	enum role role;               /* the user's, from the config's roles */
	struct ferr *err;
};

enum route_flags {
	R_WRITE = 1 << 0,     /* changes state: origin, user, If-Match */
	R_BODY = 1 << 1,      /* needs a body (a JSON object or a form) */
	R_BODY_OPT = 1 << 2,  /* takes a body when there is one */
};

static int h_list(struct api *a);
static int h_create(struct api *a);
static int h_get(struct api *a);
static int h_replace(struct api *a);
static int h_patch(struct api *a);
static int h_delete(struct api *a);
static int h_action(struct api *a);
static int h_dashboard(struct api *a);
static int h_changes(struct api *a);
static int h_token(struct api *a);
static int h_metrics(struct api *a);

/*
 * The API, declared once. Patterns are matched segment by segment from
 * the "api" segment of REQUEST_URI; {c} is a collection of the resource
 * table, {id} a lowercase UUID, {action} a campaign action. Whatever does
 * not match is 404 before any handler runs, a known path with another
 * method is 405, so junk never reaches the store. The last two columns
 * say who may (the config's roles): reading and subscribing is a viewer's,
 * campaign actions and progress reports an operator's, every other write
 * an admin's.
 */
static const struct route routes[] = {
	/* Metrics need no role: the server recipes open them to the
	 * monitoring addresses only (MONITOR_ALLOW), as /push/metrics. */
	{RM_GET, "api/metrics", h_metrics, 0, ROLE_NONE, 0},
	{RM_GET, "api/dashboard", h_dashboard, 0, ROLE_VIEWER, 0},
	{RM_GET, "api/changes", h_changes, 0, ROLE_VIEWER, 0},
	{RM_GET, "api/token", h_token, 0, ROLE_VIEWER, 0},
	{RM_GET, "api/{c}", h_list, 0, ROLE_VIEWER, 0},
	{RM_POST, "api/{c}", h_create, R_WRITE | R_BODY, ROLE_ADMIN, 0},
	{RM_GET, "api/{c}/{id}", h_get, 0, ROLE_VIEWER, 0},
	{RM_PUT, "api/{c}/{id}", h_replace, R_WRITE | R_BODY, ROLE_ADMIN, 0},
	{RM_PATCH, "api/{c}/{id}", h_patch, R_WRITE | R_BODY, ROLE_ADMIN,
		ROLE_OPERATOR},
	{RM_DELETE, "api/{c}/{id}", h_delete, R_WRITE, ROLE_ADMIN, 0},
	{RM_POST, "api/campaigns/{id}/{action}", h_action,
		R_WRITE | R_BODY_OPT, ROLE_OPERATOR, 0},
};

#define NROUTES (sizeof routes / sizeof routes[0])
/* The metrics slot of the requests that match no route. */
#define SLOT_UNMATCHED NROUTES
#define METRICS_SUFFIX "-metrics"
/* With PostgreSQL: flowpush-metrics beside the config. */
#define METRICS_PG_NAME "flowpush"

static int check_segment_cb(const char *kind, const char *seg)
{
	size_t i;

	if (strcmp(kind, "c") == 0)
		return resource_find(seg) != NULL;
	if (strcmp(kind, "id") == 0)
		return util_is_uuid(seg);
	if (strcmp(kind, "action") == 0)
		for (i = 0; campaign_action_name(i); i++)
			if (strcmp(campaign_action_name(i), seg) == 0)
				return 1;
	return 0;
}

void api_env_init(struct api_env *env, const struct config *cfg,
	const atomic_int *stop, struct checkpoint *checkpoint,
	struct apimetrics *metrics)
{
	memset(env, 0, sizeof *env);
	env->cfg = cfg;
	env->stop = stop;
	env->checkpoint = checkpoint;
	env->metrics = metrics;
}

/* routes_tag is an FNV-1a hash of the route table's methods and
 * patterns: what the metrics slots count. */
static uint64_t routes_tag(void)
{
	uint64_t h = 14695981039346656037ULL;
	const char *p;
	size_t i;

	for (i = 0; i < NROUTES; i++) {
		h = (h ^ routes[i].methods) * 1099511628211ULL;
		for (p = routes[i].pattern; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	}
	return h;
}

int api_metrics_open(struct apimetrics *m, const struct config *cfg,
	struct ferr *err)
{
	const char *base = cfg->database;
	char *path, *dir = NULL;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!cfg->api_metrics)
		return 0;
	if (config_database_is_pg(cfg->database)) {
		/* No local database file: the counts of this host's
		 * processes live beside the config they share. */
		if (cfg->path == NULL ||
		    (dir = config_path_dir(cfg->path, CONFIG_DIR_AS_WRITTEN))
		    == NULL)
			return ferr_set(err, 500, "metrics_file", "With a "
				"PostgreSQL database the counts live beside "
				"the config file, and there is none.");
	}
	n = (dir ? strlen(dir) + sizeof(METRICS_PG_NAME) : strlen(base)) +
		sizeof(METRICS_SUFFIX);
	path = malloc(n);
	if (!path) {
		free(dir);
		return ferr_set(err, 500, "internal_error", "Out of memory.");
	}
	if (dir)
		snprintf(path, n, "%s/" METRICS_PG_NAME METRICS_SUFFIX, dir);
	else
		snprintf(path, n, "%s" METRICS_SUFFIX, base);
	free(dir);
	rc = apimetrics_open(m, path, NROUTES + 1, routes_tag(), err);
	free(path);
	return rc;
}

void api_env_release(struct api_env *env)
{
	if (env->store_ready)
		store_close(&env->store);
	env->store_ready = 0;
}

static int stopping(const struct api *a)
{
	return a->env->stop && atomic_load(a->env->stop);
}

static int need_store(struct api *a)
{
	if (a->env->store_ready)
		return 0;
	if (store_open(&a->env->store, a->env->cfg, a->err) < 0)
		return -1;
	store_checkpoint_watch(&a->env->store, a->env->checkpoint);
	a->env->store_ready = 1;
	return 0;
}

/* answer renders doc (stolen) with status, and its ETag when asked. */
static int answer(struct api *a, int status, json_t *doc, int etag)
{
	int result;

	result = response_json(a->resp, status, doc);
	if (result < 0)
		ferr_set(a->err, 500, "internal_error", "Out of memory.");
	else if (etag)
		response_etag(a->resp, doc);
	json_decref(doc);
	return result;
}

static int h_list(struct api *a)
{
	json_t *doc;

	if (need_store(a) < 0)
		return -1;
	doc = list_window(&a->env->store, a->res, &a->rq->query, a->err);
	return doc ? answer(a, 200, doc, 0) : -1;
}

static int h_create(struct api *a)
{
	json_t *doc;
	const char *id;

	if (need_store(a) < 0)
		return -1;
	doc = store_create(&a->env->store, a->res, a->body, &a->w, a->err);
	if (!doc)
		return -1;
	id = json_string_value(json_object_get(doc, "id"));
	if (id)
		response_header(a->resp, "Location", "%s/api/%s/%s",
			a->rq->prefix, a->res->name, id);
	return answer(a, 201, doc, 1);
}

static int h_get(struct api *a)
{
	json_t *doc, *v;
	const char *id = route_param(&a->m, "id");

	if (need_store(a) < 0)
		return -1;
	doc = store_get(&a->env->store, a->res, id, a->err);
	if (!doc)
		return -1;
	v = json_object_get(doc, "version");
	if (json_is_integer(v) && header_etag_matches(a->rq->if_none_match,
		json_integer_value(v))) {
		a->resp->status = 304;
		response_etag(a->resp, doc);
		json_decref(doc);
		return 0;
	}
	return answer(a, 200, doc, 1);
}

static int h_replace(struct api *a)
{
	json_t *doc;

	if (need_store(a) < 0)
		return -1;
	doc = store_replace(&a->env->store, a->res,
		route_param(&a->m, "id"), a->body, &a->w, a->err);
	return doc ? answer(a, 200, doc, 1) : -1;
}

static int h_patch(struct api *a)
{
	json_t *doc;

	if (need_store(a) < 0)
		return -1;
	doc = store_patch(&a->env->store, a->res,
		route_param(&a->m, "id"), a->body, &a->w, a->err);
	return doc ? answer(a, 200, doc, 1) : -1;
}

static int h_delete(struct api *a)
{
	if (need_store(a) < 0)
		return -1;
	if (store_delete(&a->env->store, a->res,
		route_param(&a->m, "id"), &a->w, a->err) < 0)
		return -1;
	a->resp->status = 204;
	return 0;
}

static int h_action(struct api *a)
{
	json_t *doc;

	if (need_store(a) < 0)
		return -1;
	doc = store_action(&a->env->store, route_param(&a->m, "id"),
		route_param(&a->m, "action"), a->body, &a->w, a->err);
	return doc ? answer(a, 200, doc, 1) : -1;
}

static int h_dashboard(struct api *a)
{
	json_t *doc;

	if (need_store(a) < 0)
		return -1;
	doc = store_dashboard(&a->env->store, a->err);
	return doc ? answer(a, 200, doc, 0) : -1;
}

/* query_long reads an optional integer parameter; 400 when malformed. */
static int query_long(struct api *a, const char *name, long long def,
	long long *out)
{
	const char *v = form_get(&a->rq->query, name);

	*out = def;
	if (!v)
		return 0;
	if (util_parse_long(v, LLONG_MIN, LLONG_MAX, out) < 0)
		return ferr_set(a->err, 400, "bad_request",
			"%s must be an integer.", name);
	return 0;
}

/* Sleeps in 100 ms steps until the journal has a seq past since, the
 * deadline passes or the process is stopping. Polling the newest seq is
 * cheap (one indexed read) and needs no daemon, so it works on shared
 * hosting in CGI mode too. */
static int wait_for_seq(struct api *a, int64_t since, int64_t deadline)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	int64_t last;

	while (util_mono_ms() < deadline && !stopping(a)) {
		nanosleep(&ts, NULL);
		if (store_last_seq(&a->env->store, &last, a->err) < 0)
			return -1;
		if (last > since)
			return 0;
	}
	return 0;
}

/* Long-polls waiting right now in this process. In FastCGI each holds a
 * worker thread, so they may take all threads but two: the rest of the
 * API must keep answering while pages wait. */
static atomic_int waiters;

static int waiter_enter(struct api *a)
{
	long cap = a->env->cfg->threads - 2;

	if (!a->env->stop)
		return 0; /* CGI: every request is its own process */
	if (atomic_fetch_add(&waiters, 1) >= (cap < 1 ? 1 : cap)) {
		atomic_fetch_sub(&waiters, 1);
		a->err->retry_after = 2;
		return ferr_set(a->err, 503, "too_many_waiters", "Too many "
			"long-polls are waiting; try again shortly.");
	}
	return 1;
}

/* grant_check holds the topics asked for (tl, from ?topics=) to what
 * REMOTE_USER may subscribe to (topic_grants): without ?topics= the user
 * gets the grant itself; topics outside it are 403. */
static int grant_check(struct api *a, struct topic_list *tl)
{
	struct topic_list g;
	int rc = topic_grant_for(a->env->cfg->topic_grants,
		a->rq->remote_user, &g, a->err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return ferr_set(a->err, 403, "forbidden_topics",
			"This user may not subscribe to any topic.");
	if (topic_list_covers(&g, tl)) {
		topic_list_release(&g);
		return 0;
	}
	if (form_get(&a->rq->query, "topics") == NULL) {
		topic_list_release(tl);
		*tl = g;
		return 0;
	}
	topic_list_release(&g);
	return ferr_set(a->err, 403, "forbidden_topics", "Some of these "
		"topics are not granted to this user.");
}

/*
 * GET /api/changes: the long-poll transport. With wait=S it holds the
 * request until an event on the wanted topics exists or S seconds pass;
 * in FastCGI that occupies one worker thread for the time, which is why
 * wait is bounded by changes_wait_max.
 */
static int h_changes(struct api *a)
{
	struct topic_list tl = {0};
	const char *v = form_get(&a->rq->query, "since");
	long long since, limit, wait;
	int64_t cur, deadline, next;
	json_t *doc = NULL, *events;
	int result = -1, entered = 0;

	if (!v || util_parse_long(v, 0, INT64_MAX, &since) < 0) {
		ferr_set(a->err, 400, "bad_request",
			"since must be an integer of 0 or more.");
		goto out;
	}
	if (query_long(a, "limit", 100, &limit) < 0 ||
		query_long(a, "wait", 0, &wait) < 0)
		goto out;
	limit = limit < 1 ? 1 : limit > 1000 ? 1000 : limit;
	wait = wait < 0 ? 0 : wait;
	if (wait > a->env->cfg->changes_wait_max)
		wait = a->env->cfg->changes_wait_max;
	if (topic_list_parse(form_get(&a->rq->query, "topics"), &tl,
		a->err) < 0 || grant_check(a, &tl) < 0)
		goto out;
	if (need_store(a) < 0)
		goto out;
	if (wait > 0) {
		entered = waiter_enter(a);
		if (entered < 0)
			goto out;
	}
	deadline = util_mono_ms() + wait * 1000;
	cur = since;
	for (;;) {
		doc = store_changes(&a->env->store, cur, tl.all ? NULL : &tl,
			(int)limit, a->err);
		if (!doc)
			goto out;
		events = json_object_get(doc, "events");
		if (json_is_true(json_object_get(doc, "reset")) ||
			json_array_size(events) > 0 ||
			util_mono_ms() >= deadline || stopping(a))
			break;
		/* Rows up to "seq" were all filtered out: wait past them. */
		next = json_integer_value(json_object_get(doc, "seq"));
		if (next > cur)
			cur = next;
		json_decref(doc);
		doc = NULL;
		if (wait_for_seq(a, cur, deadline) < 0)
			goto out;
	}
	result = answer(a, 200, doc, 0);
	doc = NULL;
out:
	if (entered > 0)
		atomic_fetch_sub(&waiters, 1);
	json_decref(doc);
	topic_list_release(&tl);
	return result;
}

/* GET /api/token: a grant for the push daemon, signed with the secret. */
static int h_token(struct api *a)
{
	const struct config *cfg = a->env->cfg;
	struct topic_list tl = {0};
	char *topics = NULL, *tok = NULL;
	const char *user = a->rq->remote_user;
	int64_t expires;
	json_t *doc;
	int result = -1;

	if (!cfg->secret || !*cfg->secret) {
		ferr_set(a->err, 404, "not_configured",
			"Push tokens are not configured on this server.");
		goto out;
	}
	if (topic_list_parse(form_get(&a->rq->query, "topics"), &tl,
		a->err) < 0 || grant_check(a, &tl) < 0)
		goto out;
	if (user && strchr(user, '|')) {
		ferr_set(a->err, 400, "bad_user",
			"This user name cannot be put into a token.");
		goto out;
	}
	topics = topic_list_format(&tl);
	expires = util_now_ms() / 1000 + cfg->token_ttl;
	tok = topics ? token_sign(cfg->secret, topics, user, expires) : NULL;
	if (!tok) {
		ferr_set(a->err, 500, "internal_error", "Out of memory.");
		goto out;
	}
	doc = json_pack("{s:s,s:I,s:s}", "token", tok, "expires",
		(json_int_t)expires, "topics", topics);
	if (!doc) {
		ferr_set(a->err, 500, "internal_error", "Out of memory.");
		goto out;
	}
	result = answer(a, 200, doc, 0);
out:
	free(tok);
	free(topics);
	topic_list_release(&tl);
	return result;
}

/*
 * GET /api/metrics: the request counters of every process, in the
 * Prometheus text format. The web server configs keep it to loopback
 * (docs/OPERATIONS.md); 404 when api_metrics is off.
 */
static int h_metrics(struct api *a)
{
	struct apimetrics_label labels[NROUTES + 1];
	char names[NROUTES][2][64];
	size_t i, len = 0;
	char *text;

	if (!a->env->metrics || !a->env->metrics->file)
		return ferr_set(a->err, 404, "not_configured", "API metrics "
			"are off on this server (api_metrics).");
	for (i = 0; i < NROUTES; i++) {
		snprintf(names[i][0], sizeof names[i][0], "/%s",
			routes[i].pattern);
		header_allow_format(routes[i].methods, names[i][1],
			sizeof names[i][1]);
		labels[i].route = names[i][0];
		labels[i].method = names[i][1];
	}
	labels[SLOT_UNMATCHED].route = "unmatched";
	labels[SLOT_UNMATCHED].method = "*";
	text = apimetrics_render(a->env->metrics, labels, &len);
	if (!text)
		return ferr_set(a->err, 500, "internal_error", "Out of memory.");
	response_text(a->resp, 200, "text/plain; version=0.0.4; "
		"charset=utf-8", text, len);
	return 0;
}

/* Takes the body the route wants: the JSON object, or the form turned
 * into one by the resource's field table. */
static int take_body(struct api *a, unsigned flags)
{
	struct request *rq = a->rq;

	if (ferr_is_set(&rq->body_err))
		return ferr_set(a->err, rq->body_err.status,
			rq->body_err.code, "%s", rq->body_err.message);
	switch (rq->body_kind) {
	case BODY_JSON:
		a->body = json_incref(rq->json);
		return 0;
	case BODY_FORM:
		a->body = formjson_decode(flags & R_BODY ? a->res : NULL,
			&rq->form, a->err);
		if (!a->body)
			return ferr_set(a->err, 400, "bad_form",
				"The form could not be read.");
		return 0;
	default:
		break;
	}
	if (flags & R_BODY)
		return ferr_set(a->err, 400, "bad_json",
			"The body must be a JSON object.");
	return 0;
}

/* role_refuse answers a request that needs role need and the user's role
 * falls short: 401 for the anonymous (signing in may help), else 403. */
static int role_refuse(struct api *a, enum role need)
{
	if (a->rq->remote_user == NULL)
		return ferr_set(a->err, 401, "unauthorized",
			"Sign in to use this server.");
	if (a->role == ROLE_NONE)
		return ferr_set(a->err, 403, "forbidden",
			"This user has no role on this server.");
	return ferr_set(a->err, 403, "forbidden", "This user's role (%s) "
		"does not allow this; it needs %s.", role_name(a->role),
		role_name(need));
}

/* progress_only is non-zero when every field of the body is a progress
 * counter (FF_PROGRESS) or one that writes ignore (id, version, ...). */
static int progress_only(const struct api *a)
{
	const struct field *f;
	const char *key;
	json_t *v;

	json_object_foreach(a->body, key, v) {
		if (store_field_ignored(a->res, key))
			continue;
		for (f = a->res->fields; f->name; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (!f->name || !(f->flags & FF_PROGRESS))
			return 0;
	}
	return 1;
}

/* role_allows holds the user's role to the route's. Before the body is
 * read (body_read 0) it asks for the least role that could be enough, so
 * a viewer's write is refused whatever it carries; after, the whole rule:
 * progress_role suffices only for a body of progress counters. */
static int role_allows(struct api *a, int body_read)
{
	const struct route *r = a->m.route;
	enum role least = r->progress_role ? (enum role)r->progress_role :
		(enum role)r->role;

	if ((int)a->role >= r->role)
		return 0;
	if (a->role < least)
		return role_refuse(a, least);
	if (!body_read || progress_only(a))
		return 0;
	return ferr_set(a->err, 403, "forbidden", "This user's role (%s) may "
		"change only progress counters here; other fields need %s.",
		role_name(a->role), role_name((enum role)r->role));
}

/* dispatch checks everything the route table says, generically, before
 * the handler runs. */
static int dispatch(struct api *a)
{
	struct request *rq = a->rq;
	const struct config *cfg = a->env->cfg;
	const struct route *route;
	const char *c;

	if (rq->too_deep || route_find(routes, NROUTES, rq->seg, rq->nseg,
		rq->method, check_segment_cb, &a->m) < 0) {
		if (rq->too_deep || a->m.allow == 0)
			return ferr_set(a->err, 404, "not_found",
				"There is nothing at this address.");
		/* A form whose _method could not be read was meant for
		 * another method: say what is wrong with the form. */
		if (ferr_is_set(&rq->body_err) && redirect_wants_form_answer(rq))
			return ferr_set(a->err, rq->body_err.status,
				rq->body_err.code, "%s", rq->body_err.message);
		a->allow = a->m.allow;
		return ferr_set(a->err, 405, "method_not_allowed",
			"This method is not allowed here.");
	}
	route = a->m.route;
	if (role_for(cfg->roles, rq->remote_user, &a->role, a->err) < 0 ||
		role_allows(a, 0) < 0)
		return -1;
	if (route->flags & R_WRITE) {
		if (request_cross_origin(rq))
			return ferr_set(a->err, 403, "cross_origin",
				"Changes must come from pages of this site.");
		if (cfg->require_user && !rq->remote_user)
			return ferr_set(a->err, 401, "unauthorized",
				"Sign in to change data.");
		if (header_if_match_parse(rq->if_match, &a->w.if_match) < 0)
			return ferr_set(a->err, 412, "precondition_failed",
				"If-Match must name one version in quotes, "
				"such as \"3\".");
		a->w.actor = rq->remote_user;
	}
	c = route_param(&a->m, "c");
	a->res = resource_find(c ? c : "campaigns");
	if ((route->flags & (R_BODY | R_BODY_OPT)) &&
		take_body(a, route->flags) < 0)
		return -1;
	if (role_allows(a, 1) < 0)
		return -1;
	if (route->handler(a) < 0) {
		if (!ferr_is_set(a->err))
			ferr_set(a->err, 500, "internal_error",
				"The request could not be completed.");
		return -1;
	}
	return 0;
}

/* What the failure page may load: the console's stylesheet, nothing
 * else, and no script at all (it echoes server text into HTML). */
#define FAILPAGE_CSP "default-src 'none'; style-src 'self'; img-src data:; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/*
 * fail_page turns the error answer to a form into the "Not saved" page of
 * failpage.c, with the error's status. Its link goes back to loc, which
 * carries what was typed so that the page's script (when it runs) fills
 * the form again; a form from another site gets the bare target, so that
 * it cannot fill a form of this site through the link.
 */
static void fail_page(struct request *rq, struct response *resp,
	const struct ferr *err, const char *target, const char *loc)
{
	char *html;

	html = failpage_render(target, request_cross_origin(rq) ? target :
		loc, err);
	if (!html)
		return;
	response_html_take(resp, resp->status, html);
	response_header(resp, "Content-Security-Policy", "%s", FAILPAGE_CSP);
}

/*
 * Answers a form for a browser: 303 See Other back to the page on
 * success; on failure 303 with the failure in the page's address when the
 * page's script takes it (redirect_script_takes_failure), else the
 * failure page itself, which needs no script to show the reason.
 */
static void form_answer(struct request *rq, struct response *resp,
	const struct ferr *err, const struct resource *res)
{
	char *target = redirect_form_target(rq), *loc = NULL;

	if (!target)
		return;
	if (resp->status >= 400) {
		loc = redirect_error_target(target, err,
			rq->body_kind == BODY_FORM ? &rq->form : NULL, res);
		if (!loc)
			goto out;
		if (!redirect_script_takes_failure(rq)) {
			fail_page(rq, resp, err, target, loc);
			goto out;
		}
	}
	response_header_drop(resp, "Location");
	if (response_header(resp, "Location", "%s", loc ? loc : target) == 0)
		resp->status = 303;
out:
	free(loc);
	free(target);
}

/* mono_us is a monotonic clock in microseconds: requests take less
 * than a millisecond. */
static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void api_serve(struct api_env *env, const struct request_io *io)
{
	struct request rq;
	struct response resp;
	struct ferr err;
	struct api a;
	char allow[80];
	uint64_t start = mono_us();

	request_init(&rq);
	response_init(&resp);
	ferr_init(&err);
	memset(&a, 0, sizeof a);
	a.env = env;
	a.rq = &rq;
	a.resp = &resp;
	a.err = &err;
	a.w.if_match = -1;

	if (request_read(&rq, io, env->cfg->body_limit, &err) == 0) {
		body_decode(&rq);
		dispatch(&a);
	}
	resp.head_only = rq.raw_method == RM_HEAD;
	if (ferr_is_set(&err)) {
		response_error(&resp, &err);
		if (err.status == 405)
			response_header(&resp, "Allow", "%s",
				header_allow_format(a.allow, allow,
					sizeof allow));
		if (err.status >= 500)
			log_msg(LOG_WARN, "%s %s: %d %s: %s",
				rq.method_name ? rq.method_name : "-",
				rq.path ? rq.path : "-", err.status, err.code,
				err.message);
	}
	if (redirect_wants_form_answer(&rq))
		form_answer(&rq, &resp, &err, a.res);
	response_render(&resp, io->write_cb, io->ctx);
	if (env->metrics)
		apimetrics_count(env->metrics, a.m.route ? (size_t)(a.m.route -
			routes) : SLOT_UNMATCHED, resp.status ? resp.status :
			500, mono_us() - start);

	json_decref(a.body);
	ferr_release(&err);
	response_release(&resp);
	request_release(&rq);
}
