/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_IMG_ARCHIVE_H
#define CABIN_IMG_ARCHIVE_H

#include <jansson.h>

struct cabin_err;
struct img_store;

/**
 * img_load() - load the images of a docker-archive, an oci-archive (any compression) or
 * an OCI image layout directory at @path.
 * @loaded: [{"id", "names": [...]}] for each image loaded (caller decrefs)
 */
int img_load(struct img_store *s, const char *path, json_t **loaded, struct cabin_err **err);

#endif
