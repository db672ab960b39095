/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Containers and volumes made from images: their part of `system df` and `system prune`. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "img/store.h"
#include "lib/cleanup.h"

static size_t count_dir(struct img_store *s, const char *sub)
{
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	size_t n = 0;
	int fd = openat(s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	return n;
}

int cmd_container_df(struct img_store *s, size_t *total, size_t *running, uint64_t *size);
int cmd_container_prune(struct img_store *s, uint64_t *freed);
int cmd_volume_df(struct img_store *s, size_t *total, size_t *active, uint64_t *size);

int cmd_container_df(struct img_store *s, size_t *total, size_t *running, uint64_t *size)
{
	*total = count_dir(s, "containers");
	*running = 0;
	*size = 0;
	return 0;
}

int cmd_container_prune(struct img_store *s, uint64_t *freed)
{
	return 0;
}

int cmd_volume_df(struct img_store *s, size_t *total, size_t *active, uint64_t *size)
{
	*total = count_dir(s, "volumes");
	*active = 0;
	*size = 0;
	return 0;
}
