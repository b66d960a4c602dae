/* validate.h - generic validation of a record against its fields. */
#ifndef FP_VALIDATE_H
#define FP_VALIDATE_H

#include <jansson.h>
#include "ferr.h"
#include "field.h"

struct config;

/* What validation may ask of the store, without knowing it: the storage
 * layer fills this in (common/store.c) and the rules of a collection
 * (common/rules.c, common/campaign.c) read through it. */
struct validate_ctx {
	/* exists_cb returns 1 when collection/id exists, 0 when it does
	 * not, -1 on a database error (err set). */
	int (*exists_cb)(void *arg, const char *collection, const char *id,
		struct ferr *err);
	/* get_cb returns the stored record collection/id (a new
	 * reference), or NULL with err set (404 when there is none). */
	json_t *(*get_cb)(void *arg, const char *collection, const char *id,
		struct ferr *err);
	void *arg;
	const struct config *cfg;     /* limits such as max_rules */
	/* The costly checks of this request (compiling its regular
	 * expressions) passed already, before the write lock was taken:
	 * the check under the lock skips them. */
	int costly_checked;
	/* A record comes back from an export (flowpush import): the fields
	 * the server makes (a campaign's status, its times) are taken from
	 * the input, checked like any field, instead of defaulted, and the
	 * rules let a new record carry the state it had (progress). */
	int restoring;
};

/*
 * validate_record checks input (borrowed; a JSON object) as a whole record
 * of res and returns a new normalised record: only declared fields, in
 * table order, defaults filled in, read-only fields copied from old (the
 * stored record, borrowed, or NULL on create) or defaulted, secrets left
 * out (they are type-checked only). Unknown fields, type and range errors,
 * missing required fields and changed immutable fields are collected in
 * err->fields (422). ctx may be NULL (references are then not checked).
 * A reference that old already holds is not checked again: deleting a
 * record that others name must not make those others unwritable.
 * Returns NULL on failure.
 */
json_t *validate_record(const struct resource *res, json_t *input,
	json_t *old, const struct validate_ctx *ctx, struct ferr *err);

/*
 * validate_meta checks the server-made fields of a whole exported record
 * (rec borrowed): "id" a lowercase UUID, "version" an integer from 1,
 * "createdAt" and "updatedAt" timestamps as the server writes them
 * (2026-01-31T12:00:00.000Z). Every wrong one is named in err->fields
 * (422). Returns 0 or -1.
 */
int validate_meta(json_t *rec, struct ferr *err);

/* validate_utf8_length counts the characters of a valid UTF-8 string. */
size_t validate_utf8_length(const char *s);

/* validate_utf8_prefix gives how many bytes of the valid UTF-8 string s
 * to keep to quote at most max bytes of it without cutting a character:
 * printf("%.*s", (int)validate_utf8_prefix(s, 64), s). */
size_t validate_utf8_prefix(const char *s, size_t max);

/* VALIDATE_QUOTE(s) gives the two arguments of "%.*s" that quote at most 64
 * bytes of s, whole characters only, so a message stays valid UTF-8. */
#define VALIDATE_QUOTE(s) (int)validate_utf8_prefix((s), 64), (s)

/* validate_field_lookup finds the declaration of name among fields that
 * applies to rec (variants are chosen by their when_field), or NULL. */
const struct field *validate_field_lookup(const struct field *fields,
	const char *name, json_t *rec);

#endif
