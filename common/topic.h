/* topic.h - subscription topics: parsing, matching events, checking a grant. */
#ifndef FP_TOPIC_H
#define FP_TOPIC_H

#include <stddef.h>
#include "ferr.h"

/*
 * A topic is "*", "dashboard", a collection name ("personas"), or one
 * record "<collection>/<uuid>". A topic list is several, comma-separated,
 * without spaces. The valid collection names come from the resource table
 * (resource_find).
 */
struct topic_list {
	int all;        /* "*" was given */
	size_t n;
	char **items;   /* canonical topic strings, owned, no duplicates */
};

/*
 * topic_list_parse parses s into out (which it initialises). s NULL or ""
 * means all topics ("*"). Fails with 400 bad_topics naming the first bad
 * topic; at most 64 topics. Caller releases out with topic_list_release.
 */
int topic_list_parse(const char *s, struct topic_list *out, struct ferr *err);

/* topic_list_release frees the items. */
void topic_list_release(struct topic_list *l);

/*
 * topic_list_match is non-zero when an event of this topic (a collection
 * name or "dashboard") about record id (may be NULL) is wanted by l.
 */
int topic_list_match(const struct topic_list *l, const char *topic,
	const char *id);

/*
 * topic_list_covers is non-zero when every topic wanted by req is allowed
 * by grant: "*" covers everything, a collection covers its records.
 */
int topic_list_covers(const struct topic_list *grant,
	const struct topic_list *req);

/*
 * topic_grant_for finds what user (REMOTE_USER, NULL when the web server
 * authenticated nobody) may subscribe to under grants, the config's
 * "topic_grants": entries "USER: TOPICS" separated by ';', where TOPICS is
 * a topic list and USER "*" stands for anyone not named (anonymous
 * included). Empty grants allow everyone everything. Returns 1 with *out
 * set (release it), 0 when the user may subscribe to nothing, -1 with 500
 * bad_config when grants cannot be read.
 */
int topic_grant_for(const char *grants, const char *user,
	struct topic_list *out, struct ferr *err);

/* topic_list_format returns the canonical comma-separated form ("*" for
 * all), malloc'd; caller frees. NULL when out of memory. */
char *topic_list_format(const struct topic_list *l);

#endif
