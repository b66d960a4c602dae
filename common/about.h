/* about.h - what the programs say about themselves: version, keys, manual. */
#ifndef FP_ABOUT_H
#define FP_ABOUT_H

#include <stdio.h>
#include "config.h"

/*
 * about_version writes "PROGRAM (flowpush) VERSION" and a newline to f,
 * VERSION being configure's (AC_INIT). program is borrowed.
 */
void about_version(FILE *f, const char *program);

/*
 * about_keys writes the config keys that reader (one enum config_reader
 * bit) reads, each with its help, default, range and environment
 * variable, from the key table; keys only other programs read are left
 * out.
 */
void about_keys(FILE *f, unsigned reader);

/*
 * about_conf_man writes the manual page flowpush.conf(5), in roff, from
 * the key table: the file's format, then every key with its help, type,
 * default, range, environment variable and the programs that read it.
 * Returns 0, or -1 when writing to f failed.
 */
int about_conf_man(FILE *f);

#endif
