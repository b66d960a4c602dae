/* command.h - the command table of flowpush, served by one dispatcher. */
#ifndef FP_COMMAND_H
#define FP_COMMAND_H

#include <stdio.h>
#include "cli.h"

/* What a command needs before it runs; cli/main.c checks and provides
 * each one generically, so that a handler only acts. */
enum command_flags {
	CMD_NEEDS_CONFIG = 1 << 0, /* loads the config (and sets up logging) */
	CMD_NEEDS_DB = 1 << 1,     /* opens the store; implies the config */
	CMD_NEEDS_COLL = 1 << 2,   /* argv[0] names a collection (404) */
	CMD_NEEDS_ID = 1 << 3,     /* argv[1] is a record id (404) */
	CMD_NEEDS_WRITER = 1 << 4, /* writes: c->w from --actor, --if-match */
	CMD_READS_STDIN = 1 << 5,  /* c->body is stdin as one JSON document */
};

/*
 * A handler runs with everything its flags ask for in place: st is the
 * open store with CMD_NEEDS_DB, else NULL. It returns 0, or -1 with c->err
 * set.
 */
typedef int (*command_fn)(struct cli *c, struct store *st);

struct command {
	const char *name;
	command_fn run;
	unsigned flags;           /* enum command_flags */
	int min_args, max_args;   /* positional arguments after the name */
	const char *usage;        /* after "flowpush "; help prints it */
};

/* command_table ends with an entry whose name is NULL. */
extern const struct command command_table[];

/* command_find returns the entry named name, or NULL. */
const struct command *command_find(const char *name);

/* command_usage writes the usage text, from the table, to f. */
void command_usage(FILE *f);

#endif
