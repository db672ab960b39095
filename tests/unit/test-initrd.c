/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-initrd: the cpio newc writer byte for byte, .modinfo parsing (also of
 * malformed files), module dependency order and a whole initramfs. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/fs.h"
#include "lib/strv.h"
#include "tap.h"
#include "vm/initrd.h"

static char tmpdir[] = "/tmp/cabin-test-initrd.XXXXXX";

/* Everything written to @fd so far. */
static size_t slurp(int fd, char *buf, size_t max)
{
	ssize_t n = pread(fd, buf, max, 0);

	return n < 0 ? 0 : (size_t)n;
}

static void hdr(char *out, unsigned ino, unsigned mode, unsigned nlink, unsigned size,
		unsigned rmaj, unsigned rmin, unsigned namesize)
{
	snprintf(out, 111, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, mode,
		 0u, 0u, nlink, 0u, size, 0u, 0u, rmaj, rmin, namesize, 0u);
}

static void test_cpio_bytes(void)
{
	struct cabin_err *err = NULL;
	struct vm_cpio c;
	char got[2048], want[2048];
	size_t n, w = 0;
	int fd = memfd_create("cpio", MFD_CLOEXEC);
	int ret;

	vm_cpio_init(&c, fd);
	ret = vm_cpio_add(&c, "/a/b", S_IFREG | 0644, "xyz", 3, 0, 0, &err);
	ret |= vm_cpio_add(&c, "a/dev", S_IFCHR | 0600, NULL, 0, 5, 1, &err);
	ret |= vm_cpio_add(&c, "a", S_IFDIR | 0755, NULL, 0, 0, 0, &err); /* already there */
	ret |= vm_cpio_finish(&c, &err);
	tap_ok(ret == 0, "cpio entries written");
	vm_cpio_release(&c);

	/* "a" (parent, added first): 110 + 2 name bytes = 112, aligned. */
	hdr(want + w, 1, 040755, 2, 0, 0, 0, 2);
	w += 110;
	memcpy(want + w, "a\0", 2);
	w += 2;
	/* "a/b": 110 + 4 = 114 -> pad to 116, data 3 -> pad to 120. */
	hdr(want + w, 2, 0100644, 1, 3, 0, 0, 4);
	w += 110;
	memcpy(want + w, "a/b\0\0\0xyz\0", 10);
	w += 10;
	/* "a/dev": character device 5:1, 110 + 6 = 116. */
	hdr(want + w, 3, 020600, 1, 0, 5, 1, 6);
	w += 110;
	memcpy(want + w, "a/dev\0", 6);
	w += 6;
	/* trailer: ino 0, nlink 1, 110 + 11 = 121 -> 124, then zeros to 512. */
	hdr(want + w, 0, 0, 1, 0, 0, 0, 11);
	w += 110;
	memcpy(want + w, "TRAILER!!!\0\0\0\0", 14);
	w += 14;
	memset(want + w, 0, 512 - w);
	w = 512;

	n = slurp(fd, got, sizeof(got));
	tap_ok(n == 512, "archive padded to 512 bytes (got %zu)", n);
	tap_ok(n == w && !memcmp(got, want, w), "newc headers, names, data and padding exact");
	tap_ok(!memcmp(got, "070701", 6), "newc magic");
	close(fd);

	fd = memfd_create("cpio", MFD_CLOEXEC);
	vm_cpio_init(&c, fd);
	ret = vm_cpio_add(&c, "../etc/passwd", S_IFREG | 0644, "x", 1, 0, 0, &err);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), "../etc/passwd"), "`..` in a path refused: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);
	ret = vm_cpio_add(&c, "/", S_IFDIR | 0755, NULL, 0, 0, 0, &err);
	tap_ok(ret < 0, "empty path refused");
	cabin_err_release(&err);
	vm_cpio_release(&c);
	close(fd);
}

/* A minimal ELF64 relocatable object: sections null, .modinfo, .shstrtab. */
static size_t make_ko(unsigned char *b, size_t max, const char *modinfo, size_t milen)
{
	static const char shstr[] = "\0.modinfo\0.shstrtab";
	size_t mi_off = 64, ss_off = mi_off + milen, sh_off = (ss_off + sizeof(shstr) + 7) & ~7ul;
	size_t total = sh_off + 3 * 64;
	unsigned char *sh;

	if (total > max)
		return 0;
	memset(b, 0, total);
	memcpy(b, "\177ELF\2\1\1", 7);
	b[0x10] = 1;  /* ET_REL */
	b[0x12] = 62; /* EM_X86_64 */
	memcpy(b + 0x28, &sh_off, 8);
	b[0x34] = 64; /* e_ehsize */
	b[0x3a] = 64; /* e_shentsize */
	b[0x3c] = 3;  /* e_shnum */
	b[0x3e] = 2;  /* e_shstrndx */
	memcpy(b + mi_off, modinfo, milen);
	memcpy(b + ss_off, shstr, sizeof(shstr));
	sh = b + sh_off + 64; /* .modinfo */
	sh[0] = 1;
	sh[4] = 1; /* SHT_PROGBITS */
	memcpy(sh + 24, &mi_off, 8);
	memcpy(sh + 32, &milen, 8);
	sh = b + sh_off + 128; /* .shstrtab */
	sh[0] = 10;
	sh[4] = 3; /* SHT_STRTAB */
	memcpy(sh + 24, &ss_off, 8);
	{
		size_t l = sizeof(shstr);
		memcpy(sh + 32, &l, 8);
	}
	return total;
}

static void test_modinfo(void)
{
	static const char mi[] = "license=GPL\0depends=virtio,virtio_ring\0name=virtio_blk";
	unsigned char b[1024];
	size_t n = make_ko(b, sizeof(b), mi, sizeof(mi));
	const char *v;
	uint64_t bad;

	v = vm_modinfo_get(b, n, "depends");
	tap_ok(v && !strcmp(v, "virtio,virtio_ring"), "modinfo depends= (got %s)", v ? v : "NULL");
	v = vm_modinfo_get(b, n, "name");
	tap_ok(v && !strcmp(v, "virtio_blk"), "modinfo name=, last string");
	tap_ok(vm_modinfo_get(b, n, "dep") == NULL, "a key prefix is not a key");
	tap_ok(vm_modinfo_get(b, n, "alias") == NULL, "missing key");
	tap_ok(vm_modinfo_get(b, 63, "depends") == NULL, "truncated header refused");
	tap_ok(vm_modinfo_get(b, n - 1, "depends") == NULL, "truncated section table refused");

	/* .modinfo pointing past the end of the file */
	bad = 1u << 30;
	memcpy(b + ((64 + sizeof(mi) + 20 + 7) & ~7ul) + 64 + 24, &bad, 8);
	tap_ok(vm_modinfo_get(b, n, "depends") == NULL, "out-of-range section offset refused");

	/* a .modinfo whose last string has no NUL and no match */
	n = make_ko(b, sizeof(b), "depends", 7);
	tap_ok(vm_modinfo_get(b, n, "depends") == NULL, "unterminated string refused");
	b[5] = 2; /* big-endian */
	tap_ok(vm_modinfo_get(b, n, "depends") == NULL, "big-endian ELF refused");
}

static int write_ko(const char *dir, const char *rel, const char *modinfo, size_t milen)
{
	unsigned char b[1024];
	size_t n = make_ko(b, sizeof(b), modinfo, milen);
	char path[512];
	struct cabin_err *err = NULL;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	*strrchr(path, '/') = '\0';
	fs_mkdir_p(path, 0755, &err);
	cabin_err_release(&err);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ret = fs_write_all(fd, b, n);
	close(fd);
	return ret;
}

#define KO(dir, rel, s) write_ko(dir, rel, s, sizeof(s))

static void test_modules(void)
{
	struct cabin_err *err = NULL;
	char mods[600];
	char **order = NULL;
	int n;

	snprintf(mods, sizeof(mods), "%s/lib/modules/9.9.9-test", tmpdir);
	/* virtio_blk -> virtio, virtio_ring; virtio -> virtio_ring; vsock transport -> vsock
	 * (with '-' in the file name); virtio_net needs net_failover, which is built in. */
	KO(mods, "kernel/drivers/block/virtio_blk.ko", "depends=virtio,virtio_ring");
	KO(mods, "kernel/drivers/virtio/virtio.ko", "depends=virtio_ring");
	KO(mods, "kernel/drivers/virtio/virtio_ring.ko", "depends=");
	KO(mods, "kernel/drivers/net/virtio_net.ko", "depends=net_failover");
	KO(mods, "kernel/net/vmw-vsock-virtio-transport.ko", "depends=vsock");
	KO(mods, "kernel/net/vsock.ko", "license=GPL");
	KO(mods, "kernel/drivers/unrelated.ko", "depends=");
	{
		char path[700];
		snprintf(path, sizeof(path), "%s/modules.builtin", mods);
		FILE *f = fopen(path, "w");
		if (f) {
			fputs("kernel/drivers/net/net_failover.ko\n", f);
			fclose(f);
		}
	}
	n = vm_initrd_modules(mods, vm_initrd_default_modules, &order, &err);
	tap_ok(n == 6, "6 modules resolved (got %d: %s)", n, n < 0 ? cabin_err_msg(err) : "");
	if (n == 6) {
		const char *want[] = {
			"kernel/drivers/virtio/virtio_ring.ko",
			"kernel/drivers/virtio/virtio.ko",
			"kernel/drivers/block/virtio_blk.ko",
			"kernel/drivers/net/virtio_net.ko",
			"kernel/net/vsock.ko",
			"kernel/net/vmw-vsock-virtio-transport.ko",
		};
		int same = 1;
		for (int i = 0; i < 6; i++)
			same &= !strcmp(order[i], want[i]);
		tap_ok(same, "each module after its dependencies, each once, in request order");
	} else {
		tap_ok(0, "module order");
	}
	strv_free(order);
	order = NULL;
	cabin_err_release(&err);

	/* A dependency that is neither a file nor built in is an error naming it. */
	KO(mods, "kernel/drivers/char/virtio_console.ko", "depends=virtio,missing_mod");
	n = vm_initrd_modules(mods, vm_initrd_default_modules, &order, &err);
	tap_ok(n < 0 && strstr(cabin_err_msg(err), "`missing_mod`"), "missing dependency: %s",
	       n < 0 ? cabin_err_msg(err) : "accepted");
	cabin_err_release(&err);
	strv_free(order);
	order = NULL;

	/* Dependency loops end. */
	KO(mods, "kernel/drivers/char/virtio_console.ko", "depends=virtio_console");
	n = vm_initrd_modules(mods, vm_initrd_default_modules, &order, &err);
	tap_ok(n == 7, "a module depending on itself is listed once (got %d)", n);
	cabin_err_release(&err);
	strv_free(order);
}

static void test_build(void)
{
	struct cabin_err *err = NULL;
	char out[600], init[600], mods[600], extra[700];
	char *extras[] = { extra, NULL };
	char *buf = NULL;
	size_t len = 0;
	int ret;

	snprintf(out, sizeof(out), "%s/initrd.cpio", tmpdir);
	snprintf(init, sizeof(init), "%s/init", tmpdir);
	snprintf(mods, sizeof(mods), "%s/lib/modules/9.9.9-test/", tmpdir);
	snprintf(extra, sizeof(extra), "%s/init:/sbin/busybox", tmpdir);
	{
		FILE *f = fopen(init, "w");
		if (f) {
			fputs("#!/bin/sh\necho init\n", f);
			fclose(f);
		}
		chmod(init, 0755);
	}
	ret = vm_initrd_build(out, init, mods, extras, &err);
	tap_ok(ret == 0, "initramfs built (%s)", ret < 0 ? cabin_err_msg(err) : "ok");
	cabin_err_release(&err);
	ret = fs_read_file(out, 1 << 24, &buf, &len, &err);
	tap_ok(ret == 0 && len % 512 == 0 && len > 0, "archive is a multiple of 512 bytes");
	if (buf) {
		tap_ok(memmem(buf, len, "init\0", 5) != NULL, "has /init");
		tap_ok(memmem(buf, len, "dev/console\0", 12) != NULL, "has /dev/console");
		tap_ok(memmem(buf, len,
			      "lib/modules/9.9.9-test/kernel/drivers/virtio/virtio_ring.ko\0",
			      60) != NULL,
		       "modules under /lib/modules/<release>/");
		tap_ok(memmem(buf, len,
			      "kernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/"
			      "virtio.ko\n",
			      69) != NULL,
		       "cabin.load lists modules in load order");
		tap_ok(memmem(buf, len, "sbin/sh\0", 8) != NULL, "busybox applet links");
	} else {
		for (int i = 0; i < 5; i++)
			tap_ok(0, "archive readable");
	}
	free(buf);
	buf = NULL;
	cabin_err_release(&err);

	{
		static const char *const only[] = { "virtio-blk", NULL };
		const struct vm_initrd_opts o = {
			.init_path = init,
			.modules_dir = mods,
			.modules = only,
		};
		ret = vm_initrd_build_opts(out, &o, &err);
		buf = NULL;
		if (ret == 0)
			fs_read_file(out, 1 << 24, &buf, &len, &err);
		tap_ok(ret == 0 && buf &&
			       memmem(buf, len,
				      "kernel/drivers/virtio/virtio_ring.ko\n"
				      "kernel/drivers/virtio/virtio.ko\n"
				      "kernel/drivers/block/virtio_blk.ko\n",
				      104) &&
			       !memmem(buf, len, "vsock", 5),
		       "chosen module list: only virtio_blk and its dependencies");
		free(buf);
		buf = NULL;
		cabin_err_release(&err);
	}

	ret = vm_initrd_build(out, "/nonexistent/init", NULL, NULL, &err);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), "/nonexistent/init"),
	       "missing init reported: %s", ret < 0 ? cabin_err_msg(err) : "accepted");
	cabin_err_release(&err);
}

int main(void)
{
	tap_plan(28);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_cpio_bytes();
	test_modinfo();
	test_modules();
	test_build();
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", tmpdir);
	}
	return tap_failed ? 1 : 0;
}
