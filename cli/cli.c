/* cli.c - what every command of flowpush shares: output, errors, signals. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static volatile sig_atomic_t stop_requested;

void cli_init(struct cli *c)
{
	memset(c, 0, sizeof(*c));
	ferr_init(&c->err);
	c->if_match = -1;
	c->since = -1;
	c->limit = -1;
	c->keep_days = -1;
	c->keep_rows = -1;
	c->scale = -1;
	c->pages = -1;
	c->w.if_match = -1;
}

void cli_release(struct cli *c)
{
	json_decref(c->body);
	c->body = NULL;
	if (c->have_cfg)
		config_release(&c->cfg);
	c->have_cfg = 0;
	ferr_release(&c->err);
	free(c->argv);
	c->argv = NULL;
}

int cli_fail_usage(struct cli *c, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ferr_set(&c->err, 400, "usage", "%s", msg);
}

int cli_print_json(json_t *v, size_t flags)
{
	if (json_dumpf(v, stdout, flags) < 0 || fputc('\n', stdout) == EOF)
		return -1;
	return fflush(stdout) == 0 ? 0 : -1;
}

int cli_print_record(json_t *rec)
{
	int result;

	if (rec == NULL)
		return -1;
	result = cli_print_json(rec, JSON_INDENT(2));
	json_decref(rec);
	return result;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void cli_catch_signals(void)
{
	struct sigaction sa;

	/* No SA_RESTART: a signal cuts the follow loop's sleep short. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cli_stop_requested(void)
{
	return stop_requested != 0;
}

void cli_nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (!stop_requested)
		nanosleep(&ts, NULL);
}
