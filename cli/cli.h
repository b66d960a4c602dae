/* cli.h - the parsed invocation of flowpush that every command reads. */
#ifndef FP_CLI_H
#define FP_CLI_H

#include <jansson.h>
#include "config.h"
#include "ferr.h"
#include "resource.h"
#include "store.h"

struct command;

/* Everything about the invocation, parsed before any command runs. */
struct cli {
	const char *config_path;   /* --config, or NULL */
	const char *actor;         /* --actor, or NULL */
	const char *database;      /* init --database */
	int force;                 /* --force */
	int follow;                /* tail --follow */
	int with_secrets;          /* export --with-secrets */
	const char *collections;   /* export --collections A,B */
	long long if_match;        /* --if-match, -1 = none */
	long long since;           /* tail --since, -1 = from the start */
	const char *topics;        /* tail --topics */
	long long limit;           /* list --limit, -1 = default */
	long long scale;           /* demo --scale, -1 = the demo data */
	long long pages;           /* backup --pages, -1 = default */
	const char *after;         /* list --after */
	long long keep_days;       /* prune, -1 = not given */
	long long keep_rows;       /* prune, -1 = not given */
	const char *message;       /* action --message (fail) */
	const struct command *cmd; /* the command named */
	const char *usage;         /* its usage line, for the handler */
	int argc;                  /* positional arguments after the command */
	char **argv;               /* borrowed from main's argv; ours to cut */
	/* Filled by the dispatcher as the command's flags ask. */
	const struct resource *res; /* argv[0], CMD_NEEDS_COLL */
	json_t *body;              /* stdin, CMD_READS_STDIN; owned */
	struct store_write w;      /* --actor, --if-match; CMD_NEEDS_WRITER */
	struct config cfg;         /* CMD_NEEDS_CONFIG */
	int have_cfg;              /* cfg needs config_release */
	struct ferr err;           /* the first error, printed by main */
};

/* cli_init fills c with "nothing given"; cli_release frees what c owns
 * (argv's array, the body, the config, the error), not c itself. */
void cli_init(struct cli *c);
void cli_release(struct cli *c);

/* cli_fail_usage sets a 400 "usage" error from a format. Returns -1. */
int cli_fail_usage(struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* cli_print_json writes v (borrowed) to stdout, one document and a
 * newline, and flushes. Returns 0 or -1. */
int cli_print_json(json_t *v, size_t flags);

/* cli_print_record prints a record the store returned and frees it; a
 * NULL record is the store's failure, already in the error. Returns 0 or
 * -1. */
int cli_print_record(json_t *rec);

/* cli_catch_signals makes SIGINT and SIGTERM ask the command to stop
 * instead of ending the process; cli_stop_requested tells whether one
 * came; cli_nap sleeps ms milliseconds unless a stop comes first. */
void cli_catch_signals(void);
int cli_stop_requested(void);
void cli_nap(long ms);

#endif
