/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_IMG_REF_H
#define CABIN_IMG_REF_H

struct cabin_err;

/*
 * An image reference as Docker normalises it: `busybox` is
 * `docker.io/library/busybox:latest`, `localhost:5000/app@sha256:...` keeps its registry.
 */
struct img_ref {
	char *registry; /* "docker.io", "localhost:5000" */
	char *repo;	/* "library/busybox" */
	char *tag;	/* "latest" unless a digest alone was given; NULL then */
	char *digest;	/* "sha256:..." or NULL */
};

/**
 * img_ref_parse() - parse and normalise @s; a clear error names what is wrong with it
 * (characters, empty components, a bad tag or digest).
 */
int img_ref_parse(const char *s, struct img_ref *r, struct cabin_err **err);
/** img_ref_free() - free the strings of @r; accepts a zeroed one. */
void img_ref_free(struct img_ref *r);
/** img_ref_name() - "registry/repo:tag" (or "@digest" without a tag); caller frees. */
char *img_ref_name(const struct img_ref *r);
/** img_ref_is_loopback() - is the registry host localhost or a loopback address? */
int img_ref_host_is_loopback(const char *registry);

#define cleanup_ref __attribute__((cleanup(img_ref_free)))

#endif
