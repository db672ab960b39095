/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "img/digest.h"
#include "lib/error.h"

int img_digest_check(const char *s, const char *what, struct cabin_err **err)
{
	size_t i;

	if (!s)
		return cabin_err_make(err, 0, "%s: digest missing", what);
	if (strncmp(s, "sha256:", 7))
		return cabin_err_make(err, 0, "%s: digest `%.80s` is not sha256", what, s);
	for (i = 7; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			break;
	if (i != 71 || s[i])
		return cabin_err_make(err, 0, "%s: malformed digest `%.80s`", what, s);
	return 0;
}

void img_hash_init(struct img_hash *h)
{
	h->md = EVP_MD_CTX_new();
	if (!h->md || !EVP_DigestInit_ex(h->md, EVP_sha256(), NULL))
		abort();
	h->size = 0;
}

void img_hash_update(struct img_hash *h, const void *buf, size_t len)
{
	EVP_DigestUpdate(h->md, buf, len);
	h->size += len;
}

void img_hash_final(struct img_hash *h, char out[IMG_DIGEST_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->md, md, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	out[71] = '\0';
	img_hash_free(h);
}

void img_hash_free(struct img_hash *h)
{
	if (h->md)
		EVP_MD_CTX_free(h->md);
	h->md = NULL;
}

void img_digest_buf(const void *buf, size_t len, char out[IMG_DIGEST_LEN])
{
	struct img_hash h;

	img_hash_init(&h);
	img_hash_update(&h, buf, len);
	img_hash_final(&h, out);
}

int img_digest_fd(int fd, char out[IMG_DIGEST_LEN], uint64_t *size, struct cabin_err **err)
{
	char buf[65536];
	struct img_hash h;
	ssize_t n;

	img_hash_init(&h);
	while ((n = TEMP_FAILURE_RETRY(read(fd, buf, sizeof(buf)))) > 0)
		img_hash_update(&h, buf, (size_t)n);
	if (n < 0) {
		img_hash_free(&h);
		return cabin_err_make(err, errno, "read");
	}
	if (size)
		*size = h.size;
	img_hash_final(&h, out);
	return 0;
}
