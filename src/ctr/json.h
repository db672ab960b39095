/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_JSON_H
#define CABIN_CTR_JSON_H

#include <jansson.h>
#include <stddef.h>

/**
 * ctr_json_loadb() - json_loadb() that also reads the runtime-spec's uint64 values.
 * @buf, @len: the JSON text; @flags: jansson's decoding flags; @jerr: as for json_loadb.
 *
 * jansson stores integers as signed 64 bit and refuses any above INT64_MAX, but the spec
 * has uint64 fields, and clients write 2^64-1 for "unlimited" (podman's `--ulimit
 * core=-1:-1` becomes rlimit 18446744073709551615). An integer in (INT64_MAX, UINT64_MAX]
 * outside strings is read as the int64 with the same bits (2^64-1 -> -1); readers of uint64
 * fields cast it back. Larger integers still fail as jansson reports them.
 * Return: the document (caller decrefs) or NULL with @jerr set.
 */
json_t *ctr_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *jerr);

/**
 * ctr_json_load_file() - ctr_json_loadb() on the contents of @path (config.json, a
 * --process file). On a read error errno is set and @jerr names it.
 */
json_t *ctr_json_load_file(const char *path, size_t flags, json_error_t *jerr);

/**
 * ctr_json_load_file_raw() - ctr_json_load_file() that also hands over the bytes it parsed
 * in *@raw (NUL-terminated, caller frees) and their length in *@len, on success only.
 */
json_t *ctr_json_load_file_raw(const char *path, size_t flags, json_error_t *jerr, char **raw,
			       size_t *len);

#endif
