/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Protobuf (proto2) wire format for the few messages of CRIU's RPC: varints (wire type 0)
 * and length-delimited fields (type 2: strings, nested messages). See criu-rpc.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctr/criu-rpc.h"
#include "lib/xalloc.h"

struct pb {
	uint8_t *p;
	size_t len, cap;
};

static void pb_put(struct pb *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void pb_raw_varint(struct pb *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	pb_put(b, tmp, n);
}

static void pb_varint(struct pb *b, unsigned field, uint64_t v)
{
	pb_raw_varint(b, (uint64_t)field << 3);
	pb_raw_varint(b, v);
}

/* int32 fields: a negative value is sign-extended to 64 bits (10 bytes), as protoc does */
static void pb_int32(struct pb *b, unsigned field, int32_t v)
{
	pb_varint(b, field, (uint64_t)(int64_t)v);
}

static void pb_bytes(struct pb *b, unsigned field, const void *data, size_t n)
{
	pb_raw_varint(b, ((uint64_t)field << 3) | 2);
	pb_raw_varint(b, n);
	pb_put(b, data, n);
}

static void pb_string(struct pb *b, unsigned field, const char *s)
{
	if (s)
		pb_bytes(b, field, s, strlen(s));
}

static void pb_bool(struct pb *b, unsigned field, int v)
{
	if (v)
		pb_varint(b, field, 1);
}

/* a nested message, already encoded in @sub (freed here) */
static void pb_sub(struct pb *b, unsigned field, struct pb *sub)
{
	pb_bytes(b, field, sub->p ? sub->p : (uint8_t *)"", sub->len);
	free(sub->p);
	memset(sub, 0, sizeof(*sub));
}

static void pb_kv(struct pb *b, unsigned field, unsigned kf, const char *k, unsigned vf,
		  const char *v)
{
	struct pb sub = { 0 };

	pb_string(&sub, kf, k);
	pb_string(&sub, vf, v);
	pb_sub(b, field, &sub);
}

void ctr_criu_opts_init(struct ctr_criu_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->images_dir_fd = o->work_dir_fd = o->status_fd = -1;
}

static void encode_opts(struct pb *b, const struct ctr_criu_opts *o)
{
	size_t i;

	/* required in proto2 even where CRIU ignores it (FEATURE_CHECK) */
	pb_int32(b, 1, o->images_dir_fd);
	if (o->pid > 0)
		pb_int32(b, 2, o->pid);
	pb_bool(b, 3, o->leave_running);
	pb_bool(b, 4, o->ext_unix_sk);
	pb_bool(b, 5, o->tcp_established);
	pb_bool(b, 6, o->evasive_devices);
	pb_bool(b, 7, o->shell_job);
	pb_bool(b, 8, o->file_locks);
	if (o->log_level)
		pb_int32(b, 9, o->log_level);
	pb_string(b, 10, o->log_file);
	if (o->ps_address) {
		struct pb sub = { 0 };

		pb_string(&sub, 1, o->ps_address);
		pb_int32(&sub, 2, o->ps_port);
		pb_sub(b, 11, &sub);
	}
	pb_bool(b, 12, o->notify_scripts);
	pb_string(b, 13, o->root);
	pb_string(b, 14, o->parent_img);
	pb_bool(b, 15, o->track_mem);
	pb_bool(b, 16, o->auto_dedup);
	if (o->work_dir_fd >= 0)
		pb_int32(b, 17, o->work_dir_fd);
	for (i = 0; i < o->n_ext_mnt; i++)
		pb_kv(b, 23, 1, o->ext_mnt[i].key, 2, o->ext_mnt[i].val);
	pb_bool(b, 24, o->manage_cgroups);
	for (i = 0; i < o->n_cg_root; i++)
		pb_kv(b, 25, 1, o->cg_root[i].key, 2, o->cg_root[i].val);
	pb_bool(b, 26, o->rst_sibling);
	for (i = 0; i < o->n_inherit_fd; i++) {
		struct pb sub = { 0 };

		pb_string(&sub, 1, o->inherit_fd[i].key);
		pb_int32(&sub, 2, o->inherit_fd[i].fd);
		pb_sub(b, 27, &sub);
	}
	if (o->manage_cgroups_mode)
		pb_varint(b, 34, (uint64_t)o->manage_cgroups_mode);
	for (i = 0; i < o->n_external; i++)
		pb_string(b, 37, o->external[i]);
	if (o->empty_ns)
		pb_varint(b, 38, o->empty_ns);
	for (i = 0; i < o->n_join_ns; i++)
		pb_kv(b, 39, 1, o->join_ns[i].key, 2, o->join_ns[i].val);
	pb_string(b, 44, o->freeze_cgroup);
	pb_bool(b, 48, o->lazy_pages);
	if (o->status_fd >= 0)
		pb_int32(b, 49, o->status_fd);
	pb_bool(b, 50, o->orphan_pts_master);
	pb_string(b, 51, o->config_file);
	pb_string(b, 53, o->lsm_profile);
	pb_string(b, 63, o->lsm_mount_context);
}

size_t ctr_criu_req_encode(enum ctr_criu_req_type type, const struct ctr_criu_opts *opts,
			   int notify_success, const struct ctr_criu_features *feat, uint8_t **out)
{
	struct pb b = { 0 };

	pb_varint(&b, 1, (uint64_t)type);
	if (opts) {
		struct pb sub = { 0 };

		encode_opts(&sub, opts);
		pb_sub(&b, 2, &sub);
	}
	if (notify_success > 0)
		pb_varint(&b, 3, 1);
	if (feat) {
		struct pb sub = { 0 };

		if (feat->mem_track >= 0)
			pb_varint(&sub, 1, (uint64_t) !!feat->mem_track);
		if (feat->lazy_pages >= 0)
			pb_varint(&sub, 2, (uint64_t) !!feat->lazy_pages);
		pb_sub(&b, 5, &sub);
	}
	*out = b.p;
	return b.len;
}

/* ------------------------------------------------------------------ decoding */

struct rd {
	const uint8_t *p, *end;
};

static int rd_varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t c;

		if (r->p >= r->end)
			return -EBADMSG;
		c = *r->p++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EBADMSG; /* more than 10 bytes */
}

/*
 * One field: *field and *wt; for varints *v, for length-delimited *data and *len (bounds
 * checked against the enclosing message); fixed32 and fixed64 are skipped over.
 */
static int rd_field(struct rd *r, unsigned *field, unsigned *wt, uint64_t *v, const uint8_t **data,
		    size_t *len)
{
	uint64_t key;

	if (rd_varint(r, &key) < 0)
		return -EBADMSG;
	*field = (unsigned)(key >> 3);
	*wt = key & 7;
	if (*field == 0 || key >> 3 > 0x1fffffff)
		return -EBADMSG;
	switch (*wt) {
	case 0:
		return rd_varint(r, v);
	case 1:
	case 5: {
		size_t n = *wt == 1 ? 8 : 4;

		if ((size_t)(r->end - r->p) < n)
			return -EBADMSG;
		r->p += n;
		return 0;
	}
	case 2:
		if (rd_varint(r, v) < 0 || *v > (uint64_t)(r->end - r->p))
			return -EBADMSG;
		*data = r->p;
		*len = (size_t)*v;
		r->p += *len;
		return 0;
	default: /* groups (3, 4) are not in this protocol */
		return -EBADMSG;
	}
}

static void copy_str(char *dst, size_t size, const uint8_t *src, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Walk a nested message: @fn is called for each varint (data NULL) or length-delimited
 * field (data set) of it.
 */
typedef void (*field_fn)(struct ctr_criu_resp *r, unsigned field, uint64_t v, const uint8_t *data,
			 size_t len);

static int walk(const uint8_t *buf, size_t len, struct ctr_criu_resp *resp, field_fn fn)
{
	struct rd r = { buf, buf + len };

	while (r.p < r.end) {
		unsigned field, wt;
		uint64_t v = 0;
		const uint8_t *data = NULL;
		size_t n = 0;

		if (rd_field(&r, &field, &wt, &v, &data, &n) < 0)
			return -EBADMSG;
		if (wt == 0)
			fn(resp, field, v, NULL, 0);
		else if (wt == 2)
			fn(resp, field, v, data, n);
	}
	return 0;
}

static void restore_fn(struct ctr_criu_resp *r, unsigned field, uint64_t v, const uint8_t *data,
		       size_t len)
{
	if (field == 1 && !data)
		r->restore_pid = (int32_t)v;
}

static void notify_fn(struct ctr_criu_resp *r, unsigned field, uint64_t v, const uint8_t *data,
		      size_t len)
{
	if (field == 1 && data)
		copy_str(r->script, sizeof(r->script), data, len);
	else if (field == 2 && !data)
		r->notify_pid = (int32_t)v;
}

static void features_fn(struct ctr_criu_resp *r, unsigned field, uint64_t v, const uint8_t *data,
			size_t len)
{
	if (data)
		return;
	if (field == 1)
		r->features.mem_track = !!v;
	else if (field == 2)
		r->features.lazy_pages = !!v;
}

static void version_fn(struct ctr_criu_resp *r, unsigned field, uint64_t v, const uint8_t *data,
		       size_t len)
{
	if (data)
		return;
	if (field == 1)
		r->version_major = (int32_t)v;
	else if (field == 2)
		r->version_minor = (int32_t)v;
	else if (field == 4)
		r->version_sublevel = (int32_t)v;
}

int ctr_criu_resp_decode(const uint8_t *buf, size_t len, struct ctr_criu_resp *resp)
{
	struct rd r = { buf, buf + len };
	int have_type = 0, have_success = 0;

	memset(resp, 0, sizeof(*resp));
	resp->version_major = resp->version_minor = resp->version_sublevel = -1;
	resp->features.mem_track = resp->features.lazy_pages = -1;
	while (r.p < r.end) {
		unsigned field, wt;
		uint64_t v = 0;
		const uint8_t *data = NULL;
		size_t n = 0;
		int ret = 0;

		if (rd_field(&r, &field, &wt, &v, &data, &n) < 0)
			return -EBADMSG;
		if (wt == 0) {
			switch (field) {
			case 1:
				resp->type = (int)(int32_t)v;
				have_type = 1;
				break;
			case 2:
				resp->success = !!v;
				have_success = 1;
				break;
			case 7:
				resp->cr_errno = (int32_t)v;
				break;
			default:
				break;
			}
		} else if (wt == 2) {
			switch (field) {
			case 4:
				ret = walk(data, n, resp, restore_fn);
				break;
			case 5:
				ret = walk(data, n, resp, notify_fn);
				break;
			case 8:
				ret = walk(data, n, resp, features_fn);
				break;
			case 9:
				copy_str(resp->cr_errmsg, sizeof(resp->cr_errmsg), data, n);
				break;
			case 10:
				ret = walk(data, n, resp, version_fn);
				break;
			default:
				break;
			}
			if (ret < 0)
				return -EBADMSG;
		}
	}
	/* both are `required` in rpc.proto */
	return have_type && have_success ? 0 : -EBADMSG;
}
