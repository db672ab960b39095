/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_IMG_AUTH_H
#define CABIN_IMG_AUTH_H

#include <stddef.h>

struct cabin_err;

/** img_auth_own_file() - the file `cabin login` writes ($CABIN_AUTH_FILE or
 * ~/.config/cabin/auth.json); caller frees. */
char *img_auth_own_file(void);

/**
 * img_auth_get() - credentials for @registry from $REGISTRY_AUTH_FILE, cabin's auth file,
 * podman's auth.json ($XDG_RUNTIME_DIR/containers or /run/containers/UID, then
 * $XDG_CONFIG_HOME/containers) or Docker's config.json ($DOCKER_CONFIG or ~/.docker).
 * Return: 1 with *@user and *@pass set (caller frees), 0 when there are none.
 */
int img_auth_get(const char *registry, char **user, char **pass);

/** img_auth_save() - store (or with @user NULL, remove) credentials for @registry. */
int img_auth_save(const char *registry, const char *user, const char *pass, struct cabin_err **err);

/**
 * img_auth_challenge_param() - the value of @key in a WWW-Authenticate challenge
 * (`Bearer realm="...",service=...`), quoted or not; NULL when absent. Caller frees.
 */
char *img_auth_challenge_param(const char *challenge, const char *key);

/**
 * img_auth_token_parse() - the bearer token of a token service's JSON answer (`token`,
 * else `access_token`); NULL when there is none or it could not go into a header.
 * Caller frees.
 */
char *img_auth_token_parse(const char *body, size_t len);

/** img_base64() - standard base64 of @len bytes; caller frees. */
char *img_base64(const void *buf, size_t len);

#endif
