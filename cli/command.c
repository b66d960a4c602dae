/* command.c - the command table of flowpush and the help printed from it. */
#include <limits.h>
#include <string.h>

#include "about.h"
#include "apidoc.h"
#include "campaign.h"
#include "command.h"
#include "backup.h"
#include "check.h"
#include "demo.h"
#include "dump.h"
#include "events.h"
#include "init.h"
#include "records.h"
#include "rekey.h"

static int command_help(struct cli *c, struct store *st);
static int command_doc(struct cli *c, struct store *st);
static int command_config_doc(struct cli *c, struct store *st);
static int command_version(struct cli *c, struct store *st);

#define RECORD (CMD_NEEDS_DB | CMD_NEEDS_COLL)

const struct command command_table[] = {
	{ "init", init_run, 0, 0, 0,
		"init [--database PATH] [--force]" },
	{ "demo", demo_run, CMD_NEEDS_DB | CMD_NEEDS_WRITER, 0, 1,
		"demo [--force] | demo --scale N [COLLECTION]" },
	{ "get", records_get, RECORD | CMD_NEEDS_ID, 2, 2,
		"get COLLECTION ID" },
	{ "list", records_list, RECORD, 1, INT_MAX,
		"list COLLECTION [--limit N] [--after CURSOR] "
		"[NAME=VALUE...]" },
	{ "create", records_create, RECORD | CMD_NEEDS_WRITER |
		CMD_READS_STDIN, 1, 1,
		"create COLLECTION < record.json" },
	{ "update", records_update, RECORD | CMD_NEEDS_ID | CMD_NEEDS_WRITER |
		CMD_READS_STDIN, 2, 2,
		"update COLLECTION ID [--if-match N] < merge-patch.json" },
	{ "delete", records_delete, RECORD | CMD_NEEDS_ID | CMD_NEEDS_WRITER,
		2, 2,
		"delete COLLECTION ID [--if-match N]" },
	{ "action", records_action, CMD_NEEDS_DB | CMD_NEEDS_WRITER, 2, 2,
		"action CAMPAIGN-ID ACTION [--message TEXT] [--if-match N]" },
	{ "rekey", rekey_run, CMD_NEEDS_DB, 0, 0, "rekey" },
	{ "tail", events_tail, CMD_NEEDS_DB, 0, 0,
		"tail [--since N] [--topics T,...] [--follow]" },
	{ "prune", events_prune, CMD_NEEDS_DB, 0, 0,
		"prune [--keep-days N (7)] [--keep-rows N (push_ring_size)]" },
	{ "backup", backup_run, CMD_NEEDS_DB, 1, 1,
		"backup FILE [--force] [--pages N]" },
	{ "export", dump_export, CMD_NEEDS_DB, 0, 0,
		"export [--collections A,B] [--with-secrets] > records.jsonl" },
	{ "import", dump_import, CMD_NEEDS_DB | CMD_NEEDS_WRITER, 1, 1,
		"import FILE|-" },
	{ "check", check_run, CMD_NEEDS_CONFIG, 0, 0, "check" },
	{ "doc", command_doc, 0, 0, 0, "doc > docs/API.md" },
	{ "config-doc", command_config_doc, 0, 0, 0,
		"config-doc > flowpush.conf.5" },
	{ "help", command_help, 0, 0, 0, "help" },
	{ "version", command_version, 0, 0, 0, "version" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

const struct command *command_find(const char *name)
{
	const struct command *k;

	for (k = command_table; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

void command_usage(FILE *f)
{
	const struct command *k;
	const struct resource *r;
	size_t i;

	fprintf(f, "usage: flowpush [--config FILE] [--actor NAME] COMMAND "
		"[ARGS]\n       flowpush --help | --version\n\ncommands:\n");
	for (k = command_table; k->name != NULL; k++)
		fprintf(f, "  %s\n", k->usage);
	fprintf(f, "\ncollections:");
	for (r = resources; r->name != NULL; r++)
		fprintf(f, " %s", r->name);
	fprintf(f, "\ncampaign actions:");
	for (i = 0; campaign_action_name(i) != NULL; i++)
		fprintf(f, " %s", campaign_action_name(i));
	fprintf(f, "\n\nJSON goes in on stdin and out on stdout; an error "
		"is the API's JSON error\non stderr with exit status 1. "
		"Writes are journaled with --actor NAME (or null).\nThe "
		"config file is --config FILE, else $FLOWPUSH_CONFIG. More in "
		"flowpush(1).\n\n");
}

static int command_help(struct cli *c, struct store *st)
{
	command_usage(stdout);
	about_keys(stdout, CONFIG_CLI);
	return 0;
}

static int command_version(struct cli *c, struct store *st)
{
	about_version(stdout, "flowpush");
	return 0;
}

/* command_doc prints the API reference that docs/API.md holds. */
static int command_doc(struct cli *c, struct store *st)
{
	apidoc_write(stdout);
	return 0;
}

/* command_config_doc prints the manual page flowpush.conf(5), which the
 * build makes with it so that the page cannot drift from the key table. */
static int command_config_doc(struct cli *c, struct store *st)
{
	if (about_conf_man(stdout) < 0 || fflush(stdout) != 0)
		return ferr_set(&c->err, 500, "write_failed",
			"Cannot write the manual page.");
	return 0;
}
