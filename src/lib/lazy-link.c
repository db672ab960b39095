/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Libraries that only some commands need are loaded on their first call, not at every
 * start. Linked normally, libcurl (with its TLS, Kerberos, LDAP, IDN and PSL libraries),
 * libarchive, libcrypto and libnftables (with libxml2, ICU, libstdc++, GMP...) made the
 * dynamic loader map about 50 libraries into every `cabin create` and `cabin state`: more
 * time than the whole container start, and four times crun's peak memory. libmnl, small as
 * it is, still cost every start an open, five mmaps and its relocations (about 70 us of
 * CPU here, a percent of a container start); only container and microVM networking use it.
 *
 * Each function of those libraries that cabin calls is defined here as a trampoline that
 * jumps through a pointer. The pointer starts at a stub that saves the argument registers
 * (integer and vector: several of these functions are variadic), asks lazy_resolve() for
 * the real address (dlopen of the library on first use, then dlsym) and jumps there; the
 * pointer then holds the real address and later calls cost one indirect jump. The list of
 * functions is what the binary imports: a new call to another function of these
 * libraries fails to link until it is added here (`nm -D --undefined-only cabin`).
 *
 * x86-64 only (the trampolines are assembly); elsewhere, or with LAZY_LIBS=0, the
 * libraries are linked as usual and this file is empty.
 */
#if defined(__x86_64__) && defined(CABIN_LAZY_LIBS)
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum lazy_lib { LAZY_CURL, LAZY_ARCHIVE, LAZY_CRYPTO, LAZY_NFT, LAZY_MNL, LAZY_NLIBS };

/* sonames: what pkg-config --libs links against on Debian 12 and its peers */
static const char *const lazy_sonames[LAZY_NLIBS] = {
	[LAZY_CURL] = "libcurl.so.4",	     /* image pulls */
	[LAZY_ARCHIVE] = "libarchive.so.13", /* layers, image load */
	[LAZY_CRYPTO] = "libcrypto.so.3",    /* digests */
	[LAZY_NFT] = "libnftables.so.1",     /* NAT, published ports */
	[LAZY_MNL] = "libmnl.so.0",	     /* links, addresses, routes */
};

/* ptr must stay the first member: the trampoline jumps through the symbol's address */
struct lazy_sym {
	void *ptr;
	const char *name;
	enum lazy_lib lib;
};

void *lazy_resolve(struct lazy_sym *s) __attribute__((visibility("hidden"), used));

/*
 * Called from the stubs below with the argument registers saved. A library that cannot be
 * loaded is what a missing library would have been at start-up: the process cannot go on
 * (there is no way to return an error through a call the caller made to curl or libarchive).
 */
void *lazy_resolve(struct lazy_sym *s)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static void *handles[LAZY_NLIBS];
	void *p;

	pthread_mutex_lock(&lock);
	if (!handles[s->lib])
		handles[s->lib] = dlopen(lazy_sonames[s->lib], RTLD_NOW | RTLD_LOCAL);
	if (!handles[s->lib]) {
		fprintf(stderr, "cabin: load %s: %s\n", lazy_sonames[s->lib], dlerror());
		abort();
	}
	p = dlsym(handles[s->lib], s->name);
	if (!p) {
		fprintf(stderr, "cabin: %s: no `%s`: %s\n", lazy_sonames[s->lib], s->name,
			dlerror());
		abort();
	}
	__atomic_store_n(&s->ptr, p, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&lock);
	return p;
}

/*
 * The common stub: entered by a jmp from a function's stub with %r11 = its struct lazy_sym,
 * and the stack as the caller left it (8 mod 16). Seven pushes and 128 bytes of vector
 * registers keep the call to lazy_resolve 16-byte aligned.
 */
__asm__(".text\n"
	".p2align 4\n"
	"lazy_common:\n"
	"\tpush %rdi\n\tpush %rsi\n\tpush %rdx\n\tpush %rcx\n"
	"\tpush %r8\n\tpush %r9\n\tpush %rax\n"
	"\tsub $128, %rsp\n"
	"\tmovdqu %xmm0, 0(%rsp)\n\tmovdqu %xmm1, 16(%rsp)\n"
	"\tmovdqu %xmm2, 32(%rsp)\n\tmovdqu %xmm3, 48(%rsp)\n"
	"\tmovdqu %xmm4, 64(%rsp)\n\tmovdqu %xmm5, 80(%rsp)\n"
	"\tmovdqu %xmm6, 96(%rsp)\n\tmovdqu %xmm7, 112(%rsp)\n"
	"\tmov %r11, %rdi\n"
	"\tcall lazy_resolve\n"
	"\tmov %rax, %r11\n"
	"\tmovdqu 0(%rsp), %xmm0\n\tmovdqu 16(%rsp), %xmm1\n"
	"\tmovdqu 32(%rsp), %xmm2\n\tmovdqu 48(%rsp), %xmm3\n"
	"\tmovdqu 64(%rsp), %xmm4\n\tmovdqu 80(%rsp), %xmm5\n"
	"\tmovdqu 96(%rsp), %xmm6\n\tmovdqu 112(%rsp), %xmm7\n"
	"\tadd $128, %rsp\n"
	"\tpop %rax\n\tpop %r9\n\tpop %r8\n\tpop %rcx\n"
	"\tpop %rdx\n\tpop %rsi\n\tpop %rdi\n"
	"\tjmp *%r11\n");

/* name: jmp through lazy_sym_name.ptr; lazy_stub_name: the first call, to lazy_common */
#define LAZY(lib, name)                                                                            \
	extern char lazy_stub_##name[];                                                            \
	static struct lazy_sym lazy_sym_##name                                                     \
		__attribute__((used)) = { lazy_stub_##name, #name, lib };                          \
	__asm__(".text\n"                                                                          \
		".globl " #name "\n"                                                               \
		".type " #name ", @function\n" #name ":\n"                                         \
		"\tjmp *lazy_sym_" #name "(%rip)\n"                                                \
		"lazy_stub_" #name ":\n"                                                           \
		"\tleaq lazy_sym_" #name "(%rip), %r11\n"                                          \
		"\tjmp lazy_common\n")

/* libcurl.so.4 */
LAZY(LAZY_CURL, curl_easy_cleanup);
LAZY(LAZY_CURL, curl_easy_escape);
LAZY(LAZY_CURL, curl_easy_getinfo);
LAZY(LAZY_CURL, curl_easy_init);
LAZY(LAZY_CURL, curl_easy_perform);
LAZY(LAZY_CURL, curl_easy_setopt);
LAZY(LAZY_CURL, curl_easy_strerror);
LAZY(LAZY_CURL, curl_global_init);
LAZY(LAZY_CURL, curl_multi_add_handle);
LAZY(LAZY_CURL, curl_multi_cleanup);
LAZY(LAZY_CURL, curl_multi_info_read);
LAZY(LAZY_CURL, curl_multi_init);
LAZY(LAZY_CURL, curl_multi_perform);
LAZY(LAZY_CURL, curl_multi_poll);
LAZY(LAZY_CURL, curl_multi_remove_handle);
LAZY(LAZY_CURL, curl_multi_setopt);
LAZY(LAZY_CURL, curl_slist_append);
LAZY(LAZY_CURL, curl_slist_free_all);

/* libarchive.so.13 */
LAZY(LAZY_ARCHIVE, archive_entry_filetype);
LAZY(LAZY_ARCHIVE, archive_entry_gid);
LAZY(LAZY_ARCHIVE, archive_entry_hardlink);
LAZY(LAZY_ARCHIVE, archive_entry_mtime);
LAZY(LAZY_ARCHIVE, archive_entry_mtime_is_set);
LAZY(LAZY_ARCHIVE, archive_entry_mtime_nsec);
LAZY(LAZY_ARCHIVE, archive_entry_pathname);
LAZY(LAZY_ARCHIVE, archive_entry_perm);
LAZY(LAZY_ARCHIVE, archive_entry_rdev);
LAZY(LAZY_ARCHIVE, archive_entry_size);
LAZY(LAZY_ARCHIVE, archive_entry_size_is_set);
LAZY(LAZY_ARCHIVE, archive_entry_symlink);
LAZY(LAZY_ARCHIVE, archive_entry_uid);
LAZY(LAZY_ARCHIVE, archive_entry_xattr_next);
LAZY(LAZY_ARCHIVE, archive_entry_xattr_reset);
LAZY(LAZY_ARCHIVE, archive_errno);
LAZY(LAZY_ARCHIVE, archive_error_string);
LAZY(LAZY_ARCHIVE, archive_read_data);
LAZY(LAZY_ARCHIVE, archive_read_data_block);
LAZY(LAZY_ARCHIVE, archive_read_free);
LAZY(LAZY_ARCHIVE, archive_read_new);
LAZY(LAZY_ARCHIVE, archive_read_next_header);
LAZY(LAZY_ARCHIVE, archive_read_open);
LAZY(LAZY_ARCHIVE, archive_read_open_fd);
LAZY(LAZY_ARCHIVE, archive_read_support_filter_bzip2);
LAZY(LAZY_ARCHIVE, archive_read_support_filter_gzip);
LAZY(LAZY_ARCHIVE, archive_read_support_filter_lzma);
LAZY(LAZY_ARCHIVE, archive_read_support_filter_xz);
LAZY(LAZY_ARCHIVE, archive_read_support_filter_zstd);
LAZY(LAZY_ARCHIVE, archive_read_support_format_gnutar);
LAZY(LAZY_ARCHIVE, archive_read_support_format_raw);
LAZY(LAZY_ARCHIVE, archive_read_support_format_tar);
LAZY(LAZY_ARCHIVE, archive_set_error);

/* libcrypto.so.3 */
LAZY(LAZY_CRYPTO, EVP_DecodeBlock);
LAZY(LAZY_CRYPTO, EVP_DigestFinal_ex);
LAZY(LAZY_CRYPTO, EVP_DigestInit_ex);
LAZY(LAZY_CRYPTO, EVP_DigestUpdate);
LAZY(LAZY_CRYPTO, EVP_EncodeBlock);
LAZY(LAZY_CRYPTO, EVP_MD_CTX_free);
LAZY(LAZY_CRYPTO, EVP_MD_CTX_new);
LAZY(LAZY_CRYPTO, EVP_sha256);

/* libnftables.so.1 */
LAZY(LAZY_NFT, nft_ctx_buffer_error);
LAZY(LAZY_NFT, nft_ctx_buffer_output);
LAZY(LAZY_NFT, nft_ctx_free);
LAZY(LAZY_NFT, nft_ctx_get_error_buffer);
LAZY(LAZY_NFT, nft_ctx_new);
LAZY(LAZY_NFT, nft_run_cmd_from_buffer);

/* libmnl.so.0 */
LAZY(LAZY_MNL, mnl_attr_get_payload);
LAZY(LAZY_MNL, mnl_attr_get_payload_len);
LAZY(LAZY_MNL, mnl_attr_get_type);
LAZY(LAZY_MNL, mnl_attr_get_u32);
LAZY(LAZY_MNL, mnl_attr_nest_end);
LAZY(LAZY_MNL, mnl_attr_nest_start);
LAZY(LAZY_MNL, mnl_attr_next);
LAZY(LAZY_MNL, mnl_attr_ok);
LAZY(LAZY_MNL, mnl_attr_put);
LAZY(LAZY_MNL, mnl_attr_put_strz);
LAZY(LAZY_MNL, mnl_attr_put_u32);
LAZY(LAZY_MNL, mnl_attr_put_u8);
LAZY(LAZY_MNL, mnl_cb_run);
LAZY(LAZY_MNL, mnl_nlmsg_get_payload);
LAZY(LAZY_MNL, mnl_nlmsg_get_payload_offset);
LAZY(LAZY_MNL, mnl_nlmsg_get_payload_tail);
LAZY(LAZY_MNL, mnl_nlmsg_put_extra_header);
LAZY(LAZY_MNL, mnl_nlmsg_put_header);
LAZY(LAZY_MNL, mnl_socket_bind);
LAZY(LAZY_MNL, mnl_socket_close);
LAZY(LAZY_MNL, mnl_socket_get_portid);
LAZY(LAZY_MNL, mnl_socket_open2);
LAZY(LAZY_MNL, mnl_socket_recvfrom);
LAZY(LAZY_MNL, mnl_socket_sendto);

#endif
