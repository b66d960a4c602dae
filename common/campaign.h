/* campaign.h - the campaign state machine and progress rules. */
#ifndef FP_CAMPAIGN_H
#define FP_CAMPAIGN_H

#include <jansson.h>
#include "ferr.h"
#include "field.h"

/* campaign_statuses lists every status, NULL-terminated. */
extern const char *const campaign_statuses[];

/* campaign_action_name gives the i-th campaign action (from the one table
 * of transitions), or NULL past the last. */
const char *campaign_action_name(size_t i);

/*
 * campaign_transition gives the status that action moves a campaign in
 * status from to: returns it (a static string), or NULL when the action
 * is unknown (*known = 0) or forbidden from this status (*known = 1).
 */
const char *campaign_transition(const char *from, const char *action,
	int *known);

/* campaign_allowed_actions writes the actions allowed from status into a
 * new JSON array (for the 409 message and for clients). */
json_t *campaign_allowed_actions(const char *status);

/* campaign_validate is the resource hook: params references and persona
 * types, progress counters (409 outside running, never decreasing,
 * processed = successful + failed <= total) and automatic completion when
 * a running campaign's processedItems reaches totalItems. */
int campaign_validate(const struct validate_ctx *ctx,
	const struct resource *res,
	json_t *rec, json_t *old, struct ferr *err);

/* campaign_derive sets progressPercentage. */
void campaign_derive(json_t *rec);

/* campaign_apply_action sets status and its timestamps on rec (a copy of
 * the stored record) for action; now is an RFC 3339 time. body may carry
 * errorMessage for fail, and nothing else. Returns 0, or -1 with 409 (the
 * state machine forbids it), 404 (unknown action) or 422 (a body field
 * the action does not take) in err. */
int campaign_apply_action(json_t *rec, const char *action, json_t *body,
	const char *now, struct ferr *err);

#endif
