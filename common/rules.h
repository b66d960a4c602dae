/* rules.h - cross-field rules of personas, keyword sets and pools. */
#ifndef FP_RULES_H
#define FP_RULES_H

#include <jansson.h>
#include "ferr.h"
#include "resource.h"

/* The validate hooks of struct resource: rec is the normalised new record
 * (may be amended, e.g. rule ids filled in), old the stored one or NULL.
 * Return 0, or -1 with err set. */
int validate_persona(struct store *st, const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err);
int validate_keyword_set(struct store *st, const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err);
int validate_proxy_pool(struct store *st, const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err);

/* derive_keyword_set sets ruleCount. */
void derive_keyword_set(json_t *rec);

#endif
