/* about.c - what the programs say about themselves: version, keys, manual. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "about.h"

/* configure passes these on the command line; a build without it (the
 * fuzz targets compile common/ by hand) still compiles. */
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif
#ifndef RELEASE_DATE
#define RELEASE_DATE ""
#endif

/* The programs behind the enum config_reader bits, with their manual
 * sections, in the order the manual names them. */
static const struct {
	unsigned bit;
	const char *program;
	const char *section;
} about_readers[] = {
	{ CONFIG_API, "flowpush.fcgi", "8" },
	{ CONFIG_PUSH, "flowpushd", "8" },
	{ CONFIG_CLI, "flowpush", "1" },
};

#define N_READERS (sizeof(about_readers) / sizeof(about_readers[0]))

void about_version(FILE *f, const char *program)
{
	fprintf(f, "%s (flowpush) %s\n", program, PACKAGE_VERSION);
}

static const char *reader_name(unsigned reader)
{
	size_t i;

	for (i = 0; i < N_READERS; i++)
		if (about_readers[i].bit == reader)
			return about_readers[i].program;
	return "this program";
}

/* Where a key's help starts in about_keys' table. */
#define HELP_INDENT 29

/* wrap_text writes text from column indent (where the caller has left the
 * line), breaking at spaces before column width and indenting each next
 * line as much; it ends with a newline. A word longer than a line gets a
 * line of its own. */
static void wrap_text(FILE *f, const char *text, int indent, int width)
{
	const char *p = text;
	int col = indent;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (col > indent && col + 1 + (int)n > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		}
		if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, n, f);
		col += (int)n;
		p += n;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

void about_keys(FILE *f, unsigned reader)
{
	const struct config_key *k;
	char env[128], range[64], line[512];

	fprintf(f, "Configuration keys that %s reads (flowpush.conf(5) has "
		"them all).\nEach may be overridden by the environment "
		"variable FLOWPUSH_<KEY>; relative\npaths in a config file are "
		"taken from the file's folder.\n\n", reader_name(reader));
	for (k = config_keys; k->name != NULL; k++) {
		if (!(k->readers & reader))
			continue;
		config_env_name(k->name, env, sizeof(env));
		fprintf(f, "  %-*s", HELP_INDENT - 2, k->name);
		wrap_text(f, k->help, HELP_INDENT, 79);
		if (k->type == CONFIG_LONG)
			snprintf(range, sizeof(range), ", %ld..%ld", k->min,
				k->max);
		else
			range[0] = '\0';
		snprintf(line, sizeof(line), "default: \"%s\"%s; env %s",
			k->def, range, env);
		fprintf(f, "%*s", HELP_INDENT, "");
		wrap_text(f, line, HELP_INDENT, 79);
	}
}

/* roff_text writes s as roff running text: backslashes escaped, hyphens
 * as \- where they stand for the ASCII character (options, ranges), and
 * the sentence begun with a capital. */
static void roff_text(FILE *f, const char *s, int capital)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		if (p == s && capital && islower((unsigned char)*p))
			fputc(toupper((unsigned char)*p), f);
		else if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f);
		else
			fputc(*p, f);
	}
}

/* The parts of the page around the keys. Lines that start with a dot are
 * roff requests; text lines never start with one. */
static const char about_man_head[] =
	".SH NAME\n"
	"flowpush.conf \\- configuration of flowpush.fcgi, flowpushd and "
	"flowpush\n"
	".SH SYNOPSIS\n"
	".I key\n"
	".B =\n"
	".I value\n"
	".SH DESCRIPTION\n"
	"One file configures the three programs of flowpush: the API\n"
	".BR flowpush.fcgi (8),\n"
	"the push daemon\n"
	".BR flowpushd (8)\n"
	"and the admin command\n"
	".BR flowpush (1).\n"
	"A program reads the file named by its option\n"
	".B \\-\\-config\n"
	".I FILE\n"
	"(flowpushd and flowpush), else the one named by the environment "
	"variable\n"
	".BR FLOWPUSH_CONFIG ;\n"
	"without either it runs on the defaults below.\n"
	".PP\n"
	"Each line is\n"
	".IB key \" = \" value\\fR,\n"
	"a comment starting with\n"
	".BR # ,\n"
	"or blank.\n"
	"Spaces around the key and the value are dropped; a value in double "
	"quotes keeps\nthe spaces at its edges, and\n"
	".B \\(dq\\(dq\n"
	"is the empty value.\n"
	"Numbers are whole numbers within the range given below; booleans "
	"are\n"
	".BR true ,\n"
	".BR yes ,\n"
	".B on\n"
	"or\n"
	".B 1\n"
	"and\n"
	".BR false ,\n"
	".BR no ,\n"
	".B off\n"
	"or\n"
	".BR 0 .\n"
	"An unknown key, a line without\n"
	".B =\n"
	"or a value out of range stops the program with a message that names "
	"the\nfile and the line.\n"
	"A relative path in the file (in \\fBdatabase\\fR, "
	"\\fBdoorbell\\fR, \\fBlog_file\\fR,\n"
	"and the \\fIPATH\\fR of \\fBpush_listen = unix:\\fIPATH\\fR) "
	"is taken from the file's folder,\n"
	"not from the folder the program starts in.\n"
	".PP\n"
	"After the file, the environment variable "
	"\\fBFLOWPUSH_\\fIKEY\\fR, the key's name in\n"
	"upper case, overrides each key (\\fBFLOWPUSH_DATABASE\\fR for "
	"\\fBdatabase\\fR); its value\n"
	"is taken as written.\n"
	".PP\n"
	".B flowpush init\n"
	"writes a new file that holds every key with its help, a fresh\n"
	".B secret\n"
	"and a fresh\n"
	".BR data_key ,\n"
	"with mode 0600: the file holds secrets, and\n"
	".B flowpush check\n"
	"fails when others may read it.\n"
	".PP\n"
	"The programs read the file when they start; a plain CGI starts on "
	"every\nrequest.\n"
	"When the file changes, the API and the admin command read\n"
	".B data_key\n"
	"and\n"
	".B data_key_previous\n"
	"again before they next seal or open a secret, so that\n"
	".B flowpush rekey\n"
	"works while the API runs; every other change takes effect when a "
	"program\nstarts again.\n"
	".SH KEYS\n"
	"Each key with what it sets, its default, the environment variable "
	"that\noverrides it and the programs that read it.\n";

static const char about_man_tail[] =
	".SH ENVIRONMENT\n"
	".TP\n"
	".B FLOWPUSH_CONFIG\n"
	"The config file, when no\n"
	".B \\-\\-config\n"
	"option names one.\n"
	".TP\n"
	".BI FLOWPUSH_ KEY\n"
	"Overrides\n"
	".I key\n"
	"of the file, as listed under\n"
	".BR KEYS .\n"
	".SH EXAMPLES\n"
	"A config beside its database, with the push daemon on a Unix "
	"socket that\nthe web server proxies to:\n"
	".PP\n"
	".RS 4\n"
	".EX\n"
	"# /srv/flowpush/flowpush.conf\n"
	"database = flowpush.db\n"
	"doorbell = flowpushd.sock\n"
	"push_listen = unix:push.sock\n"
	"log_file = flowpush.log\n"
	"threads = 8\n"
	".EE\n"
	".RE\n"
	".SH SEE ALSO\n"
	".BR flowpush (1),\n"
	".BR flowpushd (8),\n"
	".BR flowpush.fcgi (8)\n";

/* man_key writes one key of the KEYS section. */
static void man_key(FILE *f, const struct config_key *k)
{
	char env[128];
	size_t i, n = strlen(k->help), named = 0;

	config_env_name(k->name, env, sizeof(env));
	fprintf(f, ".TP\n.B %s\n", k->name);
	roff_text(f, k->help, 1);
	fputs(n > 0 && k->help[n - 1] == '.' ? "\n" : ".\n", f);
	fputs(".br\n", f);
	if (k->type == CONFIG_LONG)
		fprintf(f, "A whole number from %ld to %ld; default:", k->min,
			k->max);
	else if (k->type == CONFIG_BOOL)
		fputs("A boolean; default:", f);
	else
		fputs("Text; default:", f);
	if (k->def[0] == '\0') {
		fputs(" empty.\n", f);
	} else {
		fputs(" \\fB", f);
		roff_text(f, k->def, 0);
		fputs("\\fR.\n", f);
	}
	fprintf(f, "Environment: \\fB%s\\fR.\nRead by", env);
	for (i = 0; i < N_READERS; i++) {
		if (!(k->readers & about_readers[i].bit))
			continue;
		fprintf(f, "%s \\fB%s\\fR(%s)", named++ ? "," : "",
			about_readers[i].program, about_readers[i].section);
	}
	fputs(".\n", f);
}

int about_conf_man(FILE *f)
{
	const struct config_key *k;

	fputs(".\\\" flowpush.conf.5 - made by \"flowpush config-doc\" from "
		"the key table in\n.\\\" common/config.c: change the table, "
		"not this file.\n", f);
	fprintf(f, ".TH FLOWPUSH.CONF 5 \"%s\" \"flowpush %s\" "
		"\"File Formats\"\n", RELEASE_DATE, PACKAGE_VERSION);
	/* Names such as flowpush.fcgi are not words to hyphenate (HY:
	 * groff's macros that turn hyphenation back on read it), and
	 * ragged lines keep them apart. */
	fputs(".nr HY 0\n.nh\n.ad l\n", f);
	fputs(about_man_head, f);
	for (k = config_keys; k->name != NULL; k++)
		man_key(f, k);
	fputs(about_man_tail, f);
	return ferror(f) ? -1 : 0;
}
