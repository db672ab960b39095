/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "img/digest.h"
#include "img/manifest.h"
#include "img/store.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"

/* No single blob in an image may claim more (1 TiB): sizes come from the registry. */
#define BLOB_SIZE_MAX (1LL << 40)
#define LAYERS_MAX 1000

int img_manifest_is_index(const char *media_type, json_t *j)
{
	const char *mt = json_string_value(json_object_get(j, "mediaType"));

	if (media_type &&
	    (!strcmp(media_type, IMG_MT_OCI_INDEX) || !strcmp(media_type, IMG_MT_DOCKER_LIST)))
		return 1;
	if (mt && (!strcmp(mt, IMG_MT_OCI_INDEX) || !strcmp(mt, IMG_MT_DOCKER_LIST)))
		return 1;
	/* An OCI index may omit mediaType; it has "manifests" where a manifest has "layers". */
	return json_is_array(json_object_get(j, "manifests")) && !json_object_get(j, "layers");
}

static int parse_desc(json_t *d, struct img_blob_desc *out, const char *what,
		      struct cabin_err **err)
{
	const char *digest = json_string_value(json_object_get(d, "digest"));
	json_t *size = json_object_get(d, "size");
	const char *mt = json_string_value(json_object_get(d, "mediaType"));

	if (!json_is_object(d))
		return cabin_err_make(err, 0, "%s: not an object", what);
	if (img_digest_check(digest, what, err) < 0)
		return -1;
	if (!json_is_integer(size) || json_integer_value(size) < 0 ||
	    json_integer_value(size) > BLOB_SIZE_MAX)
		return cabin_err_make(err, 0, "%s: `size` missing or out of range", what);
	memcpy(out->digest, digest, IMG_DIGEST_LEN);
	out->size = json_integer_value(size);
	out->media_type = mt ? xstrdup(mt) : NULL;
	return 0;
}

const char *img_platform_host(void)
{
	static char buf[sizeof(((struct utsname *)0)->machine) + 8];
	struct utsname u;
	const char *arch = "amd64";

	if (buf[0])
		return buf;
	if (uname(&u) == 0) {
		if (!strcmp(u.machine, "aarch64"))
			arch = "arm64";
		else if (!strcmp(u.machine, "i686") || !strcmp(u.machine, "i386"))
			arch = "386";
		else if (!strcmp(u.machine, "x86_64"))
			arch = "amd64";
		else
			arch = u.machine;
	}
	snprintf(buf, sizeof(buf), "linux/%s", arch);
	return buf;
}

int img_platform_match(json_t *p, const char *want)
{
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	const char *var = json_string_value(json_object_get(p, "variant"));
	cleanup_free char *w = xstrdup(want);
	char *wa = strchr(w, '/'), *wv;

	if (!wa || !os || !arch)
		return 0;
	*wa++ = '\0';
	wv = strchr(wa, '/');
	if (wv)
		*wv++ = '\0';
	if (strcmp(os, w) || strcmp(arch, wa))
		return 0;
	return !wv || (var && !strcmp(var, wv));
}

char *img_platform_string(json_t *p)
{
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	const char *var = json_string_value(json_object_get(p, "variant"));

	return xasprintf("%s/%s%s%s", os ? os : "?", arch ? arch : "?", var ? "/" : "",
			 var ? var : "");
}

int img_index_select(json_t *index, const char *platform, struct img_blob_desc *out,
		     struct cabin_err **err)
{
	json_t *ms = json_object_get(index, "manifests"), *d;
	cleanup_free char *have = xstrdup("");
	size_t i;

	if (!json_is_array(ms))
		return cabin_err_make(err, 0, "image index: `manifests` is not an array");
	json_array_foreach(ms, i, d)
	{
		json_t *p = json_object_get(d, "platform");
		char *ps, *nh;

		if (p && img_platform_match(p, platform))
			return parse_desc(d, out, "image index: manifest", err);
		/* attestation manifests (unknown/unknown) are not images */
		ps = img_platform_string(p);
		if (strcmp(ps, "unknown/unknown") && strlen(have) < 1024) {
			nh = xasprintf("%s%s%s", have, *have ? ", " : "", ps);
			free(have);
			have = nh;
		}
		free(ps);
	}
	return cabin_err_make(err, 0, "no image for platform `%s` in the index (it has: %s)",
			      platform, *have ? have : "nothing");
}

void img_manifest_free(struct img_manifest *m)
{
	free(m->config.media_type);
	for (size_t i = 0; i < m->nlayers; i++)
		free(m->layers[i].media_type);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

static int layer_type_ok(const char *mt)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.diff.tar.zstd",
		"application/vnd.docker.image.rootfs.diff.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	};

	if (!mt)
		return 1; /* docker-archive imports: uncompressed */
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(mt, ok[i]))
			return 1;
	return 0;
}

int img_manifest_parse(json_t *j, struct img_manifest *m, struct cabin_err **err)
{
	json_t *layers = json_object_get(j, "layers"), *l;
	json_t *sv = json_object_get(j, "schemaVersion");
	size_t i;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(j))
		return cabin_err_make(err, 0, "manifest: not a JSON object");
	if (json_integer_value(sv) != 2)
		return cabin_err_make(err, 0,
				      "manifest: schemaVersion %lld is not supported (Docker "
				      "schema 2 and OCI only)",
				      (long long)json_integer_value(sv));
	if (parse_desc(json_object_get(j, "config"), &m->config, "manifest: config", err) < 0)
		return -1;
	if (!json_is_array(layers) || json_array_size(layers) > LAYERS_MAX) {
		img_manifest_free(m);
		return cabin_err_make(err, 0, "manifest: `layers` missing or over %d entries",
				      LAYERS_MAX);
	}
	m->layers = xcalloc(json_array_size(layers) + 1, sizeof(*m->layers));
	json_array_foreach(layers, i, l)
	{
		if (parse_desc(l, &m->layers[i], "manifest: layer", err) < 0) {
			m->nlayers = i;
			img_manifest_free(m);
			return -1;
		}
		m->nlayers = i + 1;
		if (!layer_type_ok(m->layers[i].media_type)) {
			cabin_err_make(err, 0, "manifest: layer %zu: media type `%s` not supported",
				       i, m->layers[i].media_type);
			img_manifest_free(m);
			return -1;
		}
	}
	return 0;
}

static char *now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

int img_image_commit(struct img_store *s, const char *manifest_digest, const char *platform,
		     json_t *names, const char *repo_digest, char *id, struct cabin_err **err)
{
	cleanup_free char *mbuf = NULL, *cbuf = NULL, *now = NULL, *plat = NULL;
	struct img_manifest m;
	cleanup_json json_t *mj = NULL, *cj = NULL, *rec = NULL;
	json_t *layers, *diffs, *v;
	json_error_t je;
	size_t mlen, clen, i;
	int64_t total = 0;
	int ret = -1;

	if (img_store_blob_read(s, manifest_digest, IMG_MANIFEST_MAX, &mbuf, &mlen, err) < 0)
		return -1;
	mj = json_loadb(mbuf, mlen, 0, &je);
	if (!mj)
		return cabin_err_make(err, 0, "manifest `%s`: %s", manifest_digest, je.text);
	if (img_manifest_parse(mj, &m, err) < 0)
		return -1;
	if (img_store_blob_read(s, m.config.digest, IMG_MANIFEST_MAX, &cbuf, &clen, err) < 0)
		goto out;
	cj = json_loadb(cbuf, clen, 0, &je);
	if (!json_is_object(cj)) {
		cabin_err_make(err, 0, "image config `%s`: %s", m.config.digest,
			       cj ? "not an object" : je.text);
		goto out;
	}
	plat = img_platform_string(cj);
	if (platform && !img_platform_match(cj, platform)) {
		/* A config without a variant matches a request for any variant of its arch. */
		cleanup_free char *base = xstrdup(platform);
		char *v2 = strchr(base, '/') ? strchr(strchr(base, '/') + 1, '/') : NULL;

		if (v2)
			*v2 = '\0';
		if (!img_platform_match(cj, base)) {
			cabin_err_make(err, 0, "the image is for platform `%s`, not `%s`", plat,
				       platform);
			goto out;
		}
	}
	diffs = json_object_get(json_object_get(cj, "rootfs"), "diff_ids");
	if (!json_is_array(diffs) || json_array_size(diffs) != m.nlayers) {
		cabin_err_make(err, 0,
			       "image config `%s`: %zu rootfs.diff_ids for %zu layers in the "
			       "manifest",
			       m.config.digest, json_array_size(diffs), m.nlayers);
		goto out;
	}
	layers = json_array();
	rec = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", m.config.digest, "manifestDigest",
			manifest_digest, "config", m.config.digest, "platform", plat, "layers",
			layers);
	for (i = 0; i < m.nlayers; i++) {
		const char *di = json_string_value(json_array_get(diffs, i));
		cleanup_free char *what = xasprintf("image config: rootfs.diff_ids[%zu]", i);

		if (img_digest_check(di, what, err) < 0)
			goto out;
		if (!img_store_blob_has(s, m.layers[i].digest, m.layers[i].size)) {
			cabin_err_make(err, 0, "layer `%s` is missing from the store",
				       m.layers[i].digest);
			goto out;
		}
		if (img_store_layer_ensure(s, m.layers[i].digest, di, err) < 0)
			goto out;
		json_array_append_new(layers,
				      json_pack("{s:s,s:I,s:s*,s:s}", "digest", m.layers[i].digest,
						"size", (json_int_t)m.layers[i].size, "mediaType",
						m.layers[i].media_type, "diffID", di));
		total += m.layers[i].size;
	}
	now = now_rfc3339();
	json_object_set_new(rec, "pulled", json_string(now));
	json_object_set_new(rec, "size", json_integer(total + (int64_t)clen));
	v = json_object_get(json_object_get(mj, "config"), "mediaType");
	json_object_set(rec, "configMediaType", v ? v : json_null());
	v = json_object_get(mj, "mediaType");
	json_object_set_new(
		rec, "manifestMediaType",
		json_string(json_string_value(v) ? json_string_value(v) : IMG_MT_OCI_MANIFEST));
	if (repo_digest)
		json_object_set_new(rec, "repoDigests", json_pack("[s]", repo_digest));
	if (img_store_image_put(s, rec, err) < 0)
		goto out;
	json_array_foreach(names, i, v) if (img_store_ref_set(s, json_string_value(v),
							      m.config.digest, err) < 0) goto out;
	memcpy(id, m.config.digest, IMG_DIGEST_LEN);
	ret = 0;
out:
	img_manifest_free(&m);
	return ret;
}
