/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_IMG_MANIFEST_H
#define CABIN_IMG_MANIFEST_H

#include <jansson.h>
#include <stdint.h>

#include "img/digest.h"

struct cabin_err;
struct img_store;

#define IMG_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define IMG_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMG_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMG_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IMG_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define IMG_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define IMG_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"

/* Manifests, indexes and configs are small; bigger is refused before parsing. */
#define IMG_MANIFEST_MAX (4u << 20)

struct img_blob_desc {
	char digest[IMG_DIGEST_LEN];
	int64_t size;
	char *media_type;
};

struct img_manifest {
	struct img_blob_desc config;
	struct img_blob_desc *layers;
	size_t nlayers;
};

/** img_manifest_is_index() - does this (media type, or the JSON's own) name an index? */
int img_manifest_is_index(const char *media_type, json_t *j);

/**
 * img_index_select() - the manifest of @platform ("os/arch[/variant]") in an image index
 * or a Docker manifest list. The error lists the platforms the index has.
 */
int img_index_select(json_t *index, const char *platform, struct img_blob_desc *out,
		     struct cabin_err **err);

/**
 * img_manifest_parse() - an OCI or Docker schema 2 image manifest: every digest checked
 * for form, every size bounded, layer media types gzip, zstd or uncompressed tar.
 */
int img_manifest_parse(json_t *j, struct img_manifest *m, struct cabin_err **err);
/** img_manifest_free() - free what img_manifest_parse() allocated. */
void img_manifest_free(struct img_manifest *m);

/** img_platform_host() - "linux/amd64" (GOARCH names) for the machine cabin runs on. */
const char *img_platform_host(void);

/**
 * img_platform_match() - does @p (an index's platform object or an image config, with
 * os, architecture and variant) match @want, "os/arch[/variant]"?
 */
int img_platform_match(json_t *p, const char *want);

/** img_platform_string() - "os/arch[/variant]" of @p; caller frees. */
char *img_platform_string(json_t *p);

/**
 * img_image_commit() - finish an image whose manifest, config and layer blobs are all
 * in the store: check the config's platform against @platform (NULL: no check), its
 * DiffIDs against the layers, unpack every layer once, write the record and point
 * @names (a JSON array, may be NULL) at it.
 * @manifest_digest: the stored manifest blob
 * @repo_digest: "name@sha256:..." as pulled, or NULL
 * @id: the image ID (config digest) on success
 */
int img_image_commit(struct img_store *s, const char *manifest_digest, const char *platform,
		     json_t *names, const char *repo_digest, char *id, struct cabin_err **err);

#endif
