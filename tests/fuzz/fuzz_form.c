/* fuzz_form.c - libFuzzer target: form and query decoding, list requests (cursors included), form-to-JSON and record validation. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "formjson.h"
#include "listq.h"
#include "resource.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first byte picks the collection, the rest is an urlencoded body:
 * every collection's field table is walked by both the form mapping and
 * the validator, which must answer every input with a value or an error,
 * never a crash or a leak. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct resource *res;
	struct form f;
	struct ferr err;
	json_t *body, *rec;
	size_t n = 0;

	if (size == 0)
		return 0;
	for (res = resources; res->name; res++)
		n++;
	res = &resources[data[0] % n];
	ferr_init(&err);
	if (form_parse((const char *)data + 1, size - 1, &f, &err) == 0) {
		struct listq lq;
		struct ferr lerr;

		/* The same pairs as a list query: q, sort, filters, ids and
		 * a cursor (base64url JSON) from the client. */
		ferr_init(&lerr);
		if (listq_parse(&lq, res, &f, &lerr) != 0 && !ferr_is_set(&lerr))
			abort();
		listq_release(&lq);
		ferr_release(&lerr);
		body = formjson_decode(res, &f, &err);
		if (body) {
			rec = validate_record(res, body, NULL, NULL, &err);
			if (!rec && !ferr_is_set(&err))
				abort(); /* a refusal always says why */
			json_decref(rec);
			json_decref(body);
		} else if (!ferr_is_set(&err)) {
			abort();
		}
		form_release(&f);
	}
	ferr_release(&err);
	return 0;
}
