/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: img_layer_unpack(), the extraction of an image layer (or of a
 * `image load` archive), on hostile tar streams. Each input is unpacked into a fresh
 * directory `a/root` of a sandbox tmpfs (sandbox.h) that also holds canary files; after
 * it, the tmpfs must hold nothing but `canary`, `a/canary` and `a/root`, the canaries
 * unchanged and not hard-linked, and no error may say EROFS (a write that reached the
 * read-only host). A path escape is a finding even when nothing crashes: the target
 * aborts with the entry list so that libFuzzer keeps the input.
 *
 * Input: byte 0 selects: bit 0 raw (the rest is the stream libarchive reads, any
 * compression), else a list of entries that the target writes as a pax tar; bit 1
 * IMG_UNPACK_LAYER (whiteouts); bit 2 IMG_UNPACK_NO_CHOWN; bit 3 check a DiffID (the
 * tar's own digest when built here, a wrong one for raw input).
 * An entry: type, mode (2 bytes), uid, gid, dev major, dev minor, flags (bit 0: pax
 * header, bit 1: an xattr), then name, link target, data and, with bit 1, xattr key and
 * value, each as a length byte and bytes. In names and targets a byte 0xf0-0xff stands
 * for a token of toks[] (`..`, `/`, `.wh.`...), so the interesting shapes are near.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/sandbox.h"
#include "img/digest.h"
#include "img/layer.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"

static int sandbox = -1;
static const char canary_data[] = "canary: nothing may touch this file\n";

static const char *const toks[16] = {
	"..",	"/",   ".wh.",	      ".wh..wh..opq", ".",	"a",	    "b",  "lnk",
	"dir/", "../", "/etc/passwd", "root/",	      "canary", "a/canary", "//", ".wh..wh.plnk",
};

struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned int take(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* A name: a length byte, then bytes, 0xf0-0xff expanding to toks[]. */
static void take_name(struct in *in, char *out, size_t cap)
{
	unsigned int len = take(in);
	size_t w = 0;

	for (unsigned int i = 0; i < len && in->n; i++) {
		unsigned int c = take(in);
		const char *t = c >= 0xf0 ? toks[c - 0xf0] : NULL;
		size_t tl = t ? strlen(t) : 1;

		if (w + tl >= cap)
			break;
		if (t)
			memcpy(out + w, t, tl);
		else
			out[w] = c ? (char)c : 'z';
		w += tl;
	}
	out[w] = '\0';
}

struct tarbuf {
	uint8_t *p;
	size_t len, cap;
};

static void tb_put(struct tarbuf *t, const void *d, size_t n)
{
	if (!n)
		return;
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2;
		t->p = realloc(t->p, t->cap);
		if (!t->p)
			abort();
	}
	memcpy(t->p + t->len, d, n);
	t->len += n;
}

static void tb_pad(struct tarbuf *t)
{
	static const uint8_t zero[512];

	if (t->len % 512)
		tb_put(t, zero, 512 - t->len % 512);
}

/* A ustar header; the name and link fields are cut at their size (pax carries the rest). */
static void tb_header(struct tarbuf *t, const char *name, const char *link, char type,
		      unsigned int mode, unsigned int uid, unsigned int gid, size_t size,
		      unsigned int maj, unsigned int min)
{
	uint8_t h[512];
	unsigned int sum = 0;

	memset(h, 0, sizeof(h));
	memcpy(h, name, strnlen(name, 100));
	snprintf((char *)h + 100, 8, "%07o", mode & 07777);
	snprintf((char *)h + 108, 8, "%07o", uid);
	snprintf((char *)h + 116, 8, "%07o", gid);
	snprintf((char *)h + 124, 12, "%011zo", size);
	snprintf((char *)h + 136, 12, "%011o", 1700000000u);
	memset(h + 148, ' ', 8);
	h[156] = (uint8_t)type;
	memcpy(h + 157, link, strnlen(link, 100));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	snprintf((char *)h + 329, 8, "%07o", maj);
	snprintf((char *)h + 337, 8, "%07o", min);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	tb_put(t, h, sizeof(h));
}

/* One pax record "LEN key=value\n", LEN counting itself. */
static void pax_rec(struct tarbuf *x, const char *key, const void *val, size_t vlen)
{
	size_t body = strlen(key) + vlen + 3, len = body + 1;
	char num[24];

	while (snprintf(num, sizeof(num), "%zu", len), strlen(num) + body != len)
		len = strlen(num) + body;
	tb_put(x, num, strlen(num));
	tb_put(x, " ", 1);
	tb_put(x, key, strlen(key));
	tb_put(x, "=", 1);
	tb_put(x, val, vlen);
	tb_put(x, "\n", 1);
}

static const char types[8] = { '0', '5', '2', '1', '3', '4', '6', '0' };

static void build_tar(struct in *in, struct tarbuf *t)
{
	for (int n = 0; in->n && n < 64; n++) {
		char name[512], link[512], key[64];
		uint8_t data[256], val[64];
		unsigned int ty = take(in) & 7, mode, uid, gid, maj, min, fl, dlen, klen, vlen;

		mode = take(in) << 8;
		mode |= take(in);
		uid = take(in);
		gid = take(in);
		maj = take(in);
		min = take(in);
		fl = take(in);
		take_name(in, name, sizeof(name));
		take_name(in, link, sizeof(link));
		dlen = take(in);
		for (unsigned int i = 0; i < dlen; i++)
			data[i] = (uint8_t)take(in);
		if (types[ty] != '0')
			dlen = 0;
		klen = vlen = 0;
		if (fl & 2) {
			klen = take(in) % 40;
			for (unsigned int i = 0; i < klen; i++)
				key[i] = (char)(take(in) | 1);
			key[klen] = '\0';
			vlen = take(in) % sizeof(val);
			for (unsigned int i = 0; i < vlen; i++)
				val[i] = (uint8_t)take(in);
		}
		if ((fl & 1) || strlen(name) >= 100 || strlen(link) >= 100 || klen) {
			struct tarbuf x = { 0 };
			char xkey[80];

			pax_rec(&x, "path", name, strlen(name));
			if (*link)
				pax_rec(&x, "linkpath", link, strlen(link));
			if (klen) {
				snprintf(xkey, sizeof(xkey), "SCHILY.xattr.%s", key);
				pax_rec(&x, xkey, val, vlen);
			}
			tb_header(t, "PaxHeader", "", 'x', 0644, 0, 0, x.len, 0, 0);
			tb_put(t, x.p, x.len);
			tb_pad(t);
			free(x.p);
		}
		tb_header(t, name, link, types[ty], mode, uid, gid, dlen, maj, min);
		tb_put(t, data, dlen);
		tb_pad(t);
	}
	tb_put(t, (uint8_t[1024]){ 0 }, 1024);
}

static void must(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-layer: FINDING: %s\n", what);
		abort();
	}
}

static void put_canary(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0 || fs_write_all(fd, canary_data, sizeof(canary_data) - 1) < 0)
		abort();
	close(fd);
}

static void check_canary(int dfd, const char *name)
{
	char buf[sizeof(canary_data)];
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	must(fd >= 0 && fstat(fd, &st) == 0, "a canary is gone or replaced");
	must(S_ISREG(st.st_mode) && st.st_nlink == 1 && (st.st_mode & 07777) == 0644 &&
		     st.st_uid == 0 && n == (ssize_t)sizeof(canary_data) - 1 &&
		     !memcmp(buf, canary_data, (size_t)n),
	     "a canary was changed or hard-linked");
	close(fd);
}

/* The directory @dfd holds exactly @names (NULL-terminated). */
static void check_only(int dfd, const char *const *names, const char *where)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	char msg[512];

	must(d != NULL, "cannot list the sandbox");
	while ((de = readdir(d))) {
		int known = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");

		for (int i = 0; names[i] && !known; i++)
			known = !strcmp(de->d_name, names[i]);
		snprintf(msg, sizeof(msg), "`%s` appeared in %s, outside the layer directory",
			 de->d_name, where);
		must(known, msg);
	}
	closedir(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int mfd = fuzz_sandbox_init(*argc, *argv);

	/* O_PATH from fsmount(): a real directory fd for the unpacking and the checks */
	sandbox = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(mfd);
	if (sandbox < 0 || mkdirat(sandbox, "a", 0755) < 0)
		abort();
	put_canary(sandbox, "canary");
	put_canary(sandbox, "a/canary");
	log_set_quiet(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	unsigned int mode = take(&in), flags = 0;
	struct tarbuf t = { 0 };
	struct cabin_err *err = NULL;
	char diff[IMG_DIGEST_LEN];
	int fd, root, adir, ret;

	if (mode & 1)
		tb_put(&t, in.p, in.n);
	else
		build_tar(&in, &t);
	if (mode & 2)
		flags |= IMG_UNPACK_LAYER;
	if (mode & 4)
		flags |= IMG_UNPACK_NO_CHOWN;
	if (mode & 1)
		memcpy(diff,
		       "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		       IMG_DIGEST_LEN);
	else
		img_digest_buf(t.p ? (const char *)t.p : "", t.len, diff);

	fd = memfd_create("layer", MFD_CLOEXEC);
	if (fd < 0 || (t.len && fs_write_all(fd, t.p, t.len) < 0) || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	free(t.p);
	if (mkdirat(sandbox, "a/root", 0755) < 0)
		abort();
	root = openat(sandbox, "a/root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		abort();
	ret = img_layer_unpack(fd, root, (mode & 8) ? diff : NULL, flags, "layer", &err);
	if (ret < 0) {
		must(err != NULL, "an error without a message");
		const char *msg = cabin_err_msg(err), *ro = ": Read-only file system";

		/* the errno text ends the message; a name is in backticks */
		must(err->status != EROFS && (strlen(msg) < strlen(ro) ||
					      strcmp(msg + strlen(msg) - strlen(ro), ro)),
		     msg);
	} else {
		must(err == NULL, "success with an error set");
	}
	if (getenv("CABIN_FUZZ_DEBUG"))
		fprintf(stderr, "unpack: %s\n", ret < 0 ? cabin_err_msg(err) : "ok");
	cabin_err_release(&err);
	close(root);
	close(fd);

	check_only(sandbox, (const char *const[]){ "canary", "a", NULL }, "the sandbox root");
	adir = openat(sandbox, "a", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	must(adir >= 0, "`a` is gone or replaced");
	check_only(adir, (const char *const[]){ "root", "canary", NULL }, "a/");
	close(adir);
	check_canary(sandbox, "canary");
	check_canary(sandbox, "a/canary");
	if (fs_rm_rf_at(sandbox, "a/root", &err) < 0) {
		fprintf(stderr, "fuzz-layer: %s\n", cabin_err_msg(err));
		abort();
	}
	return 0;
}
