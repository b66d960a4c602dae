/* seal.h - secrets at rest: sealed with AES-256-GCM under a key kept outside the database. */
#ifndef FP_SEAL_H
#define FP_SEAL_H

#include <stddef.h>
#include <jansson.h>
#include "ferr.h"

#define SEAL_KEY_BYTES 32
#define SEAL_ID_LEN 9                 /* 8 hex digits and the NUL */

/* One data key: its bytes and its id (the first 4 bytes of its SHA-256,
 * in hex), which a sealed text names so the right key opens it. */
struct seal_key {
	unsigned char bytes[SEAL_KEY_BYTES];
	char id[SEAL_ID_LEN];
	int set;                      /* 0: no key configured */
};

/* seal_key_parse reads 64 hex digits into k; "" or NULL leaves k unset.
 * Returns 0, or -1 with 500 bad_config when hex is not such a key. */
int seal_key_parse(const char *hex, struct seal_key *k, struct ferr *err);

/*
 * seal_close seals the secret object (borrowed) for the row aad (e.g.
 * "proxies/<id>": a sealed text moved to another row does not open) into
 * "fp1:<key id>:<field,...>:<base64url of nonce, ciphertext, tag>". The
 * field names stay readable: a record shows which secrets it has without
 * opening them. Returns a malloc'd string or NULL (out of memory, no
 * random bytes).
 */
char *seal_close(const struct seal_key *k, const char *aad, json_t *secret);

/*
 * seal_open opens stored (a seal_close text, or a plain JSON object as
 * written before secrets were sealed) with whichever of keys[0..n) it
 * names. Returns a new object, or NULL with 500 secret_unreadable (no such
 * key, or the text was altered or moved).
 */
json_t *seal_open(const struct seal_key *const *keys, size_t n,
	const char *aad, const char *stored, struct ferr *err);

/* seal_has_field is non-zero when stored (sealed or plain) holds a secret
 * named field; nothing is opened. */
int seal_has_field(const char *stored, const char *field);

/* seal_key_of gives the id of the key stored was sealed with ("" when it
 * is plain JSON) in out. */
void seal_key_of(const char *stored, char out[SEAL_ID_LEN]);

#endif
