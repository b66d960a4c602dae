/* failpage.c - the HTML page that tells a person why a form was not saved. */
#include <string.h>

#include "strbuf.h"
#include "failpage.h"

/* The characters that HTML gives a meaning, and how they are written as
 * text: escaped, no input can open a tag or leave an attribute. */
static const struct {
	char c;
	const char *entity;
} entities[] = {
	{ '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" },
	{ '"', "&quot;" }, { '\'', "&#39;" },
};

#define NENTITIES (sizeof entities / sizeof entities[0])

/* add_html_n appends s[0..n) with the characters of entities escaped. */
static void add_html_n(struct strbuf *sb, const char *s, size_t n)
{
	size_t i, k, from = 0;

	for (i = 0; i < n; i++) {
		for (k = 0; k < NENTITIES && entities[k].c != s[i]; k++)
			;
		if (k == NENTITIES)
			continue;
		strbuf_add(sb, s + from, i - from);
		strbuf_adds(sb, entities[k].entity);
		from = i + 1;
	}
	strbuf_add(sb, s + from, n - from);
}

static void add_html(struct strbuf *sb, const char *s)
{
	add_html_n(sb, s, strlen(s));
}

/* add_folder appends the folder of page's path ("/a/b.html?x" gives
 * "/a/"), escaped: where the console's pages and stylesheet live. */
static void add_folder(struct strbuf *sb, const char *page)
{
	size_t end = strcspn(page, "?#"), i, folder = 0;

	for (i = 0; i < end; i++)
		if (page[i] == '/')
			folder = i + 1;
	if (folder == 0)
		strbuf_adds(sb, "/");
	else
		add_html_n(sb, page, folder);
}

/* add_fields appends the list of err's field messages, if any. */
static void add_fields(struct strbuf *sb, const struct ferr *err)
{
	const char *key;
	json_t *msg;

	if (json_object_size(err->fields) == 0)
		return;
	strbuf_adds(sb, "<ul id=\"failure-fields\">\n");
	json_object_foreach(err->fields, key, msg) {
		const char *text = json_string_value(msg);

		strbuf_adds(sb, "<li data-path=\"");
		add_html(sb, key);
		strbuf_adds(sb, "\"><code>");
		add_html(sb, key);
		strbuf_adds(sb, "</code>: ");
		add_html(sb, text ? text : "");
		strbuf_adds(sb, "</li>\n");
	}
	strbuf_adds(sb, "</ul>\n");
}

char *failpage_render(const char *page, const char *back,
	const struct ferr *err)
{
	struct strbuf sb = {0};

	strbuf_adds(&sb, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
		"<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, "
		"initial-scale=1\">\n"
		"<title>Not saved \xc2\xb7 flowpush</title>\n"
		"<link rel=\"icon\" href=\"data:,\">\n"
		"<link rel=\"stylesheet\" href=\"");
	add_folder(&sb, page);
	strbuf_adds(&sb, "css/app.css\">\n</head>\n<body>\n"
		"<header class=\"top\"><a class=\"brand\" href=\"");
	add_folder(&sb, page);
	strbuf_adds(&sb, "index.html\">flowpush</a></header>\n"
		"<main id=\"main\" class=\"failure\">\n"
		"<h1>Not saved</h1>\n");
	strbuf_addf(&sb, "<div class=\"form-error\" id=\"failure\" "
		"role=\"alert\" data-status=\"%d\" data-code=\"",
		err->status ? err->status : 500);
	add_html(&sb, err->status ? err->code : "internal_error");
	strbuf_adds(&sb, "\">\n<p id=\"failure-message\">");
	add_html(&sb, err->status ? err->message : "Something went wrong.");
	strbuf_adds(&sb, "</p>\n");
	add_fields(&sb, err);
	strbuf_adds(&sb, "</div>\n"
		"<p>Nothing was changed. Your browser\xe2\x80\x99s "
		"<strong>Back</strong> button returns to the form with what "
		"you typed still in it (a password has to be typed again): "
		"correct it there and send it once more.</p>\n"
		"<p class=\"actions\"><a class=\"btn\" id=\"failure-back\" "
		"href=\"");
	add_html(&sb, back);
	strbuf_adds(&sb, "\">Open the page again</a></p>\n"
		"<p class=\"hint\">Opened again, the page fills the form in "
		"again and shows each error at its field when JavaScript is "
		"on; without JavaScript its form starts empty.</p>\n"
		"</main>\n</body>\n</html>\n");
	return strbuf_take(&sb);
}
