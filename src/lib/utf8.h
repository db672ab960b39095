/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_UTF8_H
#define CABIN_LIB_UTF8_H

#include <stddef.h>

/**
 * utf8_sanitize() - a copy of @n bytes at @s that is valid UTF-8 (RFC 3629: no overlong
 * forms, surrogates or code points above U+10FFFF), each byte that does not start a
 * valid sequence replaced by U+FFFD, as Go's encoding/json (Docker's logs) does.
 * NUL-terminated (a NUL byte of @s is kept); its length in *@len. Aborts on OOM.
 */
char *utf8_sanitize(const char *s, size_t n, size_t *len);

#endif
