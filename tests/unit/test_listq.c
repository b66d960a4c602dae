/* test_listq.c - unit tests for common/listq.c: list requests and cursors. */
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
#include <sqlite3.h>

#include "ferr.h"
#include "form.h"
#include "listq.h"
#include "resource.h"

#define ID1 "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ID2 "7c9e6679-7425-40de-944b-e07fc1f90ae7"

/* One request: the query form must outlive the parsed list request, whose
 * strings point into it. */
struct req {
	struct form form;
	struct listq lq;
	struct ferr err;
	int formed;
};

/* req_parse parses query (a URL query string) for collection coll. */
static int req_parse(struct req *r, const char *coll, const char *query)
{
	const struct resource *res = resource_find(coll);

	assert_non_null(res);
	memset(r, 0, sizeof(*r));
	ferr_init(&r->err);
	assert_int_equal(form_parse(query, strlen(query), &r->form, &r->err),
		0);
	r->formed = 1;
	return listq_parse(&r->lq, res, &r->form, &r->err);
}

static void req_release(struct req *r)
{
	listq_release(&r->lq);
	if (r->formed)
		form_release(&r->form);
	ferr_release(&r->err);
}

/* assert_refused checks that query is a 400 with code for coll. */
static void assert_refused(const char *coll, const char *query,
	const char *code)
{
	struct req r;

	if (req_parse(&r, coll, query) == 0)
		fail_msg("'%s' was accepted", query);
	assert_int_equal(r.err.status, 400);
	assert_string_equal(r.err.code, code);
	req_release(&r);
}

static void assert_accepted(const char *coll, const char *query)
{
	struct req r;

	if (req_parse(&r, coll, query) != 0)
		fail_msg("'%s' was refused: %s %s", query, r.err.code,
			r.err.message);
	req_release(&r);
}

/* cursor_of makes the cursor of (k, id) for the list query of coll. */
static void cursor_of(const char *coll, const char *query,
	const struct listq_key *k, const char *id, char *out, size_t size)
{
	struct req r;

	assert_int_equal(req_parse(&r, coll, query), 0);
	assert_int_equal(listq_cursor(&r.lq, k, id, out, size), 0);
	req_release(&r);
}

static const struct field *field_of(const char *coll, const char *name)
{
	const struct resource *res = resource_find(coll);
	const struct field *f;

	assert_non_null(res);
	for (f = res->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	fail_msg("%s has no field %s", coll, name);
	return NULL;
}

/* ------------------------------------------------------------ defaults */

static void listq_parse__no_parameters__sorts_newest_first_100_rows(
	void **state)
{
	struct req r;

	(void)state;
	assert_int_equal(req_parse(&r, "campaigns", ""), 0);
	assert_string_equal(r.lq.sort, "createdAt");
	assert_null(r.lq.sort_field);
	assert_int_equal(r.lq.desc, 1);
	assert_int_equal(r.lq.limit, 100);
	assert_null(r.lq.q);
	assert_int_equal(r.lq.nfilters, 0);
	assert_null(r.lq.ids);
	assert_int_equal(r.lq.has_cursor, 0);
	req_release(&r);
}

static void listq_parse__limit_over_1000__is_clamped(void **state)
{
	static const struct { const char *q; long long want; } cases[] = {
		{ "limit=1", 1 }, { "limit=999", 999 }, { "limit=1000", 1000 },
		{ "limit=1001", 1000 }, { "limit=5000", 1000 },
		{ "limit=1000000000", 1000 }, { "limit=10000000000", 1000 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct req r;

		assert_int_equal(req_parse(&r, "proxies", cases[i].q), 0);
		assert_int_equal(r.lq.limit, cases[i].want);
		req_release(&r);
	}
}

static void listq_parse__limit_not_a_positive_integer__is_rejected(
	void **state)
{
	(void)state;
	assert_refused("proxies", "limit=0", "bad_query");
	assert_refused("proxies", "limit=-5", "bad_query");
	assert_refused("proxies", "limit=ten", "bad_query");
	assert_refused("proxies", "limit=", "bad_query");
	assert_refused("proxies", "limit=1.5", "bad_query");
}

static void listq_parse__underscore_parameters__are_ignored(void **state)
{
	(void)state;
	assert_accepted("proxies", "_=1234&_redirect=x");
}

/* ------------------------------------------------------------ sort */

static void listq_parse__sort_field__sorts_ascending(void **state)
{
	struct req r;

	(void)state;
	assert_int_equal(req_parse(&r, "proxies", "sort=latencyMs"), 0);
	assert_string_equal(r.lq.sort, "latencyMs");
	assert_ptr_equal(r.lq.sort_field, field_of("proxies", "latencyMs"));
	assert_int_equal(r.lq.desc, 0);
	req_release(&r);
}

static void listq_parse__minus_sort_field__sorts_descending(void **state)
{
	struct req r;

	(void)state;
	assert_int_equal(req_parse(&r, "campaigns", "sort=-status"), 0);
	assert_string_equal(r.lq.sort, "status");
	assert_ptr_equal(r.lq.sort_field, field_of("campaigns", "status"));
	assert_int_equal(r.lq.desc, 1);
	req_release(&r);
}

static void listq_parse__sort_by_meta_column__has_no_field(void **state)
{
	struct req r;

	(void)state;
	assert_int_equal(req_parse(&r, "personas", "sort=updatedAt"), 0);
	assert_string_equal(r.lq.sort, "updatedAt");
	assert_null(r.lq.sort_field);
	assert_int_equal(r.lq.desc, 0);
	req_release(&r);
}

static void listq_parse__every_documented_sort__is_accepted(void **state)
{
	static const char *const cases[][2] = {
		{ "campaigns", "name" }, { "campaigns", "status" },
		{ "campaigns", "progressPercentage" },
		{ "personas", "name" }, { "personas", "personaType" },
		{ "keyword-sets", "name" }, { "keyword-sets", "ruleCount" },
		{ "proxies", "name" }, { "proxies", "countryCode" },
		{ "proxies", "latencyMs" }, { "proxy-pools", "name" },
		{ "proxy-pools", "createdAt" }, { "proxy-pools", "updatedAt" },
	};
	char q[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(q, sizeof(q), "sort=%s", cases[i][1]);
		assert_accepted(cases[i][0], q);
		snprintf(q, sizeof(q), "sort=-%s", cases[i][1]);
		assert_accepted(cases[i][0], q);
	}
}

static void listq_parse__unsortable_field__is_rejected_bad_sort(
	void **state)
{
	(void)state;
	assert_refused("campaigns", "sort=description", "bad_sort");
	assert_refused("campaigns", "sort=-bogus", "bad_sort");
	assert_refused("proxies", "sort=address", "bad_sort");
	assert_refused("proxies", "sort=", "bad_sort");
	assert_refused("proxies", "sort=-", "bad_sort");
	assert_refused("proxies", "sort=--name", "bad_sort");
	assert_refused("personas", "sort=status", "bad_sort");
	assert_refused("keyword-sets", "sort=id", "bad_sort");
}

/* ------------------------------------------------------------ q */

static void listq_parse__q_shorter_than_3_characters__is_rejected(
	void **state)
{
	(void)state;
	assert_refused("campaigns", "q=a", "bad_query");
	assert_refused("campaigns", "q=ab", "bad_query");
	/* Two characters in four bytes. */
	assert_refused("campaigns", "q=%C3%A9%C3%A9", "bad_query");
	assert_accepted("campaigns", "q=abc");
	assert_accepted("campaigns", "q=%C3%A9%C3%A9%C3%A9");
}

static void listq_parse__q_with_control_characters__is_rejected(
	void **state)
{
	(void)state;
	assert_refused("campaigns", "q=ab%01c", "bad_query");
	assert_refused("campaigns", "q=abc%0A", "bad_query");
	assert_refused("campaigns", "q=%09abc", "bad_query");
	assert_refused("campaigns", "q=abc%7F", "bad_query");
}

static void listq_parse__q_over_256_bytes__is_rejected(void **state)
{
	char q[300];

	(void)state;
	memcpy(q, "q=", 2);
	memset(q + 2, 'x', 256);
	q[258] = '\0';
	assert_accepted("campaigns", q);
	q[258] = 'x';
	q[259] = '\0';
	assert_refused("campaigns", q, "bad_query");
}

static void listq_parse__q__is_folded_in_ascii_only(void **state)
{
	struct req r;

	(void)state;
	/* "AbÉc OR X": É stays as written; FTS words are plain text. */
	assert_int_equal(req_parse(&r, "campaigns",
		"q=Ab%C3%89c+OR+X"), 0);
	assert_string_equal(r.lq.q, "Ab\xc3\x89" "c OR X");
	assert_string_equal(r.lq.q_folded, "ab\xc3\x89" "c or x");
	req_release(&r);
}

static void listq_parse__empty_q__is_no_search(void **state)
{
	struct req r;

	(void)state;
	assert_int_equal(req_parse(&r, "campaigns", "q="), 0);
	assert_null(r.lq.q);
	assert_null(r.lq.q_folded);
	req_release(&r);
}

static void listq_parse__q_given_twice__is_rejected(void **state)
{
	(void)state;
	assert_refused("campaigns", "q=abc&q=def", "bad_query");
}

/* ------------------------------------------------------------ filters */

static void listq_parse__filters__are_read_typed(void **state)
{
	struct req r;

	(void)state;
	assert_int_equal(req_parse(&r, "proxies",
		"isHealthy=false&protocol=socks5&isEnabled=true"), 0);
	assert_int_equal(r.lq.nfilters, 3);
	/* Declaration order: protocol, isEnabled, isHealthy. */
	assert_ptr_equal(r.lq.filters[0].field, field_of("proxies",
		"protocol"));
	assert_int_equal(r.lq.filters[0].is_bool, 0);
	assert_string_equal(r.lq.filters[0].text, "socks5");
	assert_ptr_equal(r.lq.filters[1].field, field_of("proxies",
		"isEnabled"));
	assert_int_equal(r.lq.filters[1].is_bool, 1);
	assert_int_equal(r.lq.filters[1].boolean, 1);
	assert_ptr_equal(r.lq.filters[2].field, field_of("proxies",
		"isHealthy"));
	assert_int_equal(r.lq.filters[2].is_bool, 1);
	assert_int_equal(r.lq.filters[2].boolean, 0);
	req_release(&r);
}

static void listq_parse__filters_in_another_order__bind_the_same(
	void **state)
{
	struct req a, b;

	(void)state;
	assert_int_equal(req_parse(&a, "proxies",
		"protocol=http&isEnabled=true&sort=name"), 0);
	assert_int_equal(req_parse(&b, "proxies",
		"isEnabled=true&sort=name&protocol=http"), 0);
	assert_string_equal(a.lq.binding, b.lq.binding);
	req_release(&a);
	req_release(&b);
}

static void listq_parse__filters_in_another_order__keep_the_cursor(
	void **state)
{
	struct listq_key k = { .type = LK_TEXT, .text = (char *)"Proxy 7" };
	char cursor[2048], q[2200];
	struct req r;

	(void)state;
	cursor_of("proxies", "protocol=http&isEnabled=true&sort=name", &k,
		ID1, cursor, sizeof(cursor));
	snprintf(q, sizeof(q), "isEnabled=true&sort=name&protocol=http"
		"&after=%s", cursor);
	assert_int_equal(req_parse(&r, "proxies", q), 0);
	assert_int_equal(r.lq.has_cursor, 1);
	assert_string_equal(r.lq.cursor_key.text, "Proxy 7");
	req_release(&r);
}

static void listq_parse__bad_boolean__is_rejected_bad_filter(void **state)
{
	(void)state;
	assert_refused("proxies", "isEnabled=yes", "bad_filter");
	assert_refused("proxies", "isEnabled=1", "bad_filter");
	assert_refused("proxies", "isEnabled=TRUE", "bad_filter");
	assert_refused("proxies", "isHealthy=null", "bad_filter");
	assert_refused("proxies", "isEnabled=", "bad_filter");
}

static void listq_parse__unknown_enum_value__is_rejected_bad_filter(
	void **state)
{
	(void)state;
	assert_refused("campaigns", "status=sleeping", "bad_filter");
	assert_refused("campaigns", "status=Running", "bad_filter");
	assert_refused("proxies", "protocol=", "bad_filter");
	assert_accepted("campaigns", "status=archived");
}

static void listq_parse__unknown_or_unfilterable_field__is_rejected(
	void **state)
{
	(void)state;
	assert_refused("proxies", "color=red", "bad_filter");
	assert_refused("proxies", "name=x", "bad_filter");
	assert_refused("proxies", "countryCode=DE", "bad_filter");
	assert_refused("keyword-sets", "status=running", "bad_filter");
}

static void listq_parse__same_filter_twice__is_rejected(void **state)
{
	(void)state;
	assert_refused("proxies", "isEnabled=true&isEnabled=true",
		"bad_filter");
	assert_refused("proxies", "protocol=http&isEnabled=true&protocol=http",
		"bad_filter");
}

/* ------------------------------------------------------------ ids */

static void listq_parse__ids__are_read_in_order(void **state)
{
	struct req r;

	(void)state;
	assert_int_equal(req_parse(&r, "proxies", "ids=" ID1 "," ID2), 0);
	assert_int_equal(r.lq.nids, 2);
	assert_string_equal(r.lq.ids[0], ID1);
	assert_string_equal(r.lq.ids[1], ID2);
	req_release(&r);
}

static void listq_parse__bad_id__is_rejected(void **state)
{
	(void)state;
	assert_refused("proxies", "ids=nope", "bad_query");
	assert_refused("proxies", "ids=" ID1 ",nope", "bad_query");
	assert_refused("proxies", "ids=" ID1 "0", "bad_query");
}

/* ids_query writes "ids=" and n ids into a new string. */
static char *ids_query(size_t n)
{
	size_t size = 8 + n * 37, i, used = 4;
	char *q = malloc(size);

	assert_non_null(q);
	memcpy(q, "ids=", 5);
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(q + used, size - used, "%s%08zx-d9cb-"
			"469f-a165-70867728950e", i ? "," : "", i);
	return q;
}

static void listq_parse__more_than_100_ids__is_rejected(void **state)
{
	char *q;

	(void)state;
	q = ids_query(LISTQ_IDS_MAX);
	assert_accepted("proxies", q);
	free(q);
	q = ids_query(LISTQ_IDS_MAX + 1);
	assert_refused("proxies", q, "bad_query");
	free(q);
}

/* ------------------------------------------------------------ cursors */

/* assert_round_trip makes a cursor of k for query, parses it back with
 * after= and before=, and checks key, id and direction. */
static void assert_round_trip(const char *coll, const char *query,
	const struct listq_key *k)
{
	static const char *const dirs[] = { "after", "before" };
	char cursor[2048], q[2400];
	size_t d;

	cursor_of(coll, query, k, ID2, cursor, sizeof(cursor));
	for (d = 0; d < 2; d++) {
		struct req r;

		snprintf(q, sizeof(q), "%s%s%s=%s", query, *query ? "&" : "",
			dirs[d], cursor);
		if (req_parse(&r, coll, q) != 0)
			fail_msg("%s refused: %s", q, r.err.message);
		assert_int_equal(r.lq.has_cursor, 1);
		assert_int_equal(r.lq.before, (int)d);
		assert_string_equal(r.lq.cursor_id, ID2);
		assert_int_equal(r.lq.cursor_key.type, k->type);
		if (k->type == LK_INT)
			assert_true(r.lq.cursor_key.i == k->i);
		else if (k->type == LK_REAL)
			assert_true(r.lq.cursor_key.r == k->r);
		else if (k->type == LK_TEXT)
			assert_string_equal(r.lq.cursor_key.text, k->text);
		req_release(&r);
	}
}

static void listq_cursor__int_key__round_trips(void **state)
{
	struct listq_key k = { .type = LK_INT, .i = 9007199254740993LL };

	(void)state;
	assert_round_trip("keyword-sets", "sort=-ruleCount", &k);
	k.i = -1;
	assert_round_trip("keyword-sets", "sort=ruleCount", &k);
}

static void listq_cursor__real_key__round_trips(void **state)
{
	struct listq_key k = { .type = LK_REAL, .r = 33.3 };

	(void)state;
	assert_round_trip("campaigns", "sort=progressPercentage", &k);
	k.r = 0.1 + 0.2;
	assert_round_trip("campaigns", "sort=-progressPercentage", &k);
}

static void listq_cursor__text_key__round_trips(void **state)
{
	struct listq_key k = { .type = LK_TEXT, .text = (char *)
		"Zo\xc3\xab \"quoted\" \\ & = + \xf0\x9f\x98\x80" };

	(void)state;
	assert_round_trip("proxies", "sort=name&protocol=http&q=zo%C3%AB", &k);
	k.text = (char *)"2026-12-04T17:23:12.633Z";
	assert_round_trip("proxies", "", &k);
}

static void listq_cursor__null_key__round_trips(void **state)
{
	struct listq_key k = { .type = LK_NULL };

	(void)state;
	assert_round_trip("proxies", "sort=-latencyMs", &k);
	assert_round_trip("proxies", "sort=countryCode&isHealthy=true", &k);
}

static void listq_cursor__too_small_a_buffer__fails(void **state)
{
	struct listq_key k = { .type = LK_INT, .i = 1 };
	char small[16];
	struct req r;

	(void)state;
	assert_int_equal(req_parse(&r, "proxies", ""), 0);
	assert_int_equal(listq_cursor(&r.lq, &k, ID1, small, sizeof(small)),
		-1);
	req_release(&r);
}

/* assert_cursor_refused makes a cursor for (coll, query) and checks that
 * (coll2, query2) refuses it as after= and as before=. */
static void assert_cursor_refused(const char *coll, const char *query,
	const char *coll2, const char *query2)
{
	struct listq_key k = { .type = LK_TEXT, .text = (char *)"abc" };
	char cursor[2048], q[2400];

	cursor_of(coll, query, &k, ID1, cursor, sizeof(cursor));
	snprintf(q, sizeof(q), "%s%safter=%s", query2, *query2 ? "&" : "",
		cursor);
	assert_refused(coll2, q, "bad_cursor");
	snprintf(q, sizeof(q), "%s%sbefore=%s", query2, *query2 ? "&" : "",
		cursor);
	assert_refused(coll2, q, "bad_cursor");
}

/* assert_key_refused makes a cursor with key k for (coll, query), the
 * right list, and checks that the list refuses it: its key cannot be one
 * of the sort's. */
static void assert_key_refused(const char *coll, const char *query,
	const struct listq_key *k)
{
	char cursor[2048], q[2400];

	cursor_of(coll, query, k, ID1, cursor, sizeof(cursor));
	snprintf(q, sizeof(q), "%s%safter=%s", query, *query ? "&" : "",
		cursor);
	assert_refused(coll, q, "bad_cursor");
}

static void listq_parse__cursor_key_of_another_type__is_rejected(
	void **state)
{
	struct listq_key text = { .type = LK_TEXT, .text = (char *)"7" };
	struct listq_key real = { .type = LK_REAL, .r = 1.5 };
	struct listq_key integer = { .type = LK_INT, .i = 7 };

	(void)state;
	assert_key_refused("keyword-sets", "sort=ruleCount", &text);
	assert_key_refused("keyword-sets", "sort=-ruleCount", &real);
	assert_key_refused("keyword-sets", "sort=name", &integer);
	assert_key_refused("proxies", "", &integer);
	/* A number sorts by integers and reals alike. */
	assert_round_trip("campaigns", "sort=progressPercentage", &integer);
}

static void listq_parse__cursor_of_another_sort__is_rejected(void **state)
{
	(void)state;
	assert_cursor_refused("proxies", "sort=name", "proxies", "sort=-name");
	assert_cursor_refused("proxies", "sort=name", "proxies",
		"sort=countryCode");
	assert_cursor_refused("proxies", "", "proxies", "sort=createdAt");
}

static void listq_parse__cursor_of_another_filter__is_rejected(
	void **state)
{
	(void)state;
	assert_cursor_refused("proxies", "isEnabled=true", "proxies",
		"isEnabled=false");
	assert_cursor_refused("proxies", "isEnabled=true", "proxies", "");
	assert_cursor_refused("proxies", "isEnabled=true", "proxies",
		"isEnabled=true&protocol=http");
	assert_cursor_refused("proxies", "protocol=http", "proxies",
		"protocol=https");
}

static void listq_parse__cursor_of_another_q__is_rejected(void **state)
{
	(void)state;
	assert_cursor_refused("proxies", "q=abc", "proxies", "q=abcd");
	assert_cursor_refused("proxies", "q=abc", "proxies", "");
	assert_cursor_refused("proxies", "", "proxies", "q=abc");
}

static void listq_parse__cursor_of_another_collection__is_rejected(
	void **state)
{
	(void)state;
	assert_cursor_refused("proxies", "sort=name", "proxy-pools",
		"sort=name");
	assert_cursor_refused("personas", "", "keyword-sets", "");
}

static void listq_parse__cursor_of_other_ids__is_rejected(void **state)
{
	(void)state;
	assert_cursor_refused("proxies", "ids=" ID1 "," ID2, "proxies",
		"ids=" ID1);
	assert_cursor_refused("proxies", "ids=" ID1, "proxies", "");
}

static void listq_parse__same_list_with_another_limit__keeps_the_cursor(
	void **state)
{
	struct listq_key k = { .type = LK_TEXT, .text = (char *)"abc" };
	char cursor[2048], q[2400];

	(void)state;
	cursor_of("proxies", "sort=name&limit=3", &k, ID1, cursor,
		sizeof(cursor));
	snprintf(q, sizeof(q), "sort=name&limit=50&after=%s", cursor);
	assert_accepted("proxies", q);
}

static void listq_parse__two_cursors__is_rejected(void **state)
{
	struct listq_key k = { .type = LK_INT, .i = 3 };
	char cursor[2048], q[4400];

	(void)state;
	cursor_of("keyword-sets", "sort=ruleCount", &k, ID1, cursor,
		sizeof(cursor));
	snprintf(q, sizeof(q), "sort=ruleCount&after=%s&before=%s", cursor,
		cursor);
	assert_refused("keyword-sets", q, "bad_cursor");
}

static void listq_parse__garbage_cursor__is_rejected(void **state)
{
	(void)state;
	assert_refused("proxies", "after=garbage", "bad_cursor");
	assert_refused("proxies", "after=", "bad_cursor");
	assert_refused("proxies", "before=%21%21%21", "bad_cursor");
	/* Valid base64url of JSON that is not a cursor: [1,"x"]. */
	assert_refused("proxies", "after=WzEsIngiXQ", "bad_cursor");
}

/* ------------------------------------------------------------ counters */

static void assert_count_key(const char *coll, const char *query,
	int want_rc, const char *want)
{
	char key[512];
	struct req r;

	assert_int_equal(req_parse(&r, coll, query), 0);
	assert_int_equal(listq_count_key(&r.lq, key, sizeof(key)), want_rc);
	if (want_rc == 0)
		assert_string_equal(key, want);
	req_release(&r);
}

static void listq_count_key__no_filter__is_empty(void **state)
{
	(void)state;
	assert_count_key("proxies", "sort=name&limit=3", 0, "");
}

static void listq_count_key__one_filter__names_it_with_its_json_value(
	void **state)
{
	(void)state;
	assert_count_key("proxies", "isEnabled=false", 0, "isEnabled=false");
	assert_count_key("proxies", "protocol=socks4", 0,
		"protocol=\"socks4\"");
	assert_count_key("campaigns", "status=running", 0,
		"status=\"running\"");
}

static void listq_count_key__two_filters__come_in_declaration_order(
	void **state)
{
	(void)state;
	assert_count_key("proxies", "isHealthy=true&protocol=http", 0,
		"protocol=\"http\"&isHealthy=true");
	assert_count_key("proxies", "protocol=http&isHealthy=true", 0,
		"protocol=\"http\"&isHealthy=true");
	assert_count_key("campaigns", "status=paused&campaignType="
		"dns_validation", 0,
		"campaignType=\"dns_validation\"&status=\"paused\"");
}

static void listq_count_key__three_filters__has_no_counter(void **state)
{
	(void)state;
	assert_count_key("proxies", "protocol=http&isEnabled=true&isHealthy="
		"false", -1, NULL);
}

static void listq_count_key__q_or_ids__has_no_counter(void **state)
{
	(void)state;
	assert_count_key("proxies", "q=abc", -1, NULL);
	assert_count_key("proxies", "q=abc&isEnabled=true", -1, NULL);
	assert_count_key("proxies", "ids=" ID1, -1, NULL);
}

/* ------------------------------------------------------------ order */

/*
 * order_of sorts rows of JSON data by the expression listq_sort_expr
 * gives (then by id, as the list does), ascending or descending, in an
 * in-memory database, and writes the ids in that order, joined by ' '.
 */
static void order_of(const struct field *f, const char *meta,
	const char *const rows[][2], size_t n, int desc, char *out,
	size_t size)
{
	char expr[256], sql[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t i, used = 0;

	listq_sort_expr(0, f, meta, expr, sizeof(expr));
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (id TEXT, "
		"created_at TEXT, updated_at TEXT, data TEXT)", NULL, NULL,
		NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t VALUES "
			"(?, json_extract(?2, '$.createdAt'), json_extract(?2, "
			"'$.updatedAt'), ?2)", -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_text(st, 1, rows[i][0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, rows[i][1], -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
	}
	snprintf(sql, sizeof(sql), "SELECT id FROM t ORDER BY %s %s, id %s",
		expr, desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
		SQLITE_OK);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW)
		used += (size_t)snprintf(out + used, size - used, "%s%s",
			used ? " " : "", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void listq_sort_expr__string__folds_ascii_case_and_puts_null_last(
	void **state)
{
	/* '_' lies between 'Z' and 'a': folding to lower case puts it
	 * before letters; É (U+00C9) is not folded and follows z. */
	static const char *const rows[][2] = {
		{ "1", "{\"name\":\"b\"}" }, { "2", "{\"name\":\"A\"}" },
		{ "3", "{\"name\":null}" }, { "4", "{\"name\":\"a\"}" },
		{ "5", "{\"name\":\"_x\"}" },
		{ "6", "{\"name\":\"\\u00c9t\"}" },
		{ "7", "{\"name\":\"Z\"}" }, { "8", "{}" },
	};
	char out[256];

	(void)state;
	order_of(field_of("proxies", "name"), "name", rows, 8, 0, out,
		sizeof(out));
	assert_string_equal(out, "5 2 4 1 7 6 3 8");
	order_of(field_of("proxies", "name"), "name", rows, 8, 1, out,
		sizeof(out));
	assert_string_equal(out, "8 3 6 7 1 4 2 5");
}

static void listq_sort_expr__number__orders_numerically_with_null_last(
	void **state)
{
	static const char *const rows[][2] = {
		{ "1", "{\"latencyMs\":10}" }, { "2", "{\"latencyMs\":9}" },
		{ "3", "{\"latencyMs\":null}" }, { "4", "{\"latencyMs\":100}" },
		{ "5", "{\"latencyMs\":0}" }, { "6", "{\"latencyMs\":9.5}" },
		{ "7", "{\"latencyMs\":9}" },
	};
	char out[256];

	(void)state;
	order_of(field_of("proxies", "latencyMs"), "latencyMs", rows, 7, 0,
		out, sizeof(out));
	assert_string_equal(out, "5 2 7 6 1 4 3");
	order_of(field_of("proxies", "latencyMs"), "latencyMs", rows, 7, 1,
		out, sizeof(out));
	assert_string_equal(out, "3 4 1 6 7 2 5");
}

static void listq_sort_at__gives_the_meta_sorts_then_each_sortable_field(
	void **state)
{
	const struct resource *res = resource_find("keyword-sets");
	const struct field *f;
	const char *name;
	char got[256] = "";
	size_t i;

	(void)state;
	for (i = 0; listq_sort_at(res, i, &f, &name); i++) {
		const struct field *check;

		/* Every sort it gives is one a request may ask for. */
		assert_true(listq_is_sortable(res, name, &check));
		assert_ptr_equal(check, f);
		strncat(got, name, sizeof(got) - strlen(got) - 2);
		strcat(got, " ");
	}
	assert_string_equal(got, "createdAt updatedAt name ruleCount ");
	assert_int_equal(listq_sort_at(res, i + 5, &f, &name), 0);
}

static void listq_pg_exprs__fold_ascii_case_and_give_missing_values_a_last_key(
	void **state)
{
	const struct resource *res = resource_find("proxies");
	const struct field *f;
	const char *name;
	char expr[256];
	size_t i;

	(void)state;
	for (i = 0; listq_sort_at(res, i, &f, &name); i++) {
		listq_sort_expr(1, f, name, expr, sizeof(expr));
		if (!f)
			continue;
		if (f->type == FT_INT)
			assert_non_null(strstr(expr, "::bigint, "
				LISTQ_PG_INT_MAX ")"));
		else if (f->type == FT_STRING)
			assert_non_null(strstr(expr, "translate((doc "
				"->> '"));
	}
	listq_filter_expr(1, &res->fields[0], expr, sizeof(expr));
	assert_string_equal(expr, "(doc ->> 'name')");
}

static void listq_like_pattern__escapes_wildcards_and_matches_anywhere(
	void **state)
{
	char out[64];

	(void)state;
	listq_like_pattern("50%_a\\b", out, sizeof(out));
	assert_string_equal(out, "%50\\%\\_a\\\\b%");
	listq_like_pattern("abc", out, sizeof(out));
	assert_string_equal(out, "%abc%");
}

static void listq_sort_expr__meta_fields__are_their_columns(void **state)
{
	static const char *const rows[][2] = {
		{ "1", "{\"createdAt\":\"2026-01-02T00:00:00.000Z\","
			"\"updatedAt\":\"2026-01-01T00:00:00.000Z\"}" },
		{ "2", "{\"createdAt\":\"2026-01-01T00:00:00.000Z\","
			"\"updatedAt\":\"2026-01-03T00:00:00.000Z\"}" },
		{ "3", "{\"createdAt\":\"2026-01-01T00:00:00.000Z\","
			"\"updatedAt\":\"2026-01-02T00:00:00.000Z\"}" },
	};
	char out[64], expr[256];

	(void)state;
	listq_sort_expr(0, NULL, "createdAt", expr, sizeof(expr));
	assert_string_equal(expr, "created_at");
	listq_sort_expr(0, NULL, "updatedAt", expr, sizeof(expr));
	assert_string_equal(expr, "updated_at");
	order_of(NULL, "createdAt", rows, 3, 0, out, sizeof(out));
	assert_string_equal(out, "2 3 1");
	order_of(NULL, "updatedAt", rows, 3, 1, out, sizeof(out));
	assert_string_equal(out, "2 3 1");
}

static void listq_fold_ascii__lowercases_a_to_z_only(void **state)
{
	char s[] = "AZaz@[`{ \xc3\x89\xc3\xa9";

	(void)state;
	listq_fold_ascii(s);
	assert_string_equal(s, "azaz@[`{ \xc3\x89\xc3\xa9");
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(listq_parse__no_parameters__sorts_newest_first_100_rows),
		T(listq_parse__limit_over_1000__is_clamped),
		T(listq_parse__limit_not_a_positive_integer__is_rejected),
		T(listq_parse__underscore_parameters__are_ignored),
		T(listq_parse__sort_field__sorts_ascending),
		T(listq_parse__minus_sort_field__sorts_descending),
		T(listq_parse__sort_by_meta_column__has_no_field),
		T(listq_parse__every_documented_sort__is_accepted),
		T(listq_parse__unsortable_field__is_rejected_bad_sort),
		T(listq_parse__q_shorter_than_3_characters__is_rejected),
		T(listq_parse__q_with_control_characters__is_rejected),
		T(listq_parse__q_over_256_bytes__is_rejected),
		T(listq_parse__q__is_folded_in_ascii_only),
		T(listq_parse__empty_q__is_no_search),
		T(listq_parse__q_given_twice__is_rejected),
		T(listq_parse__filters__are_read_typed),
		T(listq_parse__filters_in_another_order__bind_the_same),
		T(listq_parse__filters_in_another_order__keep_the_cursor),
		T(listq_parse__bad_boolean__is_rejected_bad_filter),
		T(listq_parse__unknown_enum_value__is_rejected_bad_filter),
		T(listq_parse__unknown_or_unfilterable_field__is_rejected),
		T(listq_parse__same_filter_twice__is_rejected),
		T(listq_parse__ids__are_read_in_order),
		T(listq_parse__bad_id__is_rejected),
		T(listq_parse__more_than_100_ids__is_rejected),
		T(listq_cursor__int_key__round_trips),
		T(listq_cursor__real_key__round_trips),
		T(listq_cursor__text_key__round_trips),
		T(listq_cursor__null_key__round_trips),
		T(listq_cursor__too_small_a_buffer__fails),
		T(listq_parse__cursor_of_another_sort__is_rejected),
		T(listq_parse__cursor_of_another_filter__is_rejected),
		T(listq_parse__cursor_of_another_q__is_rejected),
		T(listq_parse__cursor_of_another_collection__is_rejected),
		T(listq_parse__cursor_of_other_ids__is_rejected),
		T(listq_parse__same_list_with_another_limit__keeps_the_cursor),
		T(listq_parse__two_cursors__is_rejected),
		T(listq_parse__garbage_cursor__is_rejected),
		T(listq_count_key__no_filter__is_empty),
		T(listq_count_key__one_filter__names_it_with_its_json_value),
		T(listq_count_key__two_filters__come_in_declaration_order),
		T(listq_count_key__three_filters__has_no_counter),
		T(listq_count_key__q_or_ids__has_no_counter),
		T(listq_sort_expr__string__folds_ascii_case_and_puts_null_last),
		T(listq_sort_expr__number__orders_numerically_with_null_last),
		T(listq_sort_expr__meta_fields__are_their_columns),
		T(listq_sort_at__gives_the_meta_sorts_then_each_sortable_field),
		T(listq_parse__cursor_key_of_another_type__is_rejected),
		T(listq_pg_exprs__fold_ascii_case_and_give_missing_values_a_last_key),
		T(listq_like_pattern__escapes_wildcards_and_matches_anywhere),
		T(listq_fold_ascii__lowercases_a_to_z_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
