/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_IMG_DIGEST_H
#define CABIN_IMG_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct cabin_err;

/* "sha256:" + 64 hex digits + NUL */
#define IMG_DIGEST_LEN 72

/* A running SHA-256 (OpenSSL libcrypto's EVP interface). */
struct img_hash {
	void *md; /* EVP_MD_CTX */
	uint64_t size;
};

/**
 * img_digest_check() - is @s a digest cabin accepts: `sha256:` and 64 lowercase hex digits?
 * Everything that names a file in the store passes through here first, so a digest
 * read from a manifest can never become a path with `/` or `..` in it.
 */
int img_digest_check(const char *s, const char *what, struct cabin_err **err);

/** img_digest_hex() - the 64 hex digits of a checked digest. */
static inline const char *img_digest_hex(const char *digest)
{
	return digest + 7;
}

/** img_hash_init() - start a hash; aborts on OOM. */
void img_hash_init(struct img_hash *h);
/** img_hash_update() - add @len bytes. */
void img_hash_update(struct img_hash *h, const void *buf, size_t len);
/** img_hash_final() - the digest as "sha256:<hex>" into @out; frees the context. */
void img_hash_final(struct img_hash *h, char out[IMG_DIGEST_LEN]);
/** img_hash_free() - drop an unfinished hash; accepts a finished one. */
void img_hash_free(struct img_hash *h);

/** img_digest_buf() - the digest of @len bytes at @buf. */
void img_digest_buf(const void *buf, size_t len, char out[IMG_DIGEST_LEN]);

/**
 * img_digest_fd() - hash from the current offset of @fd to its end.
 * @size: bytes hashed, or NULL
 */
int img_digest_fd(int fd, char out[IMG_DIGEST_LEN], uint64_t *size, struct cabin_err **err);

#endif
