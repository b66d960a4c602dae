/* ferr.h - error details of every fallible call: status, code, fields. */
#ifndef FP_FERR_H
#define FP_FERR_H

#include <jansson.h>

/*
 * Fallible functions return 0 (or a pointer) on success and -1 (or NULL) on
 * failure, with the details in a struct ferr that the caller owns. The
 * status is the HTTP status the API answers with; code is a short
 * machine-readable word; message is a sentence safe to show to a user (it
 * never holds SQL or library error text); fields maps a field path such as
 * "configDetails.resolvers[0]" to what is wrong with it.
 */
struct ferr {
	int status;        /* 0 while no error is set */
	char code[48];     /* e.g. "validation_failed", "not_found" */
	char message[512];
	json_t *fields;    /* NULL or an object path -> message; owned */
	int retry_after;   /* seconds, for 503; 0 otherwise */
};

/* ferr_init prepares an empty error; ferr_release frees its contents. */
void ferr_init(struct ferr *e);
void ferr_release(struct ferr *e);

/*
 * ferr_set records an error (the first one wins: a later call does not
 * overwrite a status already set, so the root cause is kept) and returns -1
 * so callers can write "return ferr_set(...)".
 */
int ferr_set(struct ferr *e, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * ferr_field adds a message for one field path and sets the error to
 * 422 validation_failed if none is set yet. The first message for a path
 * wins. Returns -1.
 */
int ferr_field(struct ferr *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ferr_is_set is non-zero when an error has been recorded. */
int ferr_is_set(const struct ferr *e);

/*
 * ferr_to_json builds {"error":{"status":..,"code":..,"message":..,
 * "fields":{..}}} (fields only when present). Returns a new reference, or
 * NULL when out of memory. A ferr with no status renders as 500.
 */
json_t *ferr_to_json(const struct ferr *e);

/* ferr_reason_phrase gives the HTTP reason phrase of a status ("Not Found"). */
const char *ferr_reason_phrase(int status);

#endif
