/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "cli/cmd.h"
#include "lib/error.h"

int cmd_vm(int argc, char **argv, struct cabin_err **err)
{
	return cabin_err_make(err, ENOSYS, "`vm` is not available yet");
}
