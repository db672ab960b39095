/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: what a registry (or whoever names an image) hands cabin before any
 * layer: image references (img_ref_parse), the WWW-Authenticate challenge of a 401
 * (img_auth_challenge_param), a token service's answer (img_auth_token_parse), and
 * manifests, image indexes and Docker manifest lists (img_manifest_is_index,
 * img_index_select, img_manifest_parse, img_platform_*). Besides ASan/UBSan and leaks,
 * the target checks what the callers rely on: a parsed reference prints as a name that
 * parses back to the same reference; a challenge value lies within the header; a token
 * has no line break; a parsed manifest has checked digests and bounded sizes.
 *
 * Input: byte 0 selects the parser (mod 4), the rest is its input.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/auth.h"
#include "img/digest.h"
#include "img/manifest.h"
#include "img/ref.h"
#include "lib/error.h"
#include "lib/log.h"

static void must(int cond, const char *what, const char *detail)
{
	if (!cond) {
		fprintf(stderr, "fuzz-registry: FINDING: %s: `%s`\n", what, detail ? detail : "");
		abort();
	}
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void fuzz_ref(const char *s)
{
	struct img_ref r, r2;
	struct cabin_err *err = NULL;
	char *name;

	if (img_ref_parse(s, &r, &err) < 0) {
		must(err != NULL, "reference refused without an error", s);
		cabin_err_release(&err);
		return;
	}
	must(r.registry && *r.registry && r.repo && *r.repo && (r.tag || r.digest),
	     "reference parsed with a part missing", s);
	img_ref_host_is_loopback(r.registry);
	name = img_ref_name(&r);
	/* the normalised name is what is stored and shown: it must mean the same image */
	if (img_ref_parse(name, &r2, &err) < 0) {
		fprintf(stderr, "fuzz-registry: `%s` -> `%s`: %s\n", s, name, cabin_err_msg(err));
		must(0, "the normalised name of a reference does not parse", s);
	}
	must(same(r.registry, r2.registry) && same(r.repo, r2.repo) &&
		     (!r.tag || same(r.tag, r2.tag)) && (r.tag || same(r.digest, r2.digest)),
	     "the normalised name names another image", s);
	free(name);
	img_ref_free(&r);
	img_ref_free(&r2);
}

static void fuzz_challenge(const char *s)
{
	static const char *const keys[] = { "realm", "service", "scope", "error" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = img_auth_challenge_param(s, keys[i]);

		must(!v || (strlen(v) < strlen(s) && strstr(s, v)),
		     "a challenge value that is not in the header", s);
		free(v);
	}
}

static void fuzz_token(const uint8_t *d, size_t n)
{
	char *tok = img_auth_token_parse((const char *)d, n);

	must(!tok || (strlen(tok) <= 16384 && !strpbrk(tok, "\r\n")),
	     "a token that cannot go into a header", tok);
	free(tok);
}

static void check_desc(const struct img_blob_desc *d)
{
	struct cabin_err *err = NULL;

	must(img_digest_check(d->digest, "fuzz", &err) == 0, "a bad digest accepted", d->digest);
	must(d->size >= 0 && d->size <= (1LL << 40), "a size out of range accepted", d->digest);
}

static void fuzz_manifest(const uint8_t *d, size_t n)
{
	static const char *const platforms[] = { "linux/amd64", "linux/arm64/v8", "linux/arm/v7",
						 "windows/amd64" };
	json_t *j = json_loadb((const char *)d, n, 0, NULL);
	struct cabin_err *err = NULL;
	struct img_manifest m;

	if (!j)
		return;
	if (img_manifest_is_index(NULL, j)) {
		for (size_t i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++) {
			struct img_blob_desc bd = { .media_type = NULL };

			if (img_index_select(j, platforms[i], &bd, &err) == 0) {
				check_desc(&bd);
				free(bd.media_type);
			} else {
				must(err != NULL, "index: refused without an error", platforms[i]);
				cabin_err_release(&err);
			}
		}
	}
	if (img_manifest_parse(j, &m, &err) == 0) {
		check_desc(&m.config);
		must(m.nlayers <= 1000, "more layers than the limit", NULL);
		for (size_t i = 0; i < m.nlayers; i++)
			check_desc(&m.layers[i]);
		img_manifest_free(&m);
	} else {
		must(err != NULL && m.layers == NULL && m.nlayers == 0 &&
			     m.config.media_type == NULL,
		     "manifest: refused without an error, or with memory left", NULL);
		cabin_err_release(&err);
	}
	/* an image config's platform, as img_image_commit() checks it */
	for (size_t i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++)
		img_platform_match(j, platforms[i]);
	free(img_platform_string(j));
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	log_set_quiet(1);
	s = malloc(size);
	if (!s)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		fuzz_ref(s);
		break;
	case 1:
		fuzz_challenge(s);
		break;
	case 2:
		fuzz_token(data + 1, size - 1);
		break;
	default:
		fuzz_manifest(data + 1, size - 1);
		break;
	}
	free(s);
	return 0;
}
