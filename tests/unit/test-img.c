/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Image references, digests, platforms and the path checks of the layer extractor. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/digest.h"
#include "img/layer.h"
#include "img/manifest.h"
#include "img/ref.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "unit/tap.h"

static void ref_is(const char *in, const char *want)
{
	struct cabin_err *err = NULL;
	struct img_ref r;
	char *n = NULL;

	if (img_ref_parse(in, &r, &err) == 0) {
		n = img_ref_name(&r);
		img_ref_free(&r);
	}
	tap_ok(n && !strcmp(n, want), "ref `%s` -> `%s` (%s)", in, want,
	       n ? n : cabin_err_msg(err));
	free(n);
	cabin_err_release(&err);
}

static void ref_bad(const char *in)
{
	struct cabin_err *err = NULL;
	struct img_ref r;

	tap_ok(img_ref_parse(in, &r, &err) < 0, "ref `%s` refused: %s", in, cabin_err_msg(err));
	cabin_err_release(&err);
}

static void test_refs(void)
{
	ref_is("busybox", "docker.io/library/busybox:latest");
	ref_is("user/app:1.0", "docker.io/user/app:1.0");
	ref_is("localhost:5000/a/b", "localhost:5000/a/b:latest");
	ref_is("127.0.0.1:5000/x:v1", "127.0.0.1:5000/x:v1");
	ref_is("quay.io/x/y@sha256:"
	       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	       "quay.io/x/"
	       "y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	ref_bad("");
	ref_bad("UPPER/case");
	ref_bad("a/../b");
	ref_bad("x:bad tag");
	{
		/* 250 characters: `library/` made a stored name of 258 that did not parse */
		char longname[251];

		memset(longname, 'a', 250);
		longname[250] = '\0';
		ref_bad(longname);
	}
	{
		/* 511 characters (a host of 310): `:latest` made a stored name of 518 */
		char longname[512];

		memset(longname, 'a', 511);
		memcpy(longname + 300, ".io/", 4);
		longname[511] = '\0';
		ref_bad(longname);
	}
	{
		/* the tag was named from the parse buffer after it had been freed */
		struct cabin_err *err = NULL;
		struct img_ref r;
		int ret = img_ref_parse("x:bad tag", &r, &err);

		tap_ok(ret < 0 && err && strstr(err->msg, "bad tag `bad tag`"),
		       "a bad tag is named in the error (%s)", cabin_err_msg(err));
		cabin_err_release(&err);
	}
	ref_bad("x@sha256:1234");
	ref_bad("127.0.0.1:/x");
	ref_bad("host:99x/x");
	tap_ok(img_ref_host_is_loopback("127.0.0.1:5000") &&
		       img_ref_host_is_loopback("localhost") &&
		       img_ref_host_is_loopback("[::1]:80") &&
		       !img_ref_host_is_loopback("docker.io") &&
		       !img_ref_host_is_loopback("10.0.0.1:5000"),
	       "loopback registries are recognised");
}

static void test_digests(void)
{
	struct cabin_err *err = NULL;
	char d[IMG_DIGEST_LEN];

	img_digest_buf("abc", 3, d);
	tap_ok(!strcmp(d,
		       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	       "sha256 of `abc`");
	tap_ok(img_digest_check(d, "t", &err) == 0, "a well-formed digest passes");
	tap_ok(img_digest_check("sha256:../../etc/passwd", "t", &err) < 0,
	       "a digest cannot be a path: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	tap_ok(img_digest_check("sha512:00", "t", &err) < 0, "other algorithms are refused");
	cabin_err_release(&err);
}

static void test_index(void)
{
	struct cabin_err *err = NULL;
	struct img_blob_desc d;
	json_t *idx = json_loads(
		"{\"manifests\":[{\"digest\":\"sha256:"
		"1111111111111111111111111111111111111111111111111111111111111111\",\"size\":1,"
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
		"{\"digest\":\"sha256:"
		"2222222222222222222222222222222222222222222222222222222222222222\",\"size\":2,"
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
		0, NULL);

	tap_ok(img_index_select(idx, "linux/amd64", &d, &err) == 0 && d.size == 2,
	       "index: linux/amd64 selected");
	free(d.media_type);
	tap_ok(img_index_select(idx, "linux/arm/v7", &d, &err) == 0 && d.size == 1,
	       "index: linux/arm/v7 selected");
	free(d.media_type);
	tap_ok(img_index_select(idx, "linux/arm/v6", &d, &err) < 0 &&
		       strstr(cabin_err_msg(err), "linux/arm/v7, linux/amd64"),
	       "index: a missing platform lists the others: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	json_decref(idx);
}

/* A tar with one entry named @name (and @link as a symlink target when set). */
static int make_tar(const char *path, const char *name, const char *link)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_pax(a);
	archive_write_open_filename(a, path);
	if (link) {
		archive_entry_set_pathname(e, "lnk");
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, link);
		archive_entry_set_perm(e, 0777);
		archive_write_header(a, e);
		archive_entry_clear(e);
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 2);
	archive_write_header(a, e);
	archive_write_data(a, "x\n", 2);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	return 0;
}

static void unpack_refused(const char *name, const char *link, const char *want)
{
	char dir[] = "/tmp/cabin-test-img.XXXXXX";
	struct cabin_err *err = NULL;
	char tar[64], root[64];
	int fd, dfd, ret;

	if (!mkdtemp(dir))
		abort();
	snprintf(tar, sizeof(tar), "%s/l.tar", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	mkdir(root, 0755);
	make_tar(tar, name, link);
	fd = open(tar, O_RDONLY);
	dfd = open(root, O_RDONLY | O_DIRECTORY);
	ret = img_layer_unpack(fd, dfd, NULL, IMG_UNPACK_LAYER, "t", &err);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), want), "entry `%s`%s%s refused: %s", name,
	       link ? " via symlink to " : "", link ? link : "", cabin_err_msg(err));
	cabin_err_release(&err);
	close(fd);
	close(dfd);
	{
		int cfd = open("/tmp", O_RDONLY | O_DIRECTORY);

		fs_rm_rf_at(cfd, dir + 5, &err);
		cabin_err_release(&err);
		close(cfd);
	}
}

/*
 * A layer whose first bytes are grzip's, lrzip's or lzop's magic: libarchive's _all()
 * filters ran that program from PATH on the hostile bytes. Fake ones on PATH leave a
 * mark when run; the unpack must fail without running any.
 */
static void test_no_filter_programs(void)
{
	static const char *const progs[] = { "grzip", "lrzip", "lzop" };
	static const char grz[] = "GRZipII\0\x02\x04:)", lrz[] = "LRZI\0\x06",
			  lzo[] = "\x89LZO\0\r\n\x1a\n\x10\x30\x20\x80\x09\x40";
	static const struct {
		const char *magic;
		size_t len;
	} in[] = { { grz, sizeof(grz) - 1 }, { lrz, sizeof(lrz) - 1 }, { lzo, sizeof(lzo) - 1 } };
	char dir[] = "/tmp/cabin-test-img-path.XXXXXX", path[4096], mark[4200];
	const char *old = getenv("PATH");
	struct cabin_err *err = NULL;
	int ran = 0, refused = 0;
	char *saved = old ? strdup(old) : NULL;

	if (!mkdtemp(dir))
		return;
	snprintf(mark, sizeof(mark), "%s/ran", dir);
	for (size_t i = 0; i < 3; i++) {
		char prog[4200], script[4400];
		FILE *f;

		snprintf(prog, sizeof(prog), "%s/%s", dir, progs[i]);
		snprintf(script, sizeof(script), "#!/bin/sh\necho %s >>%s\ncat >/dev/null\n",
			 progs[i], mark);
		f = fopen(prog, "w");
		if (f) {
			fputs(script, f);
			fclose(f);
		}
		chmod(prog, 0755);
	}
	snprintf(path, sizeof(path), "%s:%s", dir, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	for (size_t i = 0; i < 3; i++) {
		char d[] = "/tmp/cabin-test-img-out.XXXXXX";
		int fd = memfd_create("layer", MFD_CLOEXEC), dfd;
		char junk[1024];

		memset(junk, 'j', sizeof(junk));
		if (fd < 0 || !mkdtemp(d))
			continue;
		fs_write_all(fd, in[i].magic, in[i].len);
		fs_write_all(fd, junk, sizeof(junk));
		lseek(fd, 0, SEEK_SET);
		dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		refused += img_layer_unpack(fd, dfd, NULL, IMG_UNPACK_LAYER, "t", &err) < 0;
		cabin_err_release(&err);
		close(dfd);
		close(fd);
		fs_rm_rf_at(AT_FDCWD, d, NULL);
	}
	ran = access(mark, F_OK) == 0;
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	tap_ok(refused == 3 && !ran,
	       "grzip, lrzip and lzop layers refused without running a program (%d refused%s)",
	       refused, ran ? ", a program ran" : "");
	fs_rm_rf_at(AT_FDCWD, dir, NULL);
}

int main(void)
{
	tap_plan(29);
	test_refs();
	test_digests();
	test_index();
	unpack_refused("../x", NULL, "`..` refused");
	unpack_refused("a/../../x", NULL, "`..` refused");
	unpack_refused("/etc/x", NULL, "absolute name refused");
	unpack_refused("lnk/x", "/", "leaves the layer through a symlink");
	unpack_refused("lnk/x", "../..", "leaves the layer through a symlink");
	test_no_filter_programs();
	return tap_done();
}
