/* util.c - small pure helpers: time stamps, UUIDs, base64, number parsing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util.h"

int64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fixed-width digits: the compiler cannot prove snprintf fits, we can. */
static void put_digits(char *p, int v, int width)
{
	while (width-- > 0) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

void util_ts_format(int64_t ms, char out[UTIL_TS_LEN])
{
	/* Floor division so times before 1970 still get 0..999 ms. */
	int64_t sec = ms / 1000, rem = ms % 1000;
	time_t t;
	struct tm tm;

	if (rem < 0) {
		rem += 1000;
		sec -= 1;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = 70;
		tm.tm_mday = 1;
		rem = 0;
	}
	put_digits(out, tm.tm_year + 1900, 4);
	out[4] = '-';
	put_digits(out + 5, tm.tm_mon + 1, 2);
	out[7] = '-';
	put_digits(out + 8, tm.tm_mday, 2);
	out[10] = 'T';
	put_digits(out + 11, tm.tm_hour, 2);
	out[13] = ':';
	put_digits(out + 14, tm.tm_min, 2);
	out[16] = ':';
	put_digits(out + 17, tm.tm_sec, 2);
	out[19] = '.';
	put_digits(out + 20, (int)rem, 3);
	out[23] = 'Z';
	out[24] = '\0';
}

void util_ts_now(char out[UTIL_TS_LEN])
{
	util_ts_format(util_now_ms(), out);
}

int util_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The last (ms << 12 | counter) handed out by this process: ids made in
 * one millisecond still sort in the order they were made. */
static _Atomic uint64_t uuid_last;

/* Random bytes for ids, fetched a page at a time: one getrandom per id
 * was a tenth of a bulk load. A forked child must never hand out its
 * parent's bytes: the atfork handler empties the pool of the one thread
 * that goes on in the child. */
#define UUID_POOL 512
static _Thread_local unsigned char uuid_pool[UUID_POOL];
static _Thread_local size_t uuid_pool_left;
static atomic_flag uuid_atfork_set = ATOMIC_FLAG_INIT;

static void uuid_pool_forget_cb(void)
{
	uuid_pool_left = 0;
}

/* uuid_random fills b with n (<= UUID_POOL) random bytes from the pool. */
static int uuid_random(unsigned char *b, size_t n)
{
	if (!atomic_flag_test_and_set(&uuid_atfork_set) &&
	    pthread_atfork(NULL, NULL, uuid_pool_forget_cb) != 0) {
		atomic_flag_clear(&uuid_atfork_set);
		return util_random(b, n);
	}
	if (uuid_pool_left < n) {
		if (util_random(uuid_pool, sizeof(uuid_pool)) < 0)
			return -1;
		uuid_pool_left = sizeof(uuid_pool);
	}
	uuid_pool_left -= n;
	memcpy(b, uuid_pool + uuid_pool_left, n);
	/* Bytes once used are not left behind for a later fork to see. */
	memset(uuid_pool + uuid_pool_left, 0, n);
	return 0;
}

int util_uuid_new(char out[UTIL_UUID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	uint64_t now, last, next;
	size_t i, o = 0;

	/* The first 8 bytes are the time and the counter. */
	if (uuid_random(b + 8, 8) < 0)
		return -1;
	now = (uint64_t)util_now_ms() << 12;
	last = atomic_load(&uuid_last);
	do {
		/* A clock that steps back does not reorder ids: the counter
		 * goes on from the last one (RFC 9562, 6.2 method 1). */
		next = now > last ? now : last + 1;
	} while (!atomic_compare_exchange_weak(&uuid_last, &last, next));
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(next >> (12 + 8 * (5 - i)));
	b[6] = (unsigned char)(0x70 | ((next >> 8) & 0x0f));
	b[7] = (unsigned char)(next & 0xff);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
	return 0;
}

int util_is_uuid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') ||
			(c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return s[36] == '\0';
}

static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(const void *data, size_t n, const char *abc)
{
	const unsigned char *p = data;
	size_t i, o = 0, cap;
	char *out;

	if (n > (SIZE_MAX - 8) / 4 * 3)
		return NULL;
	cap = (n + 2) / 3 * 4 + 1;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 |
			p[i + 2];

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
	}
	out[o] = '\0';
	return out;
}

char *util_base64url_encode(const void *data, size_t n)
{
	return b64_encode(data, n, b64_url);
}

int util_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int util_base64url_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), i, o = 0;
	unsigned acc = 0;
	int bits = 0;
	unsigned char *buf;

	*out = NULL;
	*outlen = 0;
	/* Padding is tolerated only as the last one or two characters. */
	while (n > 0 && s[n - 1] == '=' && strlen(s) - n < 2)
		n--;
	if (n % 4 == 1)
		return -1;
	buf = malloc(n / 4 * 3 + 3);
	if (buf == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		int v = b64url_value(s[i]);

		if (v < 0) {
			free(buf);
			return -1;
		}
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	/* Leftover bits must be zero, or two encodings would decode alike. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
		free(buf);
		return -1;
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
}

int util_parse_long(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;
	const char *d = s;

	if (s == NULL)
		return -1;
	if (*d == '-')
		d++;
	if (*d < '0' || *d > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void util_hex_encode(const void *data, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}
