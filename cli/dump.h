/* dump.h - flowpush export and import: records as JSON lines through the store. */
#ifndef FP_DUMP_H
#define FP_DUMP_H

#include "cli.h"

/*
 * The format, one JSON document a line: first a header
 *   {"format":"flowpush-export","version":1,"seq":S,"exportedAt":..,
 *    "collections":[..],"secrets":false}
 * then one line a record, collection by collection, a collection after
 * those its records name, each oldest first:
 *   {"collection":"proxies","record":{..the record as GET shows it..}}
 * With secrets, a record also carries its secret fields ("password").
 */

/*
 * dump_export prints the records of every collection, or of those named
 * by --collections A,B, in the format above, read in one snapshot (S is
 * its journal seq); secrets only with --with-secrets. Handler of the
 * command table: 0, or -1 with c->err.
 */
int dump_export(struct cli *c, struct store *st);

/*
 * dump_import reads the file argv[0] ("-": stdin) in that format (the
 * header is optional) and writes every record through store_import, in
 * one transaction: all or nothing per file. Each refused line is one
 * JSON line on stderr, {"line":N,"collection":..,"id":..,"error":{..}},
 * and the reading goes on, so that one run names every bad line; then
 * nothing is written and the command fails. Success prints
 * {"imported":{collection:count},"records":N,"lines":L,
 *  "withoutSecrets":K}, K counting records whose secrets the file did
 * not carry. Pages get one "created" event a record, and one dashboard
 * event. Handler of the command table: 0, or -1 with c->err.
 */
int dump_import(struct cli *c, struct store *st);

#endif
