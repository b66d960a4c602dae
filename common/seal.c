/* seal.c - secrets at rest: sealed with AES-256-GCM under a key kept outside the database. */
#include <stdlib.h>
#include <string.h>
#include <nettle/gcm.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#include "seal.h"
#include "util.h"

#define SEAL_PREFIX "fp1:"
#define NONCE_BYTES GCM_IV_SIZE       /* 12 */
#define TAG_BYTES GCM_DIGEST_SIZE     /* 16 */

int seal_key_parse(const char *hex, struct seal_key *k, struct ferr *err)
{
	unsigned char digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;
	size_t i;
	int hi, lo;

	memset(k, 0, sizeof(*k));
	if (hex == NULL || *hex == '\0')
		return 0;
	if (strlen(hex) != 2 * SEAL_KEY_BYTES)
		return ferr_set(err, 500, "bad_config", "A data key is 64 hex "
			"digits.");
	for (i = 0; i < SEAL_KEY_BYTES; i++) {
		hi = util_hex_value(hex[2 * i]);
		lo = util_hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ferr_set(err, 500, "bad_config", "A data key is "
				"64 hex digits.");
		k->bytes[i] = (unsigned char)(hi << 4 | lo);
	}
	sha256_init(&h);
	sha256_update(&h, SEAL_KEY_BYTES, k->bytes);
	sha256_digest(&h, sizeof(digest), digest);
	util_hex_encode(digest, 4, k->id);
	k->set = 1;
	return 0;
}

/* field_list writes the secret's field names, comma-separated, into a
 * malloc'd string. */
static char *field_list(json_t *secret)
{
	const char *name;
	json_t *v;
	size_t len = 1;
	char *out;

	json_object_foreach(secret, name, v)
		len += strlen(name) + 1;
	out = calloc(1, len);
	if (out == NULL)
		return NULL;
	json_object_foreach(secret, name, v) {
		if (*out)
			strcat(out, ",");
		strcat(out, name);
	}
	return out;
}

char *seal_close(const struct seal_key *k, const char *aad, json_t *secret)
{
	struct gcm_aes256_ctx ctx;
	unsigned char *box = NULL;
	char *plain = NULL, *fields = NULL, *b64 = NULL, *out = NULL;
	size_t n, len;

	plain = json_dumps(secret, JSON_COMPACT | JSON_SORT_KEYS);
	fields = field_list(secret);
	if (plain == NULL || fields == NULL)
		goto out;
	n = strlen(plain);
	box = malloc(NONCE_BYTES + n + TAG_BYTES);
	if (box == NULL || util_random(box, NONCE_BYTES) < 0)
		goto out;
	gcm_aes256_set_key(&ctx, k->bytes);
	gcm_aes256_set_iv(&ctx, NONCE_BYTES, box);
	gcm_aes256_update(&ctx, strlen(aad), (const uint8_t *)aad);
	gcm_aes256_encrypt(&ctx, n, box + NONCE_BYTES,
		(const uint8_t *)plain);
	gcm_aes256_digest(&ctx, TAG_BYTES, box + NONCE_BYTES + n);
	b64 = util_base64url_encode(box, NONCE_BYTES + n + TAG_BYTES);
	if (b64 == NULL)
		goto out;
	len = strlen(SEAL_PREFIX) + strlen(k->id) + strlen(fields) +
		strlen(b64) + 3;
	out = malloc(len);
	if (out != NULL)
		snprintf(out, len, SEAL_PREFIX "%s:%s:%s", k->id, fields, b64);
out:
	if (plain != NULL)
		memset(plain, 0, strlen(plain));
	free(plain);
	free(fields);
	free(box);
	free(b64);
	return out;
}

/* parts splits a sealed text into its key id, fields and box (pointers
 * into stored); -1 when it is not one. */
static int parts(const char *stored, const char **kid, const char **fields,
	const char **box)
{
	const char *p;

	if (strncmp(stored, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0)
		return -1;
	*kid = stored + strlen(SEAL_PREFIX);
	p = strchr(*kid, ':');
	if (p == NULL || p - *kid != SEAL_ID_LEN - 1)
		return -1;
	*fields = p + 1;
	p = strchr(*fields, ':');
	if (p == NULL)
		return -1;
	*box = p + 1;
	return 0;
}

json_t *seal_open(const struct seal_key *const *keys, size_t n,
	const char *aad, const char *stored, struct ferr *err)
{
	const struct seal_key *k = NULL;
	const char *kid, *fields, *b64;
	struct gcm_aes256_ctx ctx;
	unsigned char *box = NULL, tag[TAG_BYTES];
	char *plain = NULL;
	size_t len = 0, i, m = 0;
	json_t *out = NULL;

	if (parts(stored, &kid, &fields, &b64) < 0)
		return json_loads(stored, 0, NULL);  /* written before sealing */
	for (i = 0; i < n && k == NULL; i++)
		if (keys[i] != NULL && keys[i]->set &&
		    strncmp(keys[i]->id, kid, SEAL_ID_LEN - 1) == 0)
			k = keys[i];
	if (k == NULL || util_base64url_decode(b64, &box, &len) < 0 ||
	    len < NONCE_BYTES + TAG_BYTES)
		goto fail;
	m = len - NONCE_BYTES - TAG_BYTES;
	plain = malloc(m + 1);
	if (plain == NULL)
		goto fail;
	gcm_aes256_set_key(&ctx, k->bytes);
	gcm_aes256_set_iv(&ctx, NONCE_BYTES, box);
	gcm_aes256_update(&ctx, strlen(aad), (const uint8_t *)aad);
	gcm_aes256_decrypt(&ctx, m, (uint8_t *)plain, box + NONCE_BYTES);
	gcm_aes256_digest(&ctx, TAG_BYTES, tag);
	if (!memeql_sec(tag, box + NONCE_BYTES + m, TAG_BYTES))
		goto fail;
	plain[m] = '\0';
	out = json_loads(plain, 0, NULL);
	if (out == NULL)
		goto fail;
	goto done;
fail:
	ferr_set(err, 500, "secret_unreadable", "A stored secret cannot be "
		"opened with the configured data keys.");
done:
	if (plain != NULL)
		memset(plain, 0, m);
	free(plain);
	free(box);
	return out;
}

int seal_has_field(const char *stored, const char *field)
{
	const char *kid, *fields, *box, *p;
	size_t fl = strlen(field);
	json_t *plain;
	int has;

	if (parts(stored, &kid, &fields, &box) < 0) {
		plain = json_loads(stored, 0, NULL);
		has = json_is_string(json_object_get(plain, field));
		json_decref(plain);
		return has;
	}
	for (p = fields; p < box - 1; p += strcspn(p, ",:") + 1)
		if (strncmp(p, field, fl) == 0 && (p[fl] == ',' ||
		    p[fl] == ':'))
			return 1;
	return 0;
}

void seal_key_of(const char *stored, char out[SEAL_ID_LEN])
{
	const char *kid, *fields, *box;

	out[0] = '\0';
	if (parts(stored, &kid, &fields, &box) == 0) {
		memcpy(out, kid, SEAL_ID_LEN - 1);
		out[SEAL_ID_LEN - 1] = '\0';
	}
}
