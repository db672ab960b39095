/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_STRV_H
#define CABIN_LIB_STRV_H

#include <stddef.h>

/* NULL-terminated string vectors (argv, envp). */

/** strv_len() - number of entries; NULL counts as empty. */
size_t strv_len(char *const *v);
/** strv_free() - free every entry and the vector; accepts NULL. */
void strv_free(char **v);
/** strv_append() - append a copy of @s, reallocating; aborts on OOM. */
void strv_append(char ***v, const char *s);
/** strv_dup() - deep copy. */
char **strv_dup(char *const *v);
/**
 * strv_env_set() - set "KEY=VALUE" in an environment vector, replacing an
 * existing KEY entry (keys compare up to '=').
 */
void strv_env_set(char ***env, const char *kv);
/** strv_env_get() - value of @key in @env, or NULL. */
const char *strv_env_get(char *const *env, const char *key);

static inline void strv_free_cleanup(char ***v)
{
	strv_free(*v);
	*v = NULL;
}
#define cleanup_strv __attribute__((cleanup(strv_free_cleanup)))

#endif
