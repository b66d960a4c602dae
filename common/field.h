/* field.h - the types a collection is declared with: fields, their rules, hooks. */
#ifndef FP_FIELD_H
#define FP_FIELD_H

#include <stddef.h>
#include <jansson.h>
#include "ferr.h"

enum field_type {
	FT_STRING, FT_INT, FT_NUMBER, FT_BOOL, FT_ENUM,
	FT_OBJECT,   /* sub: the object's fields, NULL-name terminated */
	FT_ARRAY,    /* sub: one field describing each item */
	FT_MAP,      /* sub: each value's field; keys: strings */
	FT_UUID,     /* lowercase UUID; ref: its collection */
	FT_TIME,     /* RFC 3339 text, server-made */
};

enum field_flags {
	FF_REQUIRED  = 1 << 0,  /* must be present (not null) on create/PUT */
	FF_NULLABLE  = 1 << 1,  /* null is a valid value */
	FF_READONLY  = 1 << 2,  /* made by the server; ignored when sent */
	FF_IMMUTABLE = 1 << 3,  /* set on create, may not change afterwards */
	FF_SECRET    = 1 << 4,  /* write-only: stored apart, never returned */
	FF_FILTER    = 1 << 5,  /* usable as ?name=value on list */
	FF_UNIQUE    = 1 << 6,  /* unique (within unique_with) */
	FF_PROGRESS  = 1 << 7,  /* counters: change only while running */
	FF_KEEP      = 1 << 9,  /* left out of a PUT: the stored value stays
				   (worker- and checker-owned fields) */
	FF_DASH      = 1 << 10, /* counted by the dashboard: a change to it
				   moves the dashboard's figures */
	FF_ONLYWHEN  = 1 << 8,  /* required when the sibling when_field equals
				   when_value, forbidden otherwise */
	FF_SEARCH    = 1 << 11, /* its text is found by ?q= (a trigram index) */
	FF_SORT      = 1 << 12, /* usable as ?sort=name / -name on list (an
				   index per sort, and per filter and sort) */
	FF_UNLINK    = 1 << 13, /* UUID in an item of a top-level array of
				   objects: deleting the record it names
				   removes the item (a pool's members) */
};

struct field;

/* A format check for strings: returns NULL when s is fine, else a message. */
typedef const char *(*field_check_cb)(const char *s);

struct field {
	const char *name;
	enum field_type type;
	unsigned flags;
	const char *def;              /* default as JSON; NULL = null */
	long long min, max;           /* INT/NUMBER value; STRING length in
					 characters; ARRAY/MAP item count;
					 max 0 = unbounded */
	const char *const *choices;   /* ENUM: NULL-terminated */
	const struct field *sub;      /* OBJECT/ARRAY/MAP, see above */
	const char *when_field;       /* FF_ONLYWHEN or variant choice */
	const char *when_value;
	const char *ref;              /* UUID: referenced collection */
	const char *unique_with;      /* UNIQUE scope, e.g. personaType */
	field_check_cb check;         /* STRING: extra format rule; MAP: the
					 format rule of its keys */
	const char *help;             /* one line for docs/API.md */
};

struct validate_ctx;

struct resource {
	const char *name;             /* collection = URL segment = topic */
	const char *table;            /* SQL table */
	const char *title;            /* for docs */
	const struct field *fields;   /* NULL-name terminated */
	/* cross-field and referential rules; rec is the full new record, old
	 * the stored one or NULL on create. Returns 0 or -1 with err set. */
	int (*validate)(const struct validate_ctx *ctx,
		const struct resource *res, json_t *rec, json_t *old,
		struct ferr *err);
	/* computed read-only fields (ruleCount, progressPercentage,
	 * hasPassword is generic); called on every record before output */
	void (*derive)(json_t *rec);
	int dashboard;                /* writes here move the dashboard */
};

#endif
