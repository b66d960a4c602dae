/* main.c - flowpush, the admin command line: parse, check, dispatch. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "command.h"
#include "log.h"
#include "util.h"

/* The options, declared once: each fills one field of struct cli. */
enum opt_kind {
	OPT_FLAG,         /* --name: the int field becomes 1 */
	OPT_TEXT,         /* --name VALUE or --name=VALUE: a borrowed string */
	OPT_NUMBER,       /* the same, a whole number >= 0 */
	OPT_HELP,         /* runs the help command instead */
	OPT_VERSION,      /* runs the version command instead */
};

struct opt {
	const char *name;
	const char *alias;   /* a short form, or NULL */
	enum opt_kind kind;
	size_t offset;       /* of the field in struct cli */
};

#define OPT(name, alias, kind, field) \
	{ name, alias, kind, offsetof(struct cli, field) }

static const struct opt opts[] = {
	OPT("--help", "-h", OPT_HELP, cmd),
	OPT("--version", NULL, OPT_VERSION, cmd),
	OPT("--force", NULL, OPT_FLAG, force),
	OPT("--follow", "-f", OPT_FLAG, follow),
	OPT("--with-secrets", NULL, OPT_FLAG, with_secrets),
	OPT("--collections", NULL, OPT_TEXT, collections),
	OPT("--config", NULL, OPT_TEXT, config_path),
	OPT("--actor", NULL, OPT_TEXT, actor),
	OPT("--database", NULL, OPT_TEXT, database),
	OPT("--topics", NULL, OPT_TEXT, topics),
	OPT("--after", NULL, OPT_TEXT, after),
	OPT("--message", NULL, OPT_TEXT, message),
	OPT("--if-match", NULL, OPT_NUMBER, if_match),
	OPT("--since", NULL, OPT_NUMBER, since),
	OPT("--limit", NULL, OPT_NUMBER, limit),
	OPT("--keep-days", NULL, OPT_NUMBER, keep_days),
	OPT("--keep-rows", NULL, OPT_NUMBER, keep_rows),
	OPT("--scale", NULL, OPT_NUMBER, scale),
	OPT("--pages", NULL, OPT_NUMBER, pages),
	{ NULL, NULL, OPT_FLAG, 0 },
};

/* opt_value takes the value of --name VALUE or --name=VALUE at argv[*i]:
 * 1 when argv[*i] is that option, 0 when not, -1 with c->err set. */
static int opt_value(struct cli *c, int argc, char **argv, int *i,
	const char *name, const char **out)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		cli_fail_usage(c, "%s needs a value.", name);
		return -1;
	}
	*out = argv[++*i];
	return 1;
}

/* opt_take stores the option o at argv[*i] in c: 1 when argv[*i] is o,
 * 0 when not, -1 with c->err set. */
static int opt_take(struct cli *c, const struct opt *o, int argc,
	char **argv, int *i)
{
	char *field = (char *)c + o->offset;
	const char *a = argv[*i], *v = NULL;
	int r;

	if (o->kind == OPT_FLAG || o->kind == OPT_HELP ||
	    o->kind == OPT_VERSION) {
		if (strcmp(a, o->name) != 0 &&
		    (o->alias == NULL || strcmp(a, o->alias) != 0))
			return 0;
		if (o->kind == OPT_HELP)
			c->cmd = command_find("help");
		else if (o->kind == OPT_VERSION)
			c->cmd = command_find("version");
		else
			*(int *)(void *)field = 1;
		return 1;
	}
	r = opt_value(c, argc, argv, i, o->name, &v);
	if (r <= 0)
		return r;
	if (o->kind == OPT_TEXT) {
		*(const char **)(void *)field = v;
		return 1;
	}
	if (util_parse_long(v, 0, LLONG_MAX, (long long *)(void *)field) < 0)
		return ferr_set(&c->err, 400, "usage", "%s needs a whole "
			"number, not '%.32s'.", o->name, v);
	return 1;
}

/* parse_word takes a word that is no option: the command, then its
 * positional arguments. Returns 0 or -1 with c->err set. */
static int parse_word(struct cli *c, char *a)
{
	if (c->cmd != NULL) {
		c->argv[c->argc++] = a;
		return 0;
	}
	c->cmd = command_find(a);
	if (c->cmd == NULL)
		return cli_fail_usage(c, "Unknown command '%.64s'; see "
			"flowpush help.", a);
	return 0;
}

/* parse_args fills c from argv; the positional count is checked against
 * the command's entry here, before anything runs. Returns 0 or -1. */
static int parse_args(struct cli *c, int argc, char **argv)
{
	const struct opt *o;
	int i, r;

	c->argv = calloc((size_t)argc + 1, sizeof(*c->argv));
	if (c->argv == NULL)
		return ferr_set(&c->err, 500, "internal_error",
			"Out of memory.");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				c->argv[c->argc++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (parse_word(c, argv[i]) < 0)
				return -1;
			continue;
		}
		for (r = 0, o = opts; r == 0 && o->name != NULL; o++)
			r = opt_take(c, o, argc, argv, &i);
		if (r < 0)
			return -1;
		if (r == 0)
			return cli_fail_usage(c, "Unknown option '%.64s'; see "
				"flowpush help.", a);
	}
	if (c->cmd == NULL)
		return cli_fail_usage(c, "No command given; see flowpush "
			"help.");
	c->usage = c->cmd->usage;
	if (c->argc < c->cmd->min_args || c->argc > c->cmd->max_args)
		return cli_fail_usage(c, "usage: flowpush %s", c->cmd->usage);
	return 0;
}

/* read_stdin_json parses stdin as one JSON document (new reference). */
static json_t *read_stdin_json(struct cli *c)
{
	json_error_t je;
	json_t *v = json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);

	if (v == NULL)
		ferr_set(&c->err, 400, "bad_request",
			"The input is not valid JSON (line %d: %.200s).",
			je.line, je.text);
	return v;
}

/* check_record_args: a collection that exists, an id that could be one,
 * so that no command runs on a bad collection. */
static int check_record_args(struct cli *c)
{
	unsigned flags = c->cmd->flags;

	if (flags & CMD_NEEDS_COLL) {
		c->res = resource_find(c->argv[0]);
		if (c->res == NULL)
			return ferr_set(&c->err, 404, "not_found",
				"There is no collection '%.64s'.", c->argv[0]);
	}
	if ((flags & CMD_NEEDS_ID) && !util_is_uuid(c->argv[1]))
		return ferr_set(&c->err, 404, "not_found", "There is no "
			"record '%.64s' in %s.", c->argv[1], c->res->name);
	return 0;
}

/* dispatch provides what the command's flags ask for, in the order a
 * failure is best reported in, and runs it. Returns its result. */
static int dispatch(struct cli *c)
{
	const struct command *k = c->cmd;
	struct store st;
	int result = -1, have_store = 0;

	if (!(k->flags & (CMD_NEEDS_CONFIG | CMD_NEEDS_DB)))
		return k->run(c, NULL);
	c->have_cfg = 1;
	if (config_load(&c->cfg, c->config_path, &c->err) < 0)
		return -1;
	log_setup("flowpush", c->cfg.log_level, c->cfg.log_file);
	if (check_record_args(c) < 0)
		return -1;
	if (k->flags & CMD_NEEDS_DB) {
		if (store_open(&st, &c->cfg, &c->err) < 0)
			goto out;
		have_store = 1;
	}
	if (k->flags & CMD_READS_STDIN) {
		c->body = read_stdin_json(c);
		if (c->body == NULL)
			goto out;
	}
	if (k->flags & CMD_NEEDS_WRITER) {
		c->w.actor = c->actor;
		c->w.if_match = c->if_match;
	}
	result = k->run(c, have_store ? &st : NULL);
out:
	if (have_store)
		store_close(&st);
	return result;
}

static void report_error(const struct ferr *e)
{
	json_t *j = ferr_to_json(e);

	if (j != NULL)
		json_dumpf(j, stderr, JSON_COMPACT);
	fputc('\n', stderr);
	json_decref(j);
}

int main(int argc, char **argv)
{
	struct cli c;
	int result = -1;

	cli_init(&c);
	cli_catch_signals();
	if (parse_args(&c, argc, argv) == 0)
		result = dispatch(&c);
	if (result < 0)
		report_error(&c.err);
	cli_release(&c);
	return result < 0 ? 1 : 0;
}
