/* role.h - who may do what: the roles config key, read by REMOTE_USER. */
#ifndef FP_ROLE_H
#define FP_ROLE_H

#include "ferr.h"

/*
 * The roles, in order: each may do everything the ones below it may.
 * The numbers are part of the contract of this header (a route table
 * compares them), not of any file or answer.
 */
enum role {
	ROLE_NONE = 0,     /* nothing, not even reading */
	ROLE_VIEWER = 1,   /* read the API and subscribe */
	ROLE_OPERATOR = 2, /* also campaign actions and progress counters */
	ROLE_ADMIN = 3,    /* also every other write */
};

/* role_name gives "none", "viewer", "operator" or "admin" (a static
 * string; "none" for a value out of range). */
const char *role_name(enum role r);

/*
 * role_check says whether spec is a valid value of the config key
 * "roles": entries "USERS: ROLE" separated by ';', where USERS is one or
 * more REMOTE_USER names separated by ',' (or "*", anyone not named,
 * the anonymous included) and ROLE one of viewer, operator, admin, none.
 * Spaces around names are ignored; a name may appear once. Empty (NULL or
 * "") is valid: roles are off. Returns 0, or -1 with 500 bad_config and a
 * message that names the key and the entry.
 */
int role_check(const char *spec, struct ferr *err);

/*
 * role_for finds the role of user (REMOTE_USER; NULL when the web server
 * authenticated nobody) under spec, the value of "roles": the entry that
 * names the user, else the "*" entry, else ROLE_NONE. An empty spec turns
 * roles off: everyone is ROLE_ADMIN, as when roles did not exist. Returns
 * 0 with *out set, or -1 with err as role_check.
 */
int role_for(const char *spec, const char *user, enum role *out,
	struct ferr *err);

#endif
