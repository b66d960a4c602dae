/* log.h - leveled logging to stderr or a file, checked before formatting. */
#ifndef FP_LOG_H
#define FP_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* log_setup sets the threshold and the destination (NULL path or "" means
 * stderr). Returns 0, or -1 when the file cannot be opened (stderr is kept).
 * Safe to call again (SIGHUP reopens). The program name prefixes each line. */
int log_setup(const char *progname, const char *level, const char *path);

/* log_level_parse maps "error|warn|info|debug" to a level, -1 if unknown. */
int log_level_parse(const char *s);

/* log_enabled tells whether a message at this level would be written. */
int log_enabled(enum log_level level);

/* log_msg writes one line "TS prog[pid] LEVEL message" when enabled.
 * Thread-safe; never fails visibly. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
