/* fuzz_config.c - libFuzzer target: what operators and stored rows feed the programs (config files, topic grants, roles, sealed secrets, push tokens). */
#define _GNU_SOURCE 1
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "config.h"
#include "role.h"
#include "seal.h"
#include "token.h"
#include "topic.h"

#define KEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* config_from parses data as a config file (through a memory file). */
static void config_from(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct ferr err;
	char path[64];
	int fd = memfd_create("fuzz-config", 0);

	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ferr_init(&err);
		config_load(&cfg, path, &err);
		config_release(&cfg);
		ferr_release(&err);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct seal_key *keys[1];
	struct topic_list g;
	struct seal_key k;
	struct ferr err;
	json_t *opened;
	struct token_claims claims;
	enum role r;
	char *text;

	config_from(data, size);
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ferr_init(&err);
	if (topic_grant_for(text, "alice", &g, &err) == 1)
		topic_list_release(&g);
	ferr_release(&err);
	/* A value role_check takes must give every user a role. */
	if (role_check(text, &err) == 0 &&
	    (role_for(text, "alice", &r, &err) < 0 ||
	     role_for(text, NULL, &r, &err) < 0))
		abort();
	ferr_release(&err);
	if (seal_key_parse(KEY, &k, &err) == 0) {
		keys[0] = &k;
		opened = seal_open(keys, 1, "proxies/1", text, &err);
		json_decref(opened);
		ferr_release(&err);
		seal_has_field(text, "password");
	}
	if (token_verify(KEY, text, 1700000000, &claims, &err) == 0)
		token_claims_release(&claims);
	ferr_release(&err);
	free(text);
	return 0;
}
