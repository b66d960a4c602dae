/* test_store.c - the CRUD engine against a real temporary SQLite database. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "store.h"
#include "list.h"
#include "resource.h"
#include "journal.h"
#include "db.h"
#include "schema.h"

struct fixture {
	char dir[64];
	struct config cfg;
	struct store st;
	struct ferr err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[128];
	struct ferr err;

	ferr_init(&err);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/fp-store-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(config_load(&fx->cfg, "/dev/null", &err), 0);
	snprintf(path, sizeof(path), "%s/t.db", fx->dir);
	free(fx->cfg.database);
	fx->cfg.database = strdup(path);
	/* flowpush init creates the file; the API only opens it. */
	sqlite3_close_v2(schema_open(&fx->cfg, DB_CREATE, &err));
	assert_int_equal(store_open(&fx->st, &fx->cfg, &err), 0);
	ferr_init(&fx->err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	store_close(&fx->st);
	config_release(&fx->cfg);
	ferr_release(&fx->err);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static const struct store_write anon = { NULL, -1 };

static json_t *parse(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	assert_non_null(v);
	return v;
}

static json_t *create(struct fixture *fx, const char *coll, const char *body)
{
	json_t *b = parse(body);
	json_t *rec = store_create(&fx->st, resource_find(coll), b, &anon,
		&fx->err);

	json_decref(b);
	if (!rec)
		fail_msg("create %s: %d %s", coll, fx->err.status,
			fx->err.message);
	return rec;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void store_create__dns_persona__fills_defaults_and_meta(void **state)
{
	struct fixture *fx = *state;
	json_t *rec = create(fx, "personas", "{\"name\":\"a\",\"personaType\":"
		"\"dns\",\"configDetails\":{\"resolvers\":[\"1.1.1.1:53\"]}}");
	json_t *cd = json_object_get(rec, "configDetails");

	assert_int_equal(strlen(str(rec, "id")), 36);
	assert_int_equal(json_integer_value(json_object_get(rec, "version")),
		1);
	assert_int_equal(strlen(str(rec, "createdAt")), 24);
	assert_true(json_is_true(json_object_get(rec, "isEnabled")));
	assert_int_equal(json_integer_value(json_object_get(cd,
		"queryTimeoutSeconds")), 5);
	assert_string_equal(str(cd, "resolverStrategy"), "round_robin");
	json_decref(rec);
}

static void store_create__unknown_field__is_422_naming_it(void **state)
{
	struct fixture *fx = *state;
	json_t *b = parse("{\"name\":\"a\",\"personaType\":\"dns\","
		"\"configDetails\":{\"resolvers\":[\"8.8.8.8\"],\"bogus\":1}}");

	assert_null(store_create(&fx->st, resource_find("personas"), b, &anon,
		&fx->err));
	assert_int_equal(fx->err.status, 422);
	assert_non_null(json_object_get(fx->err.fields,
		"configDetails.bogus"));
	json_decref(b);
}

static void store_create__duplicate_name_same_type__is_409(void **state)
{
	struct fixture *fx = *state;
	const char *body = "{\"name\":\"same\",\"personaType\":\"http\","
		"\"configDetails\":{\"userAgent\":\"x\"}}";
	json_t *b = parse(body);
	json_t *rec = create(fx, "personas", body);
	json_t *dns;

	assert_null(store_create(&fx->st, resource_find("personas"), b, &anon,
		&fx->err));
	assert_int_equal(fx->err.status, 409);
	ferr_release(&fx->err);
	/* The same name under the other type is fine. */
	dns = create(fx, "personas", "{\"name\":\"same\",\"personaType\":"
		"\"dns\",\"configDetails\":{\"resolvers\":[\"9.9.9.9\"]}}");
	json_decref(dns);
	json_decref(rec);
	json_decref(b);
}

static void store_patch__stale_if_match__is_412(void **state)
{
	struct fixture *fx = *state;
	json_t *rec = create(fx, "keyword-sets", "{\"name\":\"k\"}");
	struct store_write w = { NULL, 7 };
	json_t *p = parse("{\"description\":\"d\"}");

	assert_null(store_patch(&fx->st, resource_find("keyword-sets"),
		str(rec, "id"), p, &w, &fx->err));
	assert_int_equal(fx->err.status, 412);
	json_decref(p);
	json_decref(rec);
}

static void store_patch__merge__bumps_version_and_keeps_rest(void **state)
{
	struct fixture *fx = *state;
	json_t *rec = create(fx, "keyword-sets", "{\"name\":\"k\","
		"\"description\":\"old\",\"rules\":[{\"pattern\":\"a+\","
		"\"ruleType\":\"regex\"}]}");
	struct store_write w = { "alice", 1 };
	json_t *p = parse("{\"description\":\"new\"}");
	json_t *out = store_patch(&fx->st, resource_find("keyword-sets"),
		str(rec, "id"), p, &w, &fx->err);

	assert_non_null(out);
	assert_int_equal(json_integer_value(json_object_get(out, "version")),
		2);
	assert_string_equal(str(out, "description"), "new");
	assert_int_equal(json_integer_value(json_object_get(out,
		"ruleCount")), 1);
	json_decref(out);
	json_decref(p);
	json_decref(rec);
}

static void store_create__bad_regex__is_422_naming_the_rule(void **state)
{
	struct fixture *fx = *state;
	json_t *b = parse("{\"name\":\"k\",\"rules\":[{\"pattern\":\"ok\","
		"\"ruleType\":\"string\"},{\"pattern\":\"(\","
		"\"ruleType\":\"regex\"}]}");

	assert_null(store_create(&fx->st, resource_find("keyword-sets"), b,
		&anon, &fx->err));
	assert_int_equal(fx->err.status, 422);
	assert_non_null(json_object_get(fx->err.fields, "rules[1].pattern"));
	json_decref(b);
}

static void store_proxy__password__is_never_returned(void **state)
{
	struct fixture *fx = *state;
	json_t *rec = create(fx, "proxies", "{\"name\":\"p\",\"address\":"
		"\"10.0.0.1:8080\",\"protocol\":\"http\",\"password\":\"s3cret\"}");
	json_t *got, *ev;
	char *dump;
	int64_t next;

	assert_null(json_object_get(rec, "password"));
	assert_true(json_is_true(json_object_get(rec, "hasPassword")));
	got = store_get(&fx->st, resource_find("proxies"), str(rec, "id"),
		&fx->err);
	dump = json_dumps(got, 0);
	assert_null(strstr(dump, "s3cret"));
	free(dump);
	ev = journal_read(&fx->st.x, 0, NULL, 100, 0, &next, &fx->err);
	dump = json_dumps(ev, 0);
	assert_null(strstr(dump, "s3cret"));
	free(dump);
	json_decref(ev);
	json_decref(got);
	json_decref(rec);
}

static void store_proxy__address_with_userinfo__is_422(void **state)
{
	struct fixture *fx = *state;
	json_t *b = parse("{\"name\":\"p\",\"address\":\"u:p@10.0.0.1:80\","
		"\"protocol\":\"http\"}");

	assert_null(store_create(&fx->st, resource_find("proxies"), b, &anon,
		&fx->err));
	assert_int_equal(fx->err.status, 422);
	assert_non_null(json_object_get(fx->err.fields, "address"));
	json_decref(b);
}

/* another_writer holds the database's write lock on a second connection,
 * as a slow writer in another process would. */
static sqlite3 *another_writer(struct fixture *fx)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(fx->cfg.database, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
		NULL), SQLITE_OK);
	return db;
}

static void store_create__refused_record__waits_for_no_lock(
	void **state)
{
	struct fixture *fx = *state;
	struct store_write w = { NULL, -1 };
	sqlite3 *other;
	json_t *body, *rec;

	sqlite3_busy_timeout(fx->st.db, 50);
	other = another_writer(fx);
	/* A pattern that does not compile: refused before the lock. */
	body = json_pack("{s:s, s:[{s:s, s:s}]}", "name", "bad regex",
		"rules", "pattern", "a(", "ruleType", "regex");
	rec = store_create(&fx->st, resource_find("keyword-sets"), body, &w,
		&fx->err);
	assert_null(rec);
	assert_int_equal(fx->err.status, 422);
	ferr_release(&fx->err);
	ferr_init(&fx->err);
	/* A sound one does need the lock, which the other writer holds. */
	json_object_set_new(json_array_get(json_object_get(body, "rules"), 0),
		"pattern", json_string("a+"));
	rec = store_create(&fx->st, resource_find("keyword-sets"), body, &w,
		&fx->err);
	assert_null(rec);
	assert_int_equal(fx->err.status, 503);
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	json_decref(body);
}

static void store_create__regex_budget__names_the_rule_past_it(
	void **state)
{
	struct fixture *fx = *state;
	struct store_write w = { NULL, -1 };
	json_t *body = json_pack("{s:s, s:[]}", "name", "heavy", "rules");
	json_t *rec;
	int i;

	/* The slowest pattern allowed alone; 30 of them pass the budget. */
	for (i = 0; i < 40; i++)
		json_array_append_new(json_object_get(body, "rules"),
			json_pack("{s:s, s:s}", "pattern", "(a{0,40}){0,40}",
			"ruleType", "regex"));
	rec = store_create(&fx->st, resource_find("keyword-sets"), body, &w,
		&fx->err);
	assert_null(rec);
	assert_int_equal(fx->err.status, 422);
	assert_non_null(json_object_get(fx->err.fields, "rules[29].pattern"));
	assert_null(json_object_get(fx->err.fields, "rules[28].pattern"));
	json_decref(body);
}

static void store_delete__proxy__leaves_its_pools(void **state)
{
	struct fixture *fx = *state;
	json_t *p = create(fx, "proxies", "{\"name\":\"p\",\"address\":"
		"\"h:1\",\"protocol\":\"socks5\"}");
	char body[256];
	json_t *pool, *after;

	snprintf(body, sizeof(body), "{\"name\":\"pool\",\"members\":"
		"[{\"proxyId\":\"%s\",\"weight\":3}]}", str(p, "id"));
	pool = create(fx, "proxy-pools", body);
	assert_int_equal(store_delete(&fx->st, resource_find("proxies"),
		str(p, "id"), &anon, &fx->err), 0);
	after = store_get(&fx->st, resource_find("proxy-pools"),
		str(pool, "id"), &fx->err);
	assert_int_equal(json_array_size(json_object_get(after, "members")),
		0);
	assert_int_equal(json_integer_value(json_object_get(after,
		"version")), 2);
	json_decref(after);
	json_decref(pool);
	json_decref(p);
}

static void store_action__state_machine__moves_and_refuses(void **state)
{
	struct fixture *fx = *state;
	json_t *c = create(fx, "campaigns", "{\"name\":\"c\",\"campaignType\":"
		"\"domain_generation\",\"totalItems\":2,"
		"\"domainGenerationParams\":{\"patternType\":\"prefix\","
		"\"variableLength\":3,\"characterSet\":\"abc\",\"tld\":\".com\"}}");
	const char *id = str(c, "id");
	json_t *r, *p;

	assert_null(store_action(&fx->st, id, "pause", NULL, &anon, &fx->err));
	assert_int_equal(fx->err.status, 409);
	ferr_release(&fx->err);
	r = store_action(&fx->st, id, "start", NULL, &anon, &fx->err);
	assert_string_equal(str(r, "status"), "queued");
	json_decref(r);
	r = store_action(&fx->st, id, "run", NULL, &anon, &fx->err);
	assert_string_equal(str(r, "status"), "running");
	assert_true(json_is_string(json_object_get(r, "startedAt")));
	json_decref(r);
	p = parse("{\"processedItems\":2,\"successfulItems\":1,"
		"\"failedItems\":1}");
	r = store_patch(&fx->st, resource_find("campaigns"), id, p, &anon,
		&fx->err);
	assert_non_null(r);
	assert_string_equal(str(r, "status"), "completed");
	assert_true(json_real_value(json_object_get(r,
		"progressPercentage")) == 100.0);
	json_decref(r);
	json_decref(p);
	json_decref(c);
}

static void store_patch__progress_outside_running__is_409(void **state)
{
	struct fixture *fx = *state;
	json_t *c = create(fx, "campaigns", "{\"name\":\"c\",\"campaignType\":"
		"\"domain_generation\",\"totalItems\":5,"
		"\"domainGenerationParams\":{\"patternType\":\"both\","
		"\"variableLength\":3,\"characterSet\":\"abc\",\"tld\":\"com\"}}");
	json_t *p = parse("{\"processedItems\":1,\"successfulItems\":1}");

	assert_null(store_patch(&fx->st, resource_find("campaigns"),
		str(c, "id"), p, &anon, &fx->err));
	assert_int_equal(fx->err.status, 409);
	json_decref(p);
	json_decref(c);
}

static void store_list__pages_newest_first_with_seq(void **state)
{
	struct fixture *fx = *state;
	struct form q = { 0, NULL };
	struct form_pair pairs[2] = { { "limit", "2" }, { "after", NULL } };
	json_t *page, *page2;
	char body[64];
	int i;

	for (i = 0; i < 3; i++) {
		json_t *r;

		snprintf(body, sizeof(body), "{\"name\":\"k%d\"}", i);
		r = create(fx, "keyword-sets", body);
		json_decref(r);
	}
	q.n = 1;
	q.pairs = pairs;
	page = list_window(&fx->st, resource_find("keyword-sets"), &q,
		&fx->err);
	assert_non_null(page);
	assert_int_equal(json_array_size(json_object_get(page, "items")), 2);
	assert_string_equal(str(json_array_get(json_object_get(page, "items"),
		0), "name"), "k2");
	assert_true(json_integer_value(json_object_get(page, "seq")) >= 3);
	pairs[1].value = (char *)str(page, "next");
	q.n = 2;
	page2 = list_window(&fx->st, resource_find("keyword-sets"), &q,
		&fx->err);
	assert_int_equal(json_array_size(json_object_get(page2, "items")), 1);
	assert_true(json_is_null(json_object_get(page2, "next")));
	json_decref(page2);
	json_decref(page);
}

static void store_changes__each_write_once_in_order(void **state)
{
	struct fixture *fx = *state;
	json_t *rec = create(fx, "keyword-sets", "{\"name\":\"k\"}");
	json_t *ch, *ev;
	size_t i;
	int64_t prev = 0;
	int records = 0;

	assert_int_equal(store_delete(&fx->st, resource_find("keyword-sets"),
		str(rec, "id"), &anon, &fx->err), 0);
	ch = store_changes(&fx->st, 0, NULL, 100, &fx->err);
	assert_non_null(ch);
	json_array_foreach(json_object_get(ch, "events"), i, ev) {
		int64_t seq = json_integer_value(json_object_get(ev, "seq"));

		assert_true(seq > prev);
		prev = seq;
		if (strcmp(str(ev, "topic"), "keyword-sets") == 0)
			records++;
	}
	assert_int_equal(records, 2);
	json_decref(ch);
	ch = store_changes(&fx->st, prev + 5, NULL, 100, &fx->err);
	assert_true(json_is_true(json_object_get(ch, "reset")));
	json_decref(ch);
	json_decref(rec);
}

static void store_create__regex_expanding_too_far__is_422(void **state)
{
	struct fixture *fx = *state;
	json_t *b = parse("{\"name\":\"k\",\"rules\":[{\"pattern\":"
		"\"(.{1,32767})\",\"ruleType\":\"regex\"}]}");

	assert_null(store_create(&fx->st, resource_find("keyword-sets"), b,
		&anon, &fx->err));
	assert_int_equal(fx->err.status, 422);
	assert_non_null(json_object_get(fx->err.fields, "rules[0].pattern"));
	json_decref(b);
}

static void store_patch__reference_deleted_since__is_kept(void **state)
{
	struct fixture *fx = *state;
	const struct resource *camps = resource_find("campaigns");
	json_t *src = create(fx, "campaigns", "{\"name\":\"s\","
		"\"campaignType\":\"domain_generation\","
		"\"domainGenerationParams\":{\"patternType\":\"prefix\","
		"\"variableLength\":3,\"characterSet\":\"abc\","
		"\"tld\":\"com\"}}");
	json_t *per = create(fx, "personas", "{\"name\":\"a\","
		"\"personaType\":\"dns\",\"configDetails\":{\"resolvers\":"
		"[\"1.1.1.1\"]}}");
	json_t *c, *p, *out;
	char body[512];

	snprintf(body, sizeof(body), "{\"name\":\"v\",\"totalItems\":9,"
		"\"campaignType\":\"dns_validation\",\"dnsValidationParams\":"
		"{\"sourceCampaignId\":\"%s\",\"personaIds\":[\"%s\"]}}",
		str(src, "id"), str(per, "id"));
	c = create(fx, "campaigns", body);
	assert_int_equal(store_delete(&fx->st, resource_find("personas"),
		str(per, "id"), &anon, &fx->err), 0);
	/* A change that keeps the reference still goes through ... */
	p = parse("{\"description\":\"after\"}");
	out = store_patch(&fx->st, camps, str(c, "id"), p, &anon, &fx->err);
	assert_non_null(out);
	json_decref(out);
	json_decref(p);
	/* ... but a new reference must name a record that exists. */
	snprintf(body, sizeof(body), "{\"dnsValidationParams\":{"
		"\"personaIds\":[\"%s\",\"00000000-0000-4000-8000-"
		"000000000000\"]}}", str(per, "id"));
	p = parse(body);
	assert_null(store_patch(&fx->st, camps, str(c, "id"), p, &anon,
		&fx->err));
	assert_int_equal(fx->err.status, 422);
	assert_non_null(json_object_get(fx->err.fields,
		"dnsValidationParams.personaIds[1]"));
	json_decref(p);
	json_decref(c);
	json_decref(per);
	json_decref(src);
}

static void store_open__unopenable_file__keeps_the_path_private(void **s)
{
	struct config cfg;
	struct store st;
	struct ferr err;

	ferr_init(&err);
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(config_load(&cfg, "/dev/null", &err), 0);
	free(cfg.database);
	cfg.database = strdup("/nonexistent-fp-dir/secret-place.db");
	assert_int_equal(store_open(&st, &cfg, &err), -1);
	assert_int_equal(err.status, 500);
	assert_null(strstr(err.message, "secret-place"));
	ferr_release(&err);
	config_release(&cfg);
	(void)s;
}

/* count_topic counts the journal rows of one topic after seq since. */
static int count_topic(struct fixture *fx, int64_t since, const char *topic)
{
	struct topic_list tl;
	json_t *ev;
	int64_t next;
	int n;

	assert_int_equal(topic_list_parse(topic, &tl, &fx->err), 0);
	ev = journal_read(&fx->st.x, since, &tl, 1000, 0, &next,
		&fx->err);
	assert_non_null(ev);
	n = (int)json_array_size(ev);
	json_decref(ev);
	topic_list_release(&tl);
	return n;
}

static void store_dashboard_rows__only_when_figures_move(void **state)
{
	struct fixture *fx = *state;
	json_t *c = create(fx, "campaigns", "{\"name\":\"c\",\"campaignType\":"
		"\"domain_generation\",\"totalItems\":9,"
		"\"domainGenerationParams\":{\"patternType\":\"prefix\","
		"\"variableLength\":3,\"characterSet\":\"abc\",\"tld\":\"com\"}}");
	const char *id = str(c, "id");
	json_t *r, *p;
	int64_t seq;

	r = store_action(&fx->st, id, "start", NULL, &anon, &fx->err);
	json_decref(r);
	r = store_action(&fx->st, id, "run", NULL, &anon, &fx->err);
	json_decref(r);
	assert_int_equal(journal_last_seq(&fx->st.x, &seq, &fx->err), 0);
	/* A progress report moves no figure: no dashboard row. */
	p = parse("{\"processedItems\":1,\"successfulItems\":1}");
	r = store_patch(&fx->st, resource_find("campaigns"), id, p, &anon,
		&fx->err);
	assert_non_null(r);
	json_decref(r);
	json_decref(p);
	assert_int_equal(count_topic(fx, seq, "dashboard"), 0);
	/* A status change does. */
	r = store_action(&fx->st, id, "pause", NULL, &anon, &fx->err);
	json_decref(r);
	assert_int_equal(count_topic(fx, seq, "dashboard"), 1);
	/* So do a create and a delete. */
	assert_int_equal(store_delete(&fx->st, resource_find("campaigns"), id,
		&anon, &fx->err), 0);
	assert_int_equal(count_topic(fx, seq, "dashboard"), 2);
	json_decref(c);
}

static void store_journal_prune__keep_rows__leaves_the_newest(void **state)
{
	struct fixture *fx = *state;
	int64_t first = 0, last = 0;
	long deleted = 0;
	int i;

	for (i = 0; i < 3; i++) {
		char body[64];

		snprintf(body, sizeof(body), "{\"name\":\"k%d\"}", i);
		json_decref(create(fx, "keyword-sets", body));
	}
	assert_int_equal(store_last_seq(&fx->st, &last, &fx->err), 0);
	assert_int_equal(store_journal_prune(&fx->st, 0, 2, 1000, &deleted,
		&fx->err), 0);
	assert_int_equal(deleted, last - 2);
	assert_int_equal(store_first_seq(&fx->st, &first, &fx->err), 0);
	assert_int_equal(first, last - 1);
}

static void store_inspect__fresh_file__is_sound_and_current(void **state)
{
	struct fixture *fx = *state;
	struct store_health h;

	assert_int_equal(store_inspect(&fx->cfg, &h, &fx->err), 0);
	assert_string_equal(h.integrity, "ok");
	assert_int_equal(h.version, SCHEMA_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(store_create__dns_persona__fills_defaults_and_meta),
		T(store_create__unknown_field__is_422_naming_it),
		T(store_create__duplicate_name_same_type__is_409),
		T(store_patch__stale_if_match__is_412),
		T(store_patch__merge__bumps_version_and_keeps_rest),
		T(store_create__bad_regex__is_422_naming_the_rule),
		T(store_proxy__password__is_never_returned),
		T(store_proxy__address_with_userinfo__is_422),
		T(store_create__refused_record__waits_for_no_lock),
		T(store_create__regex_budget__names_the_rule_past_it),
		T(store_delete__proxy__leaves_its_pools),
		T(store_action__state_machine__moves_and_refuses),
		T(store_patch__progress_outside_running__is_409),
		T(store_list__pages_newest_first_with_seq),
		T(store_changes__each_write_once_in_order),
		T(store_dashboard_rows__only_when_figures_move),
		T(store_create__regex_expanding_too_far__is_422),
		T(store_patch__reference_deleted_since__is_kept),
		T(store_journal_prune__keep_rows__leaves_the_newest),
		T(store_inspect__fresh_file__is_sound_and_current),
		cmocka_unit_test(
		store_open__unopenable_file__keeps_the_path_private),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
