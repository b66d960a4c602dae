/* test_sse.c - Server-Sent Events formatting and Last-Event-ID parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "sse.h"

/* fmt_event formats into a static buffer and checks the size contract. */
static const char *fmt_event(const char *name, int64_t id, const char *data)
{
	static char buf[512];
	size_t need = sse_format_event(NULL, 0, name, id, data, strlen(data));

	assert_true(need < sizeof(buf));
	assert_int_equal(sse_format_event(buf, sizeof(buf), name, id, data,
		strlen(data)), need);
	buf[need] = '\0';
	return buf;
}

static void sse_format_event__id_and_data__make_one_event(void **state)
{
	assert_string_equal(fmt_event(NULL, 42, "{\"seq\":42}"),
		"id: 42\ndata: {\"seq\":42}\n\n");
}

static void sse_format_event__named_event__has_event_line_first(void **state)
{
	assert_string_equal(fmt_event("reset", -1, "{\"seq\":7}"),
		"event: reset\ndata: {\"seq\":7}\n\n");
}

static void sse_format_event__line_feeds__become_data_lines(void **state)
{
	assert_string_equal(fmt_event(NULL, -1, "a\nb"),
		"data: a\ndata: b\n\n");
}

static void sse_format_event__crlf__is_one_line_break(void **state)
{
	assert_string_equal(fmt_event(NULL, -1, "a\r\nb\rc"),
		"data: a\ndata: b\ndata: c\n\n");
}

static void sse_format_event__empty_data__still_dispatches(void **state)
{
	assert_string_equal(fmt_event(NULL, 0, ""), "id: 0\ndata: \n\n");
}

static void sse_format_event__small_buffer__writes_nothing(void **state)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(sse_format_event(buf, sizeof(buf), NULL, 1, "abc", 3),
		strlen("id: 1\ndata: abc\n\n"));
	assert_memory_equal(buf, "xxxxxxxx", 8);
}

static void sse_format_retry__gives_retry_field(void **state)
{
	char buf[32];
	size_t n = sse_format_retry(buf, sizeof(buf), 3000);

	assert_int_equal(n, strlen("retry: 3000\n\n"));
	assert_memory_equal(buf, "retry: 3000\n\n", n);
}

static void sse_format_comment__line_breaks__cannot_end_it(void **state)
{
	char buf[32];
	size_t n = sse_format_comment(buf, sizeof(buf), "a\nb");

	assert_int_equal(n, strlen(": a b\n\n"));
	assert_memory_equal(buf, ": a b\n\n", n);
}

static void sse_parse_last_event_id__number__is_read(void **state)
{
	int64_t seq = -1;

	assert_int_equal(sse_parse_last_event_id("123", &seq), 0);
	assert_int_equal(seq, 123);
	assert_int_equal(sse_parse_last_event_id(" 7 ", &seq), 0);
	assert_int_equal(seq, 7);
	assert_int_equal(sse_parse_last_event_id("0", &seq), 0);
	assert_int_equal(seq, 0);
}

static void sse_parse_last_event_id__junk__is_refused(void **state)
{
	int64_t seq = 5;

	assert_int_equal(sse_parse_last_event_id("", &seq), -1);
	assert_int_equal(sse_parse_last_event_id("-1", &seq), -1);
	assert_int_equal(sse_parse_last_event_id("12a", &seq), -1);
	assert_int_equal(sse_parse_last_event_id("+3", &seq), -1);
	assert_int_equal(sse_parse_last_event_id("99999999999999999", &seq), -1);
	assert_int_equal(sse_parse_last_event_id(NULL, &seq), -1);
	assert_int_equal(seq, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sse_format_event__id_and_data__make_one_event),
		cmocka_unit_test(sse_format_event__named_event__has_event_line_first),
		cmocka_unit_test(sse_format_event__line_feeds__become_data_lines),
		cmocka_unit_test(sse_format_event__crlf__is_one_line_break),
		cmocka_unit_test(sse_format_event__empty_data__still_dispatches),
		cmocka_unit_test(sse_format_event__small_buffer__writes_nothing),
		cmocka_unit_test(sse_format_retry__gives_retry_field),
		cmocka_unit_test(sse_format_comment__line_breaks__cannot_end_it),
		cmocka_unit_test(sse_parse_last_event_id__number__is_read),
		cmocka_unit_test(sse_parse_last_event_id__junk__is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
