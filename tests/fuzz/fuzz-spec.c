/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the OCI runtime's readers of the bundle's configuration, which a
 * client builds partly from what an image asks for (podman and containerd copy the
 * image's Env, Cmd, User, Volumes and more into it):
 *  - ctr_spec_parse(): config.json, and when it is accepted ctr_seccomp_prepare() on
 *    its `linux.seccomp` (libseccomp rules and cabin's own BPF program, not loaded);
 *  - ctr_spec_parse_process(): the same document as the process file of
 *    `exec --process` (its errors must name that file, not config.json);
 *  - ctr_cgroup_validate(): the same document as the resources of `update --resources`.
 * Nothing is created: parsing and validation have no side effects.
 *
 * Oracle besides the sanitizers: every refusal comes with a message that names the file
 * or field (config.json:, process, linux.resources, linux.seccomp).
 *
 * Input: the JSON text. Byte mutations seldom keep JSON valid or change a value's type,
 * so a custom mutator also works on the parsed tree: it changes a node's type or value
 * (0, -1, 2^31, 2^63-1, huge, strings from the document), drops it, or copies a subtree
 * or a key elsewhere.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/cgroup.h"
#include "ctr/seccomp.h"
#include "ctr/spec.h"
#include "lib/error.h"
#include "lib/log.h"

static int debug;

/* a refusal must say why, naming where */
static void check_refusal(const char *what, struct cabin_err **err, const char *const *names)
{
	const char *msg;

	if (!*err) {
		fprintf(stderr, "fuzz-spec: FINDING: %s refused without an error\n", what);
		abort();
	}
	msg = cabin_err_msg(*err);
	if (debug)
		fprintf(stderr, "%s: %s\n", what, msg);
	for (; *names; names++)
		if (strstr(msg, *names))
			goto named;
	fprintf(stderr, "fuzz-spec: FINDING: %s error names no file or field: %s\n", what, msg);
	abort();
named:
	cabin_err_release(err);
}

/* ---- the tree mutator ---- */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

struct pick {
	json_t *node, *parent;
	const char *key; /* in an object parent */
	size_t index;	 /* in an array parent */
};

/* the @k-th node in pre-order (0 is the root); counts nodes in *n */
static void walk(json_t *j, json_t *parent, const char *key, size_t index, size_t k, size_t *n,
		 struct pick *p)
{
	if (*n == k) {
		p->node = j;
		p->parent = parent;
		p->key = key;
		p->index = index;
	}
	(*n)++;
	if (json_is_object(j)) {
		const char *kk;
		json_t *v;

		json_object_foreach(j, kk, v) walk(v, j, kk, 0, k, n, p);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;

		json_array_foreach(j, i, v) walk(v, j, NULL, i, k, n, p);
	}
}

static json_t *random_value(json_t *doc, unsigned int *seed)
{
	static const json_int_t ints[] = {
		0,	   -1,	      1,    0x7fffffff, 0x80000000LL, -0x80000000LL, 0xffffffffLL,
		INT64_MAX, INT64_MIN, 4096, 65536
	};
	struct pick p = { 0 };
	size_t n = 0;

	switch (rand_r(seed) % 9) {
	case 0:
		return json_integer(ints[rand_r(seed) % (sizeof(ints) / sizeof(ints[0]))]);
	case 1:
		return json_real(rand_r(seed) % 2 ? 1e300 : -0.5);
	case 2:
		return json_string(rand_r(seed) % 2 ? "" : "/");
	case 3:
		return json_null();
	case 4:
		return json_boolean(rand_r(seed) % 2);
	case 5:
		return json_object();
	case 6:
		return json_array();
	default: /* a copy of another node of the document */
		walk(doc, NULL, NULL, 0, SIZE_MAX, &n, &p);
		walk(doc, NULL, NULL, 0, (size_t)rand_r(seed) % n, &(size_t){ 0 }, &p);
		return json_deep_copy(p.node);
	}
}

static void replace(struct pick *p, json_t *v)
{
	if (json_is_object(p->parent))
		json_object_set_new(p->parent, p->key, v);
	else
		json_array_set_new(p->parent, p->index, v);
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	json_t *doc = size ? json_loadb((const char *)data, size, 0, NULL) : NULL;
	struct pick p = { 0 }, q = { 0 };
	size_t n = 0, out;

	if (!doc || rand_r(&seed) % 8 == 0) {
		json_decref(doc);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	walk(doc, NULL, NULL, 0, SIZE_MAX, &n, &p);
	walk(doc, NULL, NULL, 0, (size_t)rand_r(&seed) % n, &(size_t){ 0 }, &p);
	if (!p.parent) {
		/* the root: mutate one of its members instead, if any */
		if (n < 2)
			goto bytes;
		walk(doc, NULL, NULL, 0, 1, &(size_t){ 0 }, &p);
	}
	switch (rand_r(&seed) % 5) {
	case 0: /* drop it */
		if (json_is_object(p.parent))
			json_object_del(p.parent, p.key);
		else
			json_array_remove(p.parent, p.index);
		break;
	case 1: /* another value or type */
	case 2:
		replace(&p, random_value(doc, &seed));
		break;
	case 3: /* a copy of it into another container */
		walk(doc, NULL, NULL, 0, (size_t)rand_r(&seed) % n, &(size_t){ 0 }, &q);
		if (json_is_array(q.node))
			json_array_append_new(q.node, json_deep_copy(p.node));
		else if (json_is_object(q.node) && p.key)
			json_object_set_new(q.node, p.key, json_deep_copy(p.node));
		else
			replace(&p, random_value(doc, &seed));
		break;
	default: /* a string or key changed bytewise */
		if (json_is_string(p.node)) {
			char buf[256];
			size_t l = json_string_length(p.node);

			if (l > sizeof(buf))
				l = sizeof(buf);
			memcpy(buf, json_string_value(p.node), l);
			l = LLVMFuzzerMutate((uint8_t *)buf, l, sizeof(buf));
			replace(&p, json_stringn_nocheck(buf, l));
		} else {
			replace(&p, random_value(doc, &seed));
		}
	}
	out = json_dumpb(doc, (char *)data, max_size, JSON_COMPACT);
	json_decref(doc);
	if (out && out <= max_size)
		return out;
	return LLVMFuzzerMutate(data, size, max_size);
bytes:
	json_decref(doc);
	return LLVMFuzzerMutate(data, size, max_size);
}

/* ---- the target ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	debug = getenv("CABIN_FUZZ_DEBUG") != NULL;
	if (!debug)
		log_set_quiet(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cfg_names[] = { "config.json", "linux.", "process", NULL };
	static const char *const proc_names[] = { "--process `p.json`: ", NULL };
	static const char *const res_names[] = { "linux.resources", NULL };
	static const char *const sc_names[] = { "linux.seccomp", NULL };
	struct cabin_err *err = NULL;
	struct ctr_spec *spec = NULL, *proc;
	struct ctr_seccomp *sc = NULL;
	json_error_t je;
	json_t *doc;

	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return 0;
	if (ctr_spec_parse(doc, "/bundle", &spec, &err) < 0) {
		check_refusal("config.json", &err, cfg_names);
	} else {
		if (!spec || !spec->rootfs || spec->rootfs[0] != '/') {
			fprintf(stderr,
				"fuzz-spec: FINDING: accepted without an absolute rootfs\n");
			abort();
		}
		if (ctr_seccomp_prepare(spec->seccomp, &sc, &err) < 0)
			check_refusal("linux.seccomp", &err, sc_names);
		ctr_seccomp_free(sc);
		ctr_spec_free(spec);
	}

	proc = calloc(1, sizeof(*proc));
	if (!proc)
		abort();
	proc->umask = -1;
	if (ctr_spec_parse_process(doc, "process", "--process `p.json`", proc, &err) < 0)
		check_refusal("process file", &err, proc_names);
	ctr_spec_free(proc);

	if (ctr_cgroup_validate(doc, &err) < 0)
		check_refusal("resources", &err, res_names);
	json_decref(doc);
	return 0;
}
