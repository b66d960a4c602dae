/* test_request.c - unit tests for cgi/request.c, header.c, body.c, redirect.c and route.c: reading and answering a request. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "request.h"
#include "body.h"
#include "header.h"
#include "redirect.h"
#include "resource.h"
#include "route.h"

/* --- routing --- */

static int seg_check_cb(const char *kind, const char *seg)
{
	if (strcmp(kind, "c") == 0)
		return strcmp(seg, "campaigns") == 0 ||
			strcmp(seg, "personas") == 0;
	if (strcmp(kind, "id") == 0)
		return strcmp(seg, "1111") == 0;
	if (strcmp(kind, "action") == 0)
		return strcmp(seg, "start") == 0;
	return 0;
}

static int h_a(struct api *a)
{
	(void)a;
	return 0;
}

static const struct route table[] = {
	{RM_GET, "api/dashboard", h_a, 0, 0, 0},
	{RM_GET, "api/{c}", h_a, 0, 0, 0},
	{RM_POST, "api/{c}", h_a, 1, 0, 0},
	{RM_GET, "api/{c}/{id}", h_a, 0, 0, 0},
	{RM_PUT | RM_PATCH, "api/{c}/{id}", h_a, 1, 0, 0},
	{RM_DELETE, "api/{c}/{id}", h_a, 1, 0, 0},
	{RM_POST, "api/campaigns/{id}/{action}", h_a, 1, 0, 0},
};

#define NTABLE (sizeof table / sizeof table[0])

/* Parses target and routes it; returns route_find's result. */
static int route(const char *target, unsigned method, struct route_match *m)
{
	struct request rq;
	struct ferr err;
	int rc;

	request_init(&rq);
	ferr_init(&err);
	assert_int_equal(request_path_parse(&rq, target, &err), 0);
	rc = route_find(table, NTABLE, rq.seg, rq.nseg, method,
		seg_check_cb, m);
	/* values point into rq: keep only what the tests compare */
	if (rc == 0 && m->n > 0) {
		static char keep[ROUTE_MAX_PARAMS][64];
		size_t i;

		for (i = 0; i < m->n; i++) {
			snprintf(keep[i], sizeof keep[i], "%s", m->value[i]);
			m->value[i] = keep[i];
		}
	}
	request_release(&rq);
	ferr_release(&err);
	return rc;
}

static void request_route__collection_get__matches_list(void **state)
{
	struct route_match m;

	assert_int_equal(route("/api/campaigns", RM_GET, &m), 0);
	assert_ptr_equal(m.route, &table[1]);
	assert_string_equal(route_param(&m, "c"), "campaigns");
	assert_null(route_param(&m, "id"));
}

static void request_route__trailing_slash__is_tolerated(void **state)
{
	struct route_match m;

	assert_int_equal(route("/api/campaigns/", RM_GET, &m), 0);
	assert_ptr_equal(m.route, &table[1]);
	assert_int_equal(route("/api/campaigns/1111/", RM_DELETE, &m), 0);
	assert_ptr_equal(m.route, &table[5]);
}

static void request_route__query__is_not_part_of_the_path(void **state)
{
	struct route_match m;

	assert_int_equal(route("/api/personas?limit=3&x=/y", RM_GET, &m), 0);
	assert_ptr_equal(m.route, &table[1]);
}

static void request_route__record__captures_collection_and_id(void **state)
{
	struct route_match m;

	assert_int_equal(route("/api/personas/1111", RM_PATCH, &m), 0);
	assert_ptr_equal(m.route, &table[4]);
	assert_string_equal(route_param(&m, "c"), "personas");
	assert_string_equal(route_param(&m, "id"), "1111");
}

static void request_route__unknown_collection__is_404(void **state)
{
	struct route_match m;

	assert_int_equal(route("/api/users", RM_GET, &m), -1);
	assert_int_equal(m.allow, 0);
	assert_int_equal(route("/api", RM_GET, &m), -1);
	assert_int_equal(m.allow, 0);
	assert_int_equal(route("/other/campaigns", RM_GET, &m), -1);
	assert_int_equal(m.allow, 0);
}

static void request_route__bad_id__is_404(void **state)
{
	struct route_match m;

	assert_int_equal(route("/api/campaigns/2222", RM_GET, &m), -1);
	assert_int_equal(m.allow, 0);
	assert_int_equal(route("/api/campaigns/..", RM_GET, &m), -1);
	assert_int_equal(m.allow, 0);
	assert_int_equal(route("/api/campaigns/%2e%2e/x", RM_GET, &m), -1);
	assert_int_equal(m.allow, 0);
	assert_int_equal(route("/api/campaigns//", RM_GET, &m), -1);
	assert_int_equal(m.allow, 0);
}

static void request_route__wrong_method__lists_allowed(void **state)
{
	struct route_match m;
	char allow[64];

	assert_int_equal(route("/api/campaigns/1111", RM_POST, &m), -1);
	assert_int_equal(m.allow,
		RM_GET | RM_HEAD | RM_PUT | RM_PATCH | RM_DELETE);
	assert_string_equal(header_allow_format(m.allow, allow,
		sizeof allow), "GET, HEAD, PUT, PATCH, DELETE");
	assert_int_equal(route("/api/campaigns/1111/start", RM_GET, &m), -1);
	assert_int_equal(m.allow, RM_POST);
}

static void request_route__head__is_served_by_get(void **state)
{
	struct route_match m;

	assert_int_equal(route("/api/dashboard", RM_HEAD, &m), 0);
	assert_ptr_equal(m.route, &table[0]);
}

static void request_route__action__only_known_actions(void **state)
{
	struct route_match m;

	assert_int_equal(route("/api/campaigns/1111/start", RM_POST, &m), 0);
	assert_ptr_equal(m.route, &table[6]);
	assert_string_equal(route_param(&m, "action"), "start");
	assert_int_equal(route("/api/campaigns/1111/explode", RM_POST, &m),
		-1);
	assert_int_equal(m.allow, 0);
	assert_int_equal(route("/api/personas/1111/start", RM_POST, &m), -1);
	assert_int_equal(m.allow, 0);
}

static void request_route__unknown_method__is_405(void **state)
{
	struct route_match m;

	assert_int_equal(route("/api/campaigns", 0, &m), -1);
	assert_int_equal(m.allow, RM_GET | RM_HEAD | RM_POST);
}

/* --- request targets --- */

static void request_path_parse__prefix__is_kept_apart(void **state)
{
	struct request rq;
	struct ferr err;

	request_init(&rq);
	ferr_init(&err);
	assert_int_equal(request_path_parse(&rq,
		"/cgi-bin/flowpush.fcgi/api/campaigns?x=1", &err), 0);
	assert_string_equal(rq.prefix, "/cgi-bin/flowpush.fcgi");
	assert_string_equal(rq.path, "/cgi-bin/flowpush.fcgi/api/campaigns");
	assert_int_equal(rq.nseg, 2);
	assert_string_equal(rq.seg[0], "api");
	assert_string_equal(rq.seg[1], "campaigns");
	request_release(&rq);
	ferr_release(&err);
}

static void request_path_parse__escapes__are_decoded(void **state)
{
	struct request rq;
	struct ferr err;

	request_init(&rq);
	ferr_init(&err);
	assert_int_equal(request_path_parse(&rq, "/api/a%20b%2Fc", &err), 0);
	assert_int_equal(rq.nseg, 2);
	assert_string_equal(rq.seg[1], "a b/c");
	request_release(&rq);
	ferr_release(&err);
}

static void request_path_parse__bad_escape_or_nul__is_400(void **state)
{
	static const char *const bad[] = {
		"/api/%zz", "/api/%4", "/api/%", "/api/a%00b", NULL,
	};
	struct request rq;
	struct ferr err;
	size_t i;

	for (i = 0; bad[i]; i++) {
		request_init(&rq);
		ferr_init(&err);
		assert_int_equal(request_path_parse(&rq, bad[i], &err), -1);
		assert_int_equal(err.status, 400);
		request_release(&rq);
		ferr_release(&err);
	}
}

static void request_path_parse__absolute_form__uses_its_path(void **state)
{
	struct request rq;
	struct ferr err;

	request_init(&rq);
	ferr_init(&err);
	assert_int_equal(request_path_parse(&rq,
		"http://example.org/api/campaigns", &err), 0);
	assert_string_equal(rq.prefix, "");
	assert_int_equal(rq.nseg, 2);
	request_release(&rq);
	ferr_release(&err);
}

static void request_path_parse__not_a_path__is_400(void **state)
{
	struct request rq;
	struct ferr err;

	request_init(&rq);
	ferr_init(&err);
	assert_int_equal(request_path_parse(&rq, "api/campaigns", &err), -1);
	assert_int_equal(err.status, 400);
	request_release(&rq);
	ferr_release(&err);
}

static void request_path_parse__too_many_segments__is_flagged(void **state)
{
	struct request rq;
	struct ferr err;

	request_init(&rq);
	ferr_init(&err);
	assert_int_equal(request_path_parse(&rq,
		"/api/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", &err), 0);
	assert_true(rq.too_deep);
	request_release(&rq);
	ferr_release(&err);
}

/* --- methods and headers --- */

static void request_method_parse__is_case_sensitive(void **state)
{
	assert_int_equal(header_method_parse("PATCH"), RM_PATCH);
	assert_int_equal(header_method_parse("patch"), 0);
	assert_int_equal(header_method_parse("TRACE"), 0);
	assert_int_equal(header_method_parse(NULL), 0);
}

static void request_content_type_parse__splits_type_and_charset(void **st)
{
	char t[64], cs[32];

	assert_int_equal(header_content_type_parse(
		"Application/JSON; charset=\"UTF-8\"", t, sizeof t, cs,
		sizeof cs), 0);
	assert_string_equal(t, "application/json");
	assert_string_equal(cs, "utf-8");
	assert_int_equal(header_content_type_parse(
		"application/x-www-form-urlencoded", t, sizeof t, cs,
		sizeof cs), 0);
	assert_string_equal(t, "application/x-www-form-urlencoded");
	assert_string_equal(cs, "");
	assert_int_equal(header_content_type_parse(
		"text/plain ; format=flowed;charset=latin1", t, sizeof t, cs,
		sizeof cs), 0);
	assert_string_equal(t, "text/plain");
	assert_string_equal(cs, "latin1");
}

static void request_content_type_parse__malformed__fails(void **state)
{
	char t[64], cs[32];

	assert_int_equal(header_content_type_parse("json", t, sizeof t, cs,
		sizeof cs), -1);
	assert_int_equal(header_content_type_parse("", t, sizeof t, cs,
		sizeof cs), -1);
	assert_int_equal(header_content_type_parse("a/b; charset", t,
		sizeof t, cs, sizeof cs), -1);
	assert_int_equal(header_content_type_parse("a/b; c=\"x", t,
		sizeof t, cs, sizeof cs), -1);
}

static void request_if_match_parse__one_strong_tag__gives_version(void **s)
{
	long long v = 0;

	assert_int_equal(header_if_match_parse("\"3\"", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(header_if_match_parse("  \"12\" ", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(header_if_match_parse("*", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(header_if_match_parse(NULL, &v), 0);
	assert_int_equal(v, -1);
}

static void request_if_match_parse__malformed__fails(void **state)
{
	static const char *const bad[] = {
		"3", "\"3", "\"\"", "\"x\"", "W/\"3\"", "\"1\", \"2\"",
		"\"99999999999999999999999\"", "* \"1\"", NULL,
	};
	long long v;
	size_t i;

	for (i = 0; bad[i]; i++)
		assert_int_equal(header_if_match_parse(bad[i], &v), -1);
}

static void request_etag_matches__lists_weak_and_star(void **state)
{
	assert_true(header_etag_matches("\"4\"", 4));
	assert_true(header_etag_matches("W/\"4\"", 4));
	assert_true(header_etag_matches("\"1\", W/\"4\"", 4));
	assert_true(header_etag_matches("*", 9));
	assert_false(header_etag_matches("\"40\"", 4));
	assert_false(header_etag_matches("junk, \"5\"", 4));
	assert_false(header_etag_matches(NULL, 4));
}

/* --- origins and redirects --- */

static void request_cross_origin__checks_origin_and_fetch_site(void **s)
{
	struct request rq;

	request_init(&rq);
	rq.host = "127.0.0.1:8080";
	assert_false(request_cross_origin(&rq));
	rq.origin = "http://127.0.0.1:8080";
	assert_false(request_cross_origin(&rq));
	rq.origin = "http://localhost:8080";
	assert_true(request_cross_origin(&rq));
	rq.origin = NULL;
	rq.sec_fetch_site = "cross-site";
	assert_true(request_cross_origin(&rq));
	rq.sec_fetch_site = "same-origin";
	assert_false(request_cross_origin(&rq));
}

static void request_own_origin__host_without_port__takes_server_port(
	void **state)
{
	static const char o[] = "http://127.0.0.1:8080";
	static const char o6[] = "http://[::1]:8080";
	struct request rq;

	request_init(&rq);
	rq.host = "127.0.0.1";
	assert_false(request_own_origin(&rq, o, strlen(o)));
	rq.server_port = "8080";
	assert_true(request_own_origin(&rq, o, strlen(o)));
	rq.server_port = "9090";
	assert_false(request_own_origin(&rq, o, strlen(o)));
	rq.host = "127.0.0.1:9090";
	assert_false(request_own_origin(&rq, o, strlen(o)));
	rq.host = "[::1]";
	rq.server_port = "8080";
	assert_true(request_own_origin(&rq, o6, strlen(o6)));
	rq.host = "evil.example";
	assert_false(request_own_origin(&rq, o, strlen(o)));
}

static void request_local_path__only_paths_on_this_site(void **state)
{
	assert_true(redirect_local_path("/"));
	assert_true(redirect_local_path("/campaigns.html?tab=dns#x"));
	assert_false(redirect_local_path("//evil.example/"));
	assert_false(redirect_local_path("/\\evil.example/"));
	assert_false(redirect_local_path("http://evil.example/"));
	assert_false(redirect_local_path("campaigns.html"));
	assert_false(redirect_local_path("/a\r\nSet-Cookie: x=1"));
	assert_false(redirect_local_path("/a b"));
	assert_false(redirect_local_path(""));
	assert_false(redirect_local_path(NULL));
}

/* A request with a form body, as body_decode leaves it. */
static void form_request(struct request *rq, const char *body)
{
	request_init(rq);
	rq->raw_method = rq->method = RM_POST;
	rq->content_type = strdup("application/x-www-form-urlencoded");
	rq->body = strdup(body);
	rq->body_len = strlen(body);
	body_decode(rq);
}

static void request_form_target__prefers_local_redirect(void **state)
{
	struct request rq;
	char *t;

	form_request(&rq, "name=x&_redirect=%2Fpersonas.html%3Ftab%3Ddns");
	rq.host = strdup("h:8080");
	rq.referer = strdup("http://h:8080/index.html");
	t = redirect_form_target(&rq);
	assert_string_equal(t, "/personas.html?tab=dns");
	free(t);
	request_release(&rq);
}

static void request_form_target__foreign_redirect__uses_referer(void **s)
{
	struct request rq;
	char *t;

	form_request(&rq, "_redirect=%2F%2Fevil.example%2F");
	rq.host = strdup("h:8080");
	rq.referer = strdup("http://h:8080/campaigns.html?x=1#frag");
	t = redirect_form_target(&rq);
	assert_string_equal(t, "/campaigns.html?x=1");
	free(t);
	request_release(&rq);
}

static void request_form_target__foreign_referer__goes_home(void **state)
{
	struct request rq;
	char *t;

	form_request(&rq, "name=x");
	rq.host = strdup("h:8080");
	rq.referer = strdup("http://evil.example/page");
	t = redirect_form_target(&rq);
	assert_string_equal(t, "/");
	free(t);
	free(rq.referer);
	rq.referer = strdup("http://h:8080");
	t = redirect_form_target(&rq);
	assert_string_equal(t, "/");
	free(t);
	request_release(&rq);
}

static char *error_target(const char *target, int status, const char *code,
	const char *message)
{
	struct ferr err;
	char *t;

	ferr_init(&err);
	ferr_set(&err, status, code, "%s", message);
	t = redirect_error_target(target, &err, NULL, NULL);
	ferr_release(&err);
	return t;
}

static void request_error_target__replaces_earlier_errors(void **state)
{
	char *t;

	t = error_target("/p.html", 404, "not_found", "No such thing.");
	assert_string_equal(t,
		"/p.html?error=not_found&message=No%20such%20thing.");
	free(t);
	t = error_target("/p.html?tab=a&error=x&message=y&form=f&partial=1"
		"&field.name=z&value.name=w#top", 409, "conflict", "a&b=c");
	assert_string_equal(t,
		"/p.html?tab=a&error=conflict&message=a%26b%3Dc#top");
	free(t);
}

static void request_error_target__echoes_values_not_secrets(void **state)
{
	const struct resource *res = resource_find("proxies");
	struct request rq;
	struct ferr err;
	char *t;

	form_request(&rq, "_form=proxy-form&_redirect=%2Fp&name=a%20b"
		"&address=x&password=hunter2&_clear=password&isEnabled=false"
		"&isEnabled=true");
	ferr_init(&err);
	ferr_field(&err, "address", "must be host:port");
	t = redirect_error_target("/proxies.html?q=abc#x", &err, &rq.form,
		res);
	assert_string_equal(t, "/proxies.html?q=abc&error=validation_failed"
		"&message=Some%20fields%20are%20not%20valid."
		"&form=proxy-form&field.address=must%20be%20host%3Aport"
		"&value.name=a%20b&value.address=x&value.isEnabled=false"
		"&value.isEnabled=true#proxy-form-failed");
	free(t);
	/* Without a resource nothing can be told apart: no values. */
	t = redirect_error_target("/p", &err, &rq.form, NULL);
	assert_null(strstr(t, "value."));
	assert_non_null(strstr(t, "form=proxy-form"));
	free(t);
	ferr_release(&err);
	request_release(&rq);
}

static void request_error_target__stays_short_and_says_partial(void **state)
{
	const struct resource *res = resource_find("proxies");
	struct request rq;
	struct ferr err;
	char body[6000];
	char *t;

	memcpy(body, "_form=bad%20id&name=n&description=", 34);
	memset(body + 34, 'd', 5000);
	memcpy(body + 5034, "&address=a", 11);
	form_request(&rq, body);
	ferr_init(&err);
	ferr_field(&err, "name", "is taken");
	t = redirect_error_target("/p", &err, &rq.form, res);
	assert_true(strlen(t) <= REDIRECT_MAX);
	assert_non_null(strstr(t, "field.name=is%20taken"));
	assert_non_null(strstr(t, "&value.name=n&value.address=a"));
	assert_null(strstr(t, "value.description"));
	assert_null(strstr(t, "form="));
	assert_non_null(strstr(t, "&partial=1"));
	free(t);
	ferr_release(&err);
	request_release(&rq);
}

/* --- bodies --- */

static void json_request(struct request *rq, const char *type,
	const char *body, size_t len)
{
	request_init(rq);
	rq->raw_method = rq->method = RM_POST;
	rq->content_type = type ? strdup(type) : NULL;
	rq->body = malloc(len + 1);
	memcpy(rq->body, body, len);
	rq->body[len] = '\0';
	rq->body_len = len;
	body_decode(rq);
}

static void request_body_decode__json_object__is_parsed(void **state)
{
	struct request rq;

	json_request(&rq, "application/json", "{\"name\":\"x\"}", 12);
	assert_int_equal(rq.body_kind, BODY_JSON);
	assert_false(ferr_is_set(&rq.body_err));
	assert_string_equal(json_string_value(json_object_get(rq.json,
		"name")), "x");
	request_release(&rq);
}

static void request_body_decode__bad_json__is_400(void **state)
{
	static const struct {
		const char *body;
		size_t len;
	} bad[] = {
		{"{\"name\":", 8},
		{"[1,2]", 5},
		{"{\"a\":\"\\u0000\"}", 14},
		{"{\"a\":\"x\0y\"}", 11},
		{"{\"a\":\"\xc3\x28\"}", 10},
		{"{\"a\":1,\"a\":2}", 13},
	};
	struct request rq;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_request(&rq, "application/json", bad[i].body,
			bad[i].len);
		assert_int_equal(rq.body_err.status, 400);
		assert_string_equal(rq.body_err.code, "bad_json");
		assert_null(rq.json);
		request_release(&rq);
	}
}

static void request_body_decode__other_type__is_415(void **state)
{
	struct request rq;

	json_request(&rq, "text/plain", "{}", 2);
	assert_int_equal(rq.body_err.status, 415);
	request_release(&rq);
	json_request(&rq, NULL, "{}", 2);
	assert_int_equal(rq.body_err.status, 415);
	request_release(&rq);
	json_request(&rq, "application/json", "", 0);
	assert_int_equal(rq.body_kind, BODY_NONE);
	assert_false(ferr_is_set(&rq.body_err));
	request_release(&rq);
}

static void request_body_decode__form_method__overrides_post(void **st)
{
	struct request rq;

	form_request(&rq, "_method=delete");
	assert_int_equal(rq.body_kind, BODY_FORM);
	assert_int_equal(rq.method, RM_DELETE);
	assert_int_equal(rq.raw_method, RM_POST);
	request_release(&rq);
	form_request(&rq, "_method=GET");
	assert_int_equal(rq.body_err.status, 400);
	assert_int_equal(rq.method, RM_POST);
	request_release(&rq);
}

static void request_wants_form_answer__unless_json_is_asked(void **s)
{
	struct request rq;

	form_request(&rq, "name=x");
	assert_true(redirect_wants_form_answer(&rq));
	rq.accept = strdup("application/json");
	assert_false(redirect_wants_form_answer(&rq));
	request_release(&rq);
	json_request(&rq, "application/json", "{}", 2);
	assert_false(redirect_wants_form_answer(&rq));
	request_release(&rq);
}

static void request_script_takes_failure__only_with_script_1(void **s)
{
	struct request rq;

	form_request(&rq, "name=x");
	assert_false(redirect_script_takes_failure(&rq));
	request_release(&rq);
	form_request(&rq, "name=x&_script=0");
	assert_false(redirect_script_takes_failure(&rq));
	request_release(&rq);
	form_request(&rq, "_script=1&name=x");
	assert_true(redirect_script_takes_failure(&rq));
	request_release(&rq);
}

/* --- request_read through a fake CGI environment --- */

struct fake {
	const char *const *env;       /* name, value, name, value, ..., NULL */
	const char *body;
	size_t len, pos;
};

static const char *fake_param_cb(void *ctx, const char *name)
{
	struct fake *f = ctx;
	size_t i;

	for (i = 0; f->env[i]; i += 2)
		if (strcmp(f->env[i], name) == 0)
			return f->env[i + 1];
	return NULL;
}

static long fake_read_cb(void *ctx, char *buf, size_t n)
{
	struct fake *f = ctx;
	size_t k = f->len - f->pos < n ? f->len - f->pos : n;

	memcpy(buf, f->body + f->pos, k);
	f->pos += k;
	return (long)k;
}

static int fake_write_cb(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return 0;
}

static int fake_read(const char *const *env, const char *body,
	long limit, struct request *rq, struct ferr *err)
{
	struct fake f = {env, body, body ? strlen(body) : 0, 0};
	struct request_io io = {
		.ctx = &f,
		.param_cb = fake_param_cb,
		.read_cb = fake_read_cb,
		.read_more_cb = fake_read_cb,
		.write_cb = fake_write_cb,
	};

	request_init(rq);
	ferr_init(err);
	if (request_read(rq, &io, limit, err) < 0)
		return -1;
	body_decode(rq);
	return 0;
}

static void request_read__headers__are_copied(void **state)
{
	static const char *const env[] = {
		"REQUEST_METHOD", "PUT",
		"REQUEST_URI", "/api/campaigns/1111?x=%41",
		"HTTP_HOST", "h", "HTTP_IF_MATCH", "\"2\"",
		"REMOTE_USER", "", "HTTPS", "on",
		"CONTENT_TYPE", "application/json; charset=utf-8",
		"CONTENT_LENGTH", "2", NULL,
	};
	struct request rq;
	struct ferr err;

	assert_int_equal(fake_read(env, "{}", 100, &rq, &err), 0);
	assert_int_equal(rq.method, RM_PUT);
	assert_string_equal(rq.host, "h");
	assert_string_equal(rq.if_match, "\"2\"");
	assert_null(rq.remote_user);
	assert_true(rq.https);
	assert_string_equal(form_get(&rq.query, "x"), "A");
	assert_int_equal(rq.body_kind, BODY_JSON);
	assert_int_equal(rq.nseg, 3);
	request_release(&rq);
	ferr_release(&err);
}

static void request_read__lying_content_length__is_400(void **state)
{
	static const char *const shorter[] = {
		"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/x",
		"CONTENT_LENGTH", "10", NULL,
	};
	static const char *const longer[] = {
		"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/x",
		"CONTENT_LENGTH", "2", NULL,
	};
	static const char *const junk[] = {
		"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/x",
		"CONTENT_LENGTH", "-1", NULL,
	};
	struct request rq;
	struct ferr err;

	assert_int_equal(fake_read(shorter, "{}", 100, &rq, &err), -1);
	assert_int_equal(err.status, 400);
	request_release(&rq);
	ferr_release(&err);
	assert_int_equal(fake_read(longer, "{}  ", 100, &rq, &err), -1);
	assert_int_equal(err.status, 400);
	request_release(&rq);
	ferr_release(&err);
	assert_int_equal(fake_read(junk, "", 100, &rq, &err), -1);
	assert_int_equal(err.status, 400);
	request_release(&rq);
	ferr_release(&err);
}

static void request_read__body_over_limit__is_413(void **state)
{
	static const char *const declared[] = {
		"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/x",
		"CONTENT_LENGTH", "11", NULL,
	};
	static const char *const sneaked[] = {
		"REQUEST_METHOD", "POST", "REQUEST_URI", "/api/x",
		"CONTENT_LENGTH", "2", NULL,
	};
	struct request rq;
	struct ferr err;

	assert_int_equal(fake_read(declared, "{\"a\":\"bcd\"}", 10, &rq, &err),
		-1);
	assert_int_equal(err.status, 413);
	request_release(&rq);
	ferr_release(&err);
	assert_int_equal(fake_read(sneaked, "{}                ", 10, &rq,
		&err), -1);
	assert_int_equal(err.status, 413);
	request_release(&rq);
	ferr_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_route__collection_get__matches_list),
		cmocka_unit_test(request_route__trailing_slash__is_tolerated),
		cmocka_unit_test(request_route__query__is_not_part_of_the_path),
		cmocka_unit_test(
			request_route__record__captures_collection_and_id),
		cmocka_unit_test(request_route__unknown_collection__is_404),
		cmocka_unit_test(request_route__bad_id__is_404),
		cmocka_unit_test(request_route__wrong_method__lists_allowed),
		cmocka_unit_test(request_route__head__is_served_by_get),
		cmocka_unit_test(request_route__action__only_known_actions),
		cmocka_unit_test(request_route__unknown_method__is_405),
		cmocka_unit_test(request_path_parse__prefix__is_kept_apart),
		cmocka_unit_test(request_path_parse__escapes__are_decoded),
		cmocka_unit_test(request_path_parse__bad_escape_or_nul__is_400),
		cmocka_unit_test(
			request_path_parse__absolute_form__uses_its_path),
		cmocka_unit_test(request_path_parse__not_a_path__is_400),
		cmocka_unit_test(
			request_path_parse__too_many_segments__is_flagged),
		cmocka_unit_test(request_method_parse__is_case_sensitive),
		cmocka_unit_test(
			request_content_type_parse__splits_type_and_charset),
		cmocka_unit_test(
			request_content_type_parse__malformed__fails),
		cmocka_unit_test(
			request_if_match_parse__one_strong_tag__gives_version),
		cmocka_unit_test(request_if_match_parse__malformed__fails),
		cmocka_unit_test(request_etag_matches__lists_weak_and_star),
		cmocka_unit_test(
			request_cross_origin__checks_origin_and_fetch_site),
		cmocka_unit_test(
			request_own_origin__host_without_port__takes_server_port),
		cmocka_unit_test(request_local_path__only_paths_on_this_site),
		cmocka_unit_test(request_form_target__prefers_local_redirect),
		cmocka_unit_test(
			request_form_target__foreign_redirect__uses_referer),
		cmocka_unit_test(
			request_form_target__foreign_referer__goes_home),
		cmocka_unit_test(
			request_error_target__replaces_earlier_errors),
		cmocka_unit_test(
			request_error_target__echoes_values_not_secrets),
		cmocka_unit_test(
			request_error_target__stays_short_and_says_partial),
		cmocka_unit_test(request_body_decode__json_object__is_parsed),
		cmocka_unit_test(request_body_decode__bad_json__is_400),
		cmocka_unit_test(request_body_decode__other_type__is_415),
		cmocka_unit_test(
			request_body_decode__form_method__overrides_post),
		cmocka_unit_test(
			request_wants_form_answer__unless_json_is_asked),
		cmocka_unit_test(
			request_script_takes_failure__only_with_script_1),
		cmocka_unit_test(request_read__headers__are_copied),
		cmocka_unit_test(request_read__lying_content_length__is_400),
		cmocka_unit_test(request_read__body_over_limit__is_413),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
