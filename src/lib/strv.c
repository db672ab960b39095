/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/xalloc.h"

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

void strv_append(char ***v, const char *s)
{
	size_t n = strv_len(*v);
	char **nv = xrealloc(*v, (n + 2) * sizeof(char *));

	nv[n] = xstrdup(s);
	nv[n + 1] = NULL;
	*v = nv;
}

char **strv_dup(char *const *v)
{
	size_t n = strv_len(v);
	char **nv = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		nv[i] = xstrdup(v[i]);
	return nv;
}

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

void strv_env_set(char ***env, const char *kv)
{
	size_t kl = key_len(kv);

	for (size_t i = 0; *env && (*env)[i]; i++) {
		if (key_len((*env)[i]) == kl && !strncmp((*env)[i], kv, kl)) {
			free((*env)[i]);
			(*env)[i] = xstrdup(kv);
			return;
		}
	}
	strv_append(env, kv);
}

const char *strv_env_get(char *const *env, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, kl) && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}
