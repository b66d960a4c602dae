/* records.h - the record commands of flowpush: the API's CRUD on a shell. */
#ifndef FP_RECORDS_H
#define FP_RECORDS_H

#include "cli.h"

/* Handlers of the command table (cli/command.c); each prints the record,
 * the page or the verdict as JSON on stdout and returns 0, or -1 with
 * c->err set. */
int records_get(struct cli *c, struct store *st);
int records_list(struct cli *c, struct store *st);
int records_create(struct cli *c, struct store *st);
int records_update(struct cli *c, struct store *st);
int records_delete(struct cli *c, struct store *st);
int records_action(struct cli *c, struct store *st);

#endif
