/* topic.c - subscription topics: parsing, matching events, checking a grant. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdlib.h>
#include <string.h>

#include "resource.h"
#include "topic.h"
#include "util.h"

#define TOPIC_MAX 64
#define TOPIC_LEN_MAX 128

static int topic_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* topic_valid checks one topic that is not "*". */
static int topic_valid(const char *t)
{
	const char *slash;
	char coll[TOPIC_LEN_MAX];
	size_t n;

	if (strcmp(t, "dashboard") == 0)
		return 1;
	slash = strchr(t, '/');
	if (slash == NULL)
		return resource_find(t) != NULL;
	n = (size_t)(slash - t);
	if (n == 0 || n >= sizeof(coll))
		return 0;
	memcpy(coll, t, n);
	coll[n] = '\0';
	return resource_find(coll) != NULL && util_is_uuid(slash + 1);
}

void topic_list_release(struct topic_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int topic_list_parse(const char *s, struct topic_list *out, struct ferr *err)
{
	const char *p, *end;
	char item[TOPIC_LEN_MAX];
	size_t n, i, count = 0;
	int result = -1;

	memset(out, 0, sizeof(*out));
	if (s == NULL || s[0] == '\0') {
		out->all = 1;
		return 0;
	}
	out->items = calloc(TOPIC_MAX, sizeof(*out->items));
	if (out->items == NULL) {
		ferr_set(err, 500, "out_of_memory", "Out of memory.");
		goto out;
	}
	for (p = s;; p = end + 1) {
		int dup = 0;

		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 0 || n >= sizeof(item)) {
			ferr_set(err, 400, "bad_topics",
				"Topic %zu is empty or too long.", count + 1);
			goto out;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (++count > TOPIC_MAX) {
			ferr_set(err, 400, "bad_topics",
				"At most %d topics may be given.", TOPIC_MAX);
			goto out;
		}
		if (strcmp(item, "*") == 0) {
			out->all = 1;
		} else if (!topic_valid(item)) {
			/* The topic came from the client: keep the message
			 * ASCII-safe by naming its position when it is not. */
			if (strspn(item, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/.*")
			    == n)
				ferr_set(err, 400, "bad_topics",
					"Unknown topic '%s'.", item);
			else
				ferr_set(err, 400, "bad_topics",
					"Topic %zu is not valid.", count);
			goto out;
		} else {
			for (i = 0; i < out->n; i++)
				if (strcmp(out->items[i], item) == 0)
					dup = 1;
			if (!dup) {
				out->items[out->n] = strdup(item);
				if (out->items[out->n] == NULL) {
					ferr_set(err, 500, "out_of_memory",
						"Out of memory.");
					goto out;
				}
				out->n++;
			}
		}
		if (*end == '\0')
			break;
	}
	/* "*" makes the rest redundant: keep the canonical form "*". */
	if (out->all) {
		for (i = 0; i < out->n; i++)
			free(out->items[i]);
		out->n = 0;
	}
	qsort(out->items, out->n, sizeof(*out->items), topic_cmp);
	result = 0;
out:
	if (result < 0)
		topic_list_release(out);
	return result;
}

/* item_is_record tells whether item is "<topic>/<id>" for this event. */
static int item_is_record(const char *item, const char *topic, const char *id)
{
	size_t n = strlen(topic);

	return id != NULL && strncmp(item, topic, n) == 0 && item[n] == '/' &&
		strcmp(item + n + 1, id) == 0;
}

int topic_list_match(const struct topic_list *l, const char *topic,
	const char *id)
{
	size_t i;

	if (l->all)
		return 1;
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->items[i], topic) == 0)
			return 1;
		if (item_is_record(l->items[i], topic, id))
			return 1;
	}
	return 0;
}

int topic_list_covers(const struct topic_list *grant,
	const struct topic_list *req)
{
	size_t i, j;

	if (grant->all)
		return 1;
	if (req->all)
		return 0;
	for (i = 0; i < req->n; i++) {
		const char *r = req->items[i];
		const char *slash = strchr(r, '/');
		int ok = 0;

		for (j = 0; j < grant->n && !ok; j++) {
			const char *g = grant->items[j];
			size_t gn = strlen(g);

			if (strcmp(g, r) == 0)
				ok = 1;
			else if (slash != NULL && (size_t)(slash - r) == gn &&
				 strncmp(r, g, gn) == 0)
				ok = 1;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

char *topic_list_format(const struct topic_list *l)
{
	size_t i, len = 0;
	char *s, *p;

	if (l->all || l->n == 0)
		return strdup(l->all ? "*" : "");
	for (i = 0; i < l->n; i++)
		len += strlen(l->items[i]) + 1;
	s = malloc(len);
	if (s == NULL)
		return NULL;
	p = s;
	for (i = 0; i < l->n; i++) {
		size_t n = strlen(l->items[i]);

		if (i > 0)
			*p++ = ',';
		memcpy(p, l->items[i], n);
		p += n;
	}
	*p = '\0';
	return s;
}

/* grant_entry reads one "USER: TOPICS" entry e[0..n) into user and
 * topics (NUL-terminated copies cut to their sizes); -1 when malformed. */
static int grant_entry(const char *e, size_t n, char *user, size_t usize,
	char *topics, size_t tsize)
{
	const char *colon = memchr(e, ':', n);
	size_t a, b;

	if (colon == NULL)
		return -1;
	for (a = 0; a < (size_t)(colon - e) && e[a] == ' '; a++)
		;
	for (b = (size_t)(colon - e); b > a && e[b - 1] == ' '; b--)
		;
	if (b == a || b - a >= usize)
		return -1;
	memcpy(user, e + a, b - a);
	user[b - a] = '\0';
	for (a = (size_t)(colon - e) + 1; a < n && e[a] == ' '; a++)
		;
	for (b = n; b > a && e[b - 1] == ' '; b--)
		;
	if (b == a || b - a >= tsize)
		return -1;
	memcpy(topics, e + a, b - a);
	topics[b - a] = '\0';
	return 0;
}

int topic_grant_for(const char *grants, const char *user,
	struct topic_list *out, struct ferr *err)
{
	char name[256], topics[4096], fallback[4096] = "";
	const char *p = grants;
	size_t n;
	int found = 0, entry = 0;

	memset(out, 0, sizeof(*out));
	if (grants == NULL || *grants == '\0')
		return topic_list_parse("*", out, err) < 0 ? -1 : 1;
	for (; *p != '\0' && !found; p += n + (p[n] == ';')) {
		n = strcspn(p, ";");
		entry++;
		if (strspn(p, " ") >= n)
			continue;
		if (grant_entry(p, n, name, sizeof(name), topics,
		    sizeof(topics)) < 0)
			return ferr_set(err, 500, "bad_config", "Entry %d of "
				"topic_grants is not \"USER: TOPICS\".", entry);
		if (user != NULL && strcmp(name, user) == 0)
			found = 1;
		else if (strcmp(name, "*") == 0)
			snprintf(fallback, sizeof(fallback), "%s", topics);
	}
	if (!found && fallback[0] == '\0')
		return 0;
	if (topic_list_parse(found ? topics : fallback, out, err) < 0) {
		ferr_release(err);
		return ferr_set(err, 500, "bad_config", "The topics that "
			"topic_grants gives %s are not a topic list.",
			found ? "this user" : "\"*\"");
	}
	return 1;
}
