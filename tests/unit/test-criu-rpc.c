/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CRIU's RPC messages: cabin's encoder against bytes that CRIU's own message definitions
 * (pycriu's rpc_pb2, protobuf 3.21) produce for the same fields, and the decoder on
 * answers made the same way, on malformed ones and on unknown fields.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/criu-rpc.h"
#include "unit/tap.h"

/* criu_req DUMP, encoded by rpc_pb2 */
static const uint8_t req_dump[] = {
	0x08, 0x01, 0x12, 0x70, 0x08, 0x05, 0x10, 0x2a, 0x18, 0x01, 0x48, 0x04, 0x52, 0x08, 0x64,
	0x75, 0x6d, 0x70, 0x2e, 0x6c, 0x6f, 0x67, 0x6a, 0x02, 0x2f, 0x72, 0x72, 0x04, 0x2e, 0x2e,
	0x2f, 0x70, 0xba, 0x01, 0x08, 0x0a, 0x02, 0x2f, 0x61, 0x12, 0x02, 0x2f, 0x62, 0xc0, 0x01,
	0x01, 0xca, 0x01, 0x11, 0x0a, 0x0b, 0x63, 0x70, 0x75, 0x2c, 0x63, 0x70, 0x75, 0x61, 0x63,
	0x63, 0x74, 0x12, 0x02, 0x2f, 0x78, 0xda, 0x01, 0x0c, 0x0a, 0x08, 0x70, 0x69, 0x70, 0x65,
	0x3a, 0x5b, 0x31, 0x5d, 0x10, 0x01, 0x90, 0x02, 0x03, 0xaa, 0x02, 0x13, 0x6e, 0x65, 0x74,
	0x5b, 0x31, 0x5d, 0x3a, 0x65, 0x78, 0x74, 0x52, 0x6f, 0x6f, 0x74, 0x4e, 0x65, 0x74, 0x4e,
	0x53, 0xb0, 0x02, 0x80, 0x80, 0x80, 0x80, 0x04, 0x90, 0x03, 0x01,
};
static const uint8_t req_ack[] = { 0x08, 0x06, 0x18, 0x01 };
/* FEATURE_CHECK with images_dir_fd -1 (a negative int32 takes 10 bytes) */
static const uint8_t req_feat[] = { 0x08, 0x09, 0x12, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
				    0xff, 0xff, 0xff, 0xff, 0x01, 0x2a, 0x02, 0x08, 0x01 };

static const uint8_t r_dump[] = { 0x08, 0x01, 0x10, 0x01 };
static const uint8_t r_notify[] = { 0x08, 0x06, 0x10, 0x01, 0x2a, 0x10, 0x0a, 0x0c,
				    0x70, 0x6f, 0x73, 0x74, 0x2d, 0x72, 0x65, 0x73,
				    0x74, 0x6f, 0x72, 0x65, 0x10, 0x4d };
/* failure, with fields cabin does not read (ps, status = -3) in between */
static const uint8_t r_fail[] = { 0x08, 0x02, 0x10, 0x00, 0x32, 0x02, 0x10, 0x09, 0x38,
				  0x02, 0x4a, 0x04, 0x62, 0x6f, 0x6f, 0x6d, 0x58, 0xfd,
				  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
static const uint8_t r_ver[] = { 0x08, 0x0a, 0x10, 0x01, 0x52, 0x09, 0x08, 0x03,
				 0x10, 0x11, 0x1a, 0x01, 0x78, 0x20, 0x01 };
static const uint8_t r_rst[] = { 0x08, 0x02, 0x10, 0x01, 0x22, 0x03, 0x08, 0xd2, 0x09 };
static const uint8_t r_feat[] = { 0x08, 0x09, 0x10, 0x01, 0x42, 0x04, 0x08, 0x01, 0x10, 0x00 };

static int same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && !memcmp(a, b, alen);
}

int main(void)
{
	struct ctr_criu_kv ext[] = { { "/a", "/b" } };
	struct ctr_criu_kv cg[] = { { "cpu,cpuacct", "/x" } };
	struct ctr_criu_fd inh[] = { { "pipe:[1]", 1 } };
	const char *external[] = { "net[1]:extRootNetNS" };
	struct ctr_criu_features feat = { .mem_track = 1, .lazy_pages = -1 };
	struct ctr_criu_opts o;
	struct ctr_criu_resp r;
	uint8_t *buf = NULL, bad[64];
	size_t len;

	tap_plan(18);

	ctr_criu_opts_init(&o);
	o.images_dir_fd = 5;
	o.pid = 42;
	o.leave_running = 1;
	o.log_level = 4;
	o.log_file = "dump.log";
	o.root = "/r";
	o.parent_img = "../p";
	o.ext_mnt = ext;
	o.n_ext_mnt = 1;
	o.manage_cgroups = 1;
	o.cg_root = cg;
	o.n_cg_root = 1;
	o.inherit_fd = inh;
	o.n_inherit_fd = 1;
	o.manage_cgroups_mode = CTR_CRIU_CG_SOFT;
	o.external = external;
	o.n_external = 1;
	o.empty_ns = CLONE_NEWNET;
	o.orphan_pts_master = 1;
	len = ctr_criu_req_encode(CTR_CRIU_DUMP, &o, 0, NULL, &buf);
	tap_ok(same(buf, len, req_dump, sizeof(req_dump)),
	       "DUMP request: the bytes of CRIU's rpc_pb2 (%zu bytes)", len);
	free(buf);

	len = ctr_criu_req_encode(CTR_CRIU_NOTIFY, NULL, 1, NULL, &buf);
	tap_ok(same(buf, len, req_ack, sizeof(req_ack)), "NOTIFY answer with notify_success");
	free(buf);

	ctr_criu_opts_init(&o);
	len = ctr_criu_req_encode(CTR_CRIU_FEATURE_CHECK, &o, 0, &feat, &buf);
	tap_ok(same(buf, len, req_feat, sizeof(req_feat)),
	       "FEATURE_CHECK: negative int32 sign-extended, features nested");
	free(buf);

	tap_ok(ctr_criu_resp_decode(r_dump, sizeof(r_dump), &r) == 0 && r.type == CTR_CRIU_DUMP &&
		       r.success == 1 && r.cr_errmsg[0] == '\0',
	       "DUMP success decoded");
	tap_ok(ctr_criu_resp_decode(r_notify, sizeof(r_notify), &r) == 0 &&
		       r.type == CTR_CRIU_NOTIFY && !strcmp(r.script, "post-restore") &&
		       r.notify_pid == 77,
	       "NOTIFY: script and pid");
	tap_ok(ctr_criu_resp_decode(r_fail, sizeof(r_fail), &r) == 0 && r.success == 0 &&
		       r.cr_errno == 2 && !strcmp(r.cr_errmsg, "boom"),
	       "failure: cr_errno, cr_errmsg; unknown fields skipped");
	tap_ok(ctr_criu_resp_decode(r_ver, sizeof(r_ver), &r) == 0 && r.version_major == 3 &&
		       r.version_minor == 17 && r.version_sublevel == 1,
	       "VERSION: 3.17.1");
	tap_ok(ctr_criu_resp_decode(r_rst, sizeof(r_rst), &r) == 0 && r.type == CTR_CRIU_RESTORE &&
		       r.restore_pid == 1234,
	       "RESTORE: pid 1234 (two-byte varint)");
	tap_ok(ctr_criu_resp_decode(r_feat, sizeof(r_feat), &r) == 0 && r.features.mem_track == 1 &&
		       r.features.lazy_pages == 0,
	       "FEATURE_CHECK answer: mem_track yes, lazy_pages no");

	/* malformed answers */
	for (size_t cut = 1; cut < sizeof(r_notify); cut++)
		if (cut != 4 && ctr_criu_resp_decode(r_notify, cut, &r) == 0) {
			tap_ok(0, "truncated NOTIFY at %zu bytes accepted", cut);
			goto next;
		}
	tap_ok(1, "every truncation of a NOTIFY inside a field is refused");
next:
	tap_ok(ctr_criu_resp_decode(r_dump, 2, &r) == -EBADMSG,
	       "missing required `success` refused");
	memcpy(bad, r_notify, sizeof(r_notify));
	bad[5] = 0x7f; /* notify length beyond the message */
	tap_ok(ctr_criu_resp_decode(bad, sizeof(r_notify), &r) == -EBADMSG,
	       "nested length beyond the message refused");
	memset(bad, 0xff, 12);
	tap_ok(ctr_criu_resp_decode(bad, 12, &r) == -EBADMSG, "varint of 11 bytes refused");
	bad[0] = 0x0b; /* field 1, wire type 3 (group) */
	tap_ok(ctr_criu_resp_decode(bad, 2, &r) == -EBADMSG, "group wire type refused");
	bad[0] = 0x00; /* field 0 */
	bad[1] = 0x00;
	tap_ok(ctr_criu_resp_decode(bad, 2, &r) == -EBADMSG, "field number 0 refused");

	/* a script name longer than the buffer is cut, not overflowed */
	{
		uint8_t big[300];
		size_t n = 0;

		big[n++] = 0x08, big[n++] = 0x06, big[n++] = 0x10, big[n++] = 0x01;
		big[n++] = 0x2a, big[n++] = 0x85, big[n++] = 0x01; /* notify, 133 bytes */
		big[n++] = 0x0a, big[n++] = 0x80, big[n++] = 0x01; /* script, 128 bytes */
		memset(big + n, 'a', 128);
		n += 128;
		big[n++] = 0x10, big[n++] = 0x05;
		tap_ok(ctr_criu_resp_decode(big, n, &r) == 0 && strlen(r.script) == 63 &&
			       r.notify_pid == 5,
		       "long script name truncated to the buffer");
	}
	/* fixed64 and fixed32 fields of a later CRIU are stepped over */
	{
		const uint8_t f[] = { 0x08, 0x01, 0xf9, 0x07, 1, 2, 3, 4, 5,	6,
				      7,    8,	  0xfd, 0x07, 1, 2, 3, 4, 0x10, 0x01 };

		tap_ok(ctr_criu_resp_decode(f, sizeof(f), &r) == 0 && r.success == 1,
		       "unknown fixed64/fixed32 fields skipped");
	}
	/*
	 * Mutations of every valid answer, and random bytes: decoding never reads outside
	 * the message (this file is also built with ASan/UBSan: test-criu-rpc-asan).
	 */
	{
		const struct {
			const uint8_t *p;
			size_t n;
		} seeds[] = { { r_dump, sizeof(r_dump) }, { r_notify, sizeof(r_notify) },
			      { r_fail, sizeof(r_fail) }, { r_ver, sizeof(r_ver) },
			      { r_rst, sizeof(r_rst) },	  { r_feat, sizeof(r_feat) } };
		unsigned seed = 12345, runs = 0, ok = 0;

		for (int i = 0; i < 20000; i++) {
			size_t k = (size_t)i % (sizeof(seeds) / sizeof(seeds[0])), n = seeds[k].n;
			uint8_t *m;

			seed = seed * 1103515245 + 12345;
			if (i % 4 == 3)
				n = (seed >> 8) % 48;
			/* an exact-size heap copy, so ASan sees any read past its end */
			m = malloc(n ? n : 1);
			if (i % 4 == 3) {
				for (size_t j = 0; j < n; j++) {
					seed = seed * 1103515245 + 12345;
					m[j] = (uint8_t)(seed >> 16);
				}
			} else {
				memcpy(m, seeds[k].p, n);
				for (int f = 0; f < 1 + i % 3; f++) {
					seed = seed * 1103515245 + 12345;
					m[(seed >> 8) % n] = (uint8_t)(seed >> 20);
				}
			}
			if (ctr_criu_resp_decode(m, n, &r) == 0)
				ok += memchr(r.script, 0, sizeof(r.script)) &&
				      memchr(r.cr_errmsg, 0, sizeof(r.cr_errmsg));
			else
				ok++;
			runs++;
			free(m);
		}
		tap_ok(ok == runs, "%u mutated or random answers: refused or decoded within bounds",
		       runs);
	}
	return tap_failed ? 1 : 0;
}
