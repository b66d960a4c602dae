/* demo_data.h - the records of flowpush demo, as JSON text. */
#ifndef FP_DEMO_DATA_H
#define FP_DEMO_DATA_H

/* One demo record and what follows its creation. */
struct demo_data_record {
	const char *key;          /* how later records name it: "@key" */
	const char *collection;   /* a name of the resource table */
	const char *json;         /* the record as the API takes it */
	const char *steps;        /* a JSON array, or NULL: an action name,
				     {"action": NAME, ...body}, or
				     {"patch": merge-patch} */
};

/* demo_data_records ends with an entry whose key is NULL. */
extern const struct demo_data_record demo_data_records[];

#endif
