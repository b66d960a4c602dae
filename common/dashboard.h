/* dashboard.h - the console's aggregates and recent activity. */
#ifndef FP_DASHBOARD_H
#define FP_DASHBOARD_H

#include "dbx.h"
#include <jansson.h>
#include "ferr.h"

/*
 * dashboard_compute returns a new object:
 * {"campaigns":{"total":N,"byStatus":{"pending":N,...every status}},
 *  "personas":{"total":N,"enabled":N,"dns":{"total":N,"enabled":N},
 *              "http":{"total":N,"enabled":N}},
 *  "keywordSets":{"total":N,"enabled":N},
 *  "proxies":{"total":N,"enabled":N,"healthy":N},
 *  "proxyPools":{"total":N,"enabled":N}}
 * or NULL with err set. Runs inside the caller's transaction, if any.
 */
json_t *dashboard_compute(struct dbx *db, struct ferr *err);

/* dashboard_activity returns summaries of the newest n record events (not
 * dashboard rows), newest first, as a new array of {"seq","ts","topic",
 * "action","id","version","actor","name"}, or NULL with err set. */
json_t *dashboard_activity(struct dbx *db, int n, struct ferr *err);

#endif
