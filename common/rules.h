/* rules.h - cross-field rules of personas, keyword sets and pools. */
#ifndef FP_RULES_H
#define FP_RULES_H

#include <jansson.h>
#include "ferr.h"
#include "field.h"

/* The validate hooks of struct resource: rec is the normalised new record
 * (may be amended, e.g. rule ids filled in), old the stored one or NULL.
 * Return 0, or -1 with err set. */
int rules_persona(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err);
int rules_keyword_set(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err);
int rules_proxy_pool(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err);

/* A regex rule may expand to at most this many elements: glibc's regcomp
 * copies a subexpression once per repetition count, so "(.{1,32767})"
 * alone takes gigabytes and seconds to compile. */
#define RULES_REGEX_COST_MAX 2000

/* All the regex rules of one keyword set together may expand to at most
 * this many elements: 1,000 plain patterns (cost 10-50 each) fit, while
 * the slowest patterns allowed one by one ("(a{0,40}){0,40}", 7 ms each)
 * stop after about 30, bounding the compile time of one request to a few
 * hundred milliseconds. */
#define RULES_REGEX_BUDGET 50000

/*
 * rules_regex_cost estimates how many elements regcomp builds for the
 * POSIX extended regex pattern: every atom, group and operator counts
 * one, times the repetition counts around it ("+" counts twice, as glibc
 * copies its operand). Malformed patterns are estimated as far as they
 * can be read; regcomp rejects them. Returns the estimate, capped at
 * RULES_REGEX_COST_MAX + 1.
 */
long rules_regex_cost(const char *pattern);

/* rules_proxy lowercases the address: host names are case-blind, and
 * the unique check must see "H:1" and "h:1" as one proxy. */
int rules_proxy(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err);

/* rules_derive_keyword_set sets ruleCount. */
void rules_derive_keyword_set(json_t *rec);

#endif
