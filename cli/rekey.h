/* rekey.h - flowpush rekey: a new data key, every stored secret sealed again with it. */
#ifndef FP_REKEY_H
#define FP_REKEY_H

#include "cli.h"

/*
 * rekey_run makes a new data_key and seals every stored secret again with
 * it, in batches, while the API keeps running: the config gets the new key
 * with the old one as data_key_previous (the API processes notice the
 * file changed and use both), the rows are sealed again, and the previous
 * key leaves the config. Without a data_key yet it makes the first one
 * and seals the secrets stored unsealed. Prints its progress and
 * {"sealed":N,"key":ID}. Handler of the command table: 0, or -1 with
 * c->err set.
 */
int rekey_run(struct cli *c, struct store *st);

#endif
