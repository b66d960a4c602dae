/* listq.h - a list request parsed and checked: search, sort, filters, ids, keyset cursor. */
#ifndef FP_LISTQ_H
#define FP_LISTQ_H

#include <stddef.h>
#include <stdint.h>
#include "ferr.h"
#include "form.h"
#include "field.h"

#define LISTQ_LIMIT_DEFAULT 100
#define LISTQ_LIMIT_MAX 1000
/* 100 ids keep the request line (3.8 KB) inside every web server's
 * default limit (nginx: 8 KB). */
#define LISTQ_IDS_MAX 100
#define LISTQ_FILTERS_MAX 8
#define LISTQ_Q_MIN 3           /* characters: the trigram index's floor */
#define LISTQ_Q_MAX 256         /* bytes */
/* Counts that no counter answers stop here and say "at least". */
#define LISTQ_COUNT_BOUND 1000

/* The typed value of a sort key, as the database orders it. */
enum listq_key_type { LK_NULL, LK_INT, LK_REAL, LK_TEXT };

struct listq_key {
	enum listq_key_type type;
	long long i;
	double r;
	char *text;                   /* LK_TEXT: owned */
};

struct listq_filter {
	const struct field *field;
	int is_bool;
	int boolean;                  /* when is_bool */
	const char *text;             /* otherwise: borrowed from the query */
};

/* One parsed list request. Borrowed strings point into the query form,
 * which must outlive it. */
struct listq {
	const struct resource *res;
	const char *sort;             /* field, or createdAt / updatedAt */
	const struct field *sort_field; /* NULL for the meta columns */
	int desc;
	long long limit;
	const char *q;                /* borrowed; NULL when absent */
	char *q_folded;               /* ASCII-lowercased q, owned */
	struct listq_filter filters[LISTQ_FILTERS_MAX]; /* declaration order */
	size_t nfilters;
	char **ids;                   /* owned, NULL when absent */
	size_t nids;
	int has_cursor;
	int before;                   /* cursor came as before= */
	struct listq_key cursor_key;
	char cursor_id[40];
	char binding[17];             /* hex FNV-1a of what a cursor is
					 bound to */
};

/*
 * listq_parse reads limit, after, before, q, sort, ids and the filters of
 * res from query (borrowed). Returns 0, or -1 with err set to a 400 naming
 * the parameter: bad_query, bad_sort, bad_filter or bad_cursor. Release
 * lq with listq_release in both cases.
 */
int listq_parse(struct listq *lq, const struct resource *res,
	const struct form *query, struct ferr *err);
void listq_release(struct listq *lq);

/*
 * listq_cursor writes the opaque cursor (base64url of a small JSON array:
 * version, binding, key type, key, id) for a row with sort key k and id
 * into out. Sort keys are at most 255 characters (names), so 2048 bytes
 * always suffice. Returns 0, or -1 when out is too small.
 */
int listq_cursor(const struct listq *lq, const struct listq_key *k,
	const char *id, char *out, size_t size);

/* listq_sort_at gives the i-th sort of res (0 and 1: createdAt and
 * updatedAt, *field NULL; then every FF_SORT field in declaration order):
 * returns 1, or 0 past the last. What the schemas index and list_window
 * may be asked for. */
int listq_sort_at(const struct resource *res, size_t i,
	const struct field **field, const char **name);

/* listq_text_expr writes the SQL expression of the top-level field name
 * of a record's data: on PostgreSQL (pg non-zero) as text, read from the
 * jsonb column doc; SQLite's json_extract value otherwise. */
void listq_text_expr(int pg, const char *name, char *out, size_t size);

/* The keys a missing value sorts as on PostgreSQL: the greatest of their
 * type, so that it sorts last ascending as SQLite's NULL key does. */
#define LISTQ_PG_INT_MAX "9223372036854775807"
#define LISTQ_PG_REAL_MAX "1e308"
#define LISTQ_PG_TEXT_MAX "U&'\\+10FFFF'"

/*
 * listq_sort_expr writes the SQL expression that orders by sort field f
 * (NULL with meta "createdAt"/"updatedAt"), the same text for the index
 * and the query so that the database uses the one for the other. Strings
 * fold ASCII case; a missing value sorts after every value. pg selects
 * PostgreSQL's dialect.
 */
void listq_sort_expr(int pg, const struct field *f, const char *meta,
	char *out, size_t size);

/* listq_filter_expr writes the SQL expression a filter compares (on
 * PostgreSQL: text, compared with the filter's text or true/false). */
void listq_filter_expr(int pg, const struct field *f, char *out,
	size_t size);

/* listq_like_pattern writes q as a LIKE pattern that matches q anywhere:
 * % and _ and the escape \ escaped (PostgreSQL's search, whose trigram
 * index serves such patterns). */
void listq_like_pattern(const char *q, char *out, size_t size);

/* listq_count_key writes the counter key of up to two filters of lq
 * ("" for none); returns 0, or -1 when no counter answers (q, ids, more
 * than two filters). */
int listq_count_key(const struct listq *lq, char *out, size_t size);

/* listq_fold_ascii lowercases A-Z in place (what SQLite's lower() and
 * NOCASE do, and what ?q= matching does). */
void listq_fold_ascii(char *s);

/* listq_is_sortable tells whether name sorts res; *field gets its field
 * (NULL for createdAt and updatedAt). */
int listq_is_sortable(const struct resource *res, const char *name,
	const struct field **field);

#endif
