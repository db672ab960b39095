/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_CLEANUP_H
#define CABIN_LIB_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Scope-bound ownership, after LXC's define_cleanup_function and bubblewrap's
 * steal_pointer. Every cleanup helper accepts the "empty" value (NULL or -1) and
 * preserves errno, so it is safe on every exit path, including error paths that
 * are about to report errno.
 */
#define DEFINE_CLEANUP(type, fn)                                                                   \
	static inline void fn##_cleanup(type *p)                                                   \
	{                                                                                          \
		int saved_errno_ = errno;                                                          \
		fn(*p);                                                                            \
		errno = saved_errno_;                                                              \
	}

static inline void free_ptr(void *p)
{
	free(p);
}
static inline void cleanup_free_fn(void *p)
{
	int saved = errno;
	free(*(void **)p);
	errno = saved;
}
static inline void cleanup_close_fn(int *fd)
{
	int saved = errno;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	errno = saved;
}
static inline void cleanup_fclose_fn(FILE **f)
{
	int saved = errno;
	if (*f)
		fclose(*f);
	*f = NULL;
	errno = saved;
}
/* json_decref() takes NULL; the pointer is cleared for a later steal_ptr() or reuse. */
static inline void cleanup_json_fn(json_t **j)
{
	int saved = errno;
	json_decref(*j);
	*j = NULL;
	errno = saved;
}
static inline void cleanup_closedir_fn(DIR **d)
{
	int saved = errno;
	if (*d)
		closedir(*d);
	*d = NULL;
	errno = saved;
}

#define cleanup_free __attribute__((cleanup(cleanup_free_fn)))
#define cleanup_close __attribute__((cleanup(cleanup_close_fn)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclose_fn)))
#define cleanup_closedir __attribute__((cleanup(cleanup_closedir_fn)))
/* A json_t reference this scope owns; hand it on with steal_ptr(). */
#define cleanup_json __attribute__((cleanup(cleanup_json_fn)))

/* Hand an owned fd to the caller: the cleanup variable is disarmed. */
static inline int steal_fd(int *fd)
{
	int ret = *fd;
	*fd = -1;
	return ret;
}

/* Hand an owned pointer to the caller: the cleanup variable is disarmed. */
#define steal_ptr(pp)                                                                              \
	({                                                                                         \
		__typeof__(*(pp)) steal_tmp_ = *(pp);                                              \
		*(pp) = NULL;                                                                      \
		steal_tmp_;                                                                        \
	})

#endif
