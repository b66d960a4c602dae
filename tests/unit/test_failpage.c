/* test_failpage.c - unit tests for cgi/failpage.c: the "Not saved" page of a form posted without JavaScript. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failpage.h"

static void failpage_render__shows_message_and_fields(void **state)
{
	struct ferr err;
	char *html;

	(void)state;
	ferr_init(&err);
	ferr_field(&err, "address", "must be host:port");
	ferr_field(&err, "rules[1].pattern", "is not a valid regex");
	html = failpage_render("/proxies.html", "/proxies.html?error=x",
		&err);
	assert_non_null(html);
	assert_non_null(strstr(html, "<title>Not saved"));
	assert_non_null(strstr(html, "data-status=\"422\""));
	assert_non_null(strstr(html, "data-code=\"validation_failed\""));
	assert_non_null(strstr(html, err.message));
	assert_non_null(strstr(html, "<code>address</code>: must be "
		"host:port</li>"));
	assert_non_null(strstr(html, "data-path=\"rules[1].pattern\""));
	assert_non_null(strstr(html, "href=\"/proxies.html?error=x\""));
	assert_non_null(strstr(html, "<strong>Back</strong>"));
	free(html);
	ferr_release(&err);
}

static void failpage_render__escapes_every_text_and_attribute(void **state)
{
	struct ferr err;
	char *html;

	(void)state;
	ferr_init(&err);
	ferr_set(&err, 409, "conflict", "<b>\"Tom & 'Jerry'\"</b>");
	ferr_field(&err, "x\"><script>alert(1)</script>", "<img src=x>");
	html = failpage_render("/a\"b/<p>.html",
		"/p.html?a=1&b=\"><script>", &err);
	assert_non_null(html);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "<b>"));
	assert_non_null(strstr(html, "&lt;b&gt;&quot;Tom &amp; &#39;Jerry"
		"&#39;&quot;&lt;/b&gt;"));
	assert_non_null(strstr(html, "href=\"/p.html?a=1&amp;b=&quot;&gt;"
		"&lt;script&gt;\""));
	assert_non_null(strstr(html, "href=\"/a&quot;b/css/app.css\""));
	assert_non_null(strstr(html, "data-status=\"409\""));
	free(html);
	ferr_release(&err);
}

static void failpage_render__links_the_stylesheet_of_the_pages_folder(
	void **state)
{
	struct ferr err;
	char *html;

	(void)state;
	ferr_init(&err);
	ferr_set(&err, 404, "not_found", "There is nothing at this address.");
	html = failpage_render("/console/personas.html?personaType=http",
		"/", &err);
	assert_non_null(strstr(html, "href=\"/console/css/app.css\""));
	assert_non_null(strstr(html, "href=\"/console/index.html\""));
	assert_null(strstr(html, "failure-fields"));
	free(html);
	html = failpage_render("/?x=/y", "/", &err);
	assert_non_null(strstr(html, "href=\"/css/app.css\""));
	free(html);
	ferr_release(&err);
}

static void failpage_render__without_an_error__says_something_went_wrong(
	void **state)
{
	struct ferr err;
	char *html;

	(void)state;
	ferr_init(&err);
	html = failpage_render("/", "/", &err);
	assert_non_null(strstr(html, "data-status=\"500\""));
	assert_non_null(strstr(html, "Something went wrong."));
	free(html);
	ferr_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failpage_render__shows_message_and_fields),
		cmocka_unit_test(
			failpage_render__escapes_every_text_and_attribute),
		cmocka_unit_test(
			failpage_render__links_the_stylesheet_of_the_pages_folder),
		cmocka_unit_test(
			failpage_render__without_an_error__says_something_went_wrong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
