/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_IMG_REGISTRY_H
#define CABIN_IMG_REGISTRY_H

#include <stdio.h>

#include "img/digest.h"

struct cabin_err;
struct img_store;

struct img_pull_opts {
	const char *platform; /* "os/arch[/variant]"; NULL: the host's */
	int tls_verify;	      /* 0: --tls-verify=false, plain HTTP allowed for any host */
	const char *cert_dir; /* *.crt CAs for TLS; NULL: the registry's certs.d directories */
	int jobs;	      /* parallel layer downloads (default 3) */
	int quiet;
	FILE *progress; /* where progress goes (stderr); a tty gets bars */
};

/**
 * img_pull() - pull @ref from its registry into @s (the OCI distribution spec): the
 * manifest (through an index for the platform), the config and every layer, each checked
 * against its digest and size, then unpacked once and recorded under @ref's name.
 * Downloads resume from what an interrupted pull left in tmp/.
 * @id: the image ID on success
 */
int img_pull(struct img_store *s, const char *ref, const struct img_pull_opts *o, char *id,
	     struct cabin_err **err);

/**
 * img_registry_login() - check @user/@pass against @registry (GET /v2/ with basic auth,
 * or the token endpoint it names).
 */
int img_registry_login(const char *registry, const char *user, const char *pass, int tls_verify,
		       const char *cert_dir, struct cabin_err **err);

#endif
