/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_XALLOC_H
#define CABIN_LIB_XALLOC_H

#include <stddef.h>

/*
 * Small fixed allocations abort on OOM (crun, bwrap). Sizes that come from a
 * guest, a container or an image never go through these: bound them, then use
 * calloc and return -ENOMEM.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/** xasprintf() - formatted allocation; aborts on OOM. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
