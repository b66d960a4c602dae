/* util.h - small pure helpers: time stamps, UUIDs, base64url. */
#ifndef FP_UTIL_H
#define FP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define UTIL_TS_LEN 25   /* "2026-11-25T20:10:00.123Z" + NUL */
#define UTIL_UUID_LEN 37 /* 36 characters + NUL */

/* util_now_ms is the wall clock in milliseconds since the epoch. */
int64_t util_now_ms(void);

/* util_mono_ms is a monotonic clock in milliseconds. */
int64_t util_mono_ms(void);

/* util_ts_format writes ms since the epoch as RFC 3339 UTC with ms. */
void util_ts_format(int64_t ms, char out[UTIL_TS_LEN]);

/* util_ts_now writes the current time as util_ts_format does. */
void util_ts_now(char out[UTIL_TS_LEN]);

/* util_random fills buf with n bytes from getrandom(). Returns 0 or -1. */
int util_random(void *buf, size_t n);

/* util_uuid_new writes a time-ordered (version 7, RFC 9562) lowercase
 * UUID: 48 bits of Unix milliseconds, a 12-bit counter that keeps the ids
 * of one process strictly increasing (also within one millisecond, also
 * when the clock steps back), 62 random bits. Thread-safe. Returns 0/-1. */
int util_uuid_new(char out[UTIL_UUID_LEN]);

/* util_is_uuid is non-zero when s is exactly 36 characters of lowercase
 * hex digits and dashes in the 8-4-4-4-12 layout. */
int util_is_uuid(const char *s);

/* util_base64url_encode returns a malloc'd NUL-terminated string without
 * padding, or NULL when out of memory. Caller frees. */
char *util_base64url_encode(const void *data, size_t n);

/* util_base64url_decode decodes s (no padding expected, padding tolerated)
 * into a malloc'd buffer (*out, *outlen; NUL-terminated for convenience).
 * Returns 0, or -1 on a bad character or length. Caller frees *out. */
int util_base64url_decode(const char *s, unsigned char **out, size_t *outlen);


/* util_parse_long parses all of s as a base-10 integer in [min, max].
 * No leading spaces, no trailing junk, no empty string. Returns 0 or -1. */
int util_parse_long(const char *s, long long min, long long max,
	long long *out);

/* util_hex_value is the value of one hex digit (either case), or -1. */
int util_hex_value(int c);

/* util_hex_encode writes 2n lowercase hex digits and a NUL into out. */
void util_hex_encode(const void *data, size_t n, char *out);

#endif
