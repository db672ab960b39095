/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placeholders until the container engine lands; each is replaced by cli/cmd-<verb>.c. */
#include <errno.h>

#include "cli/cmd.h"
#include "lib/error.h"

#define STUB(verb)                                                                                 \
	int cmd_##verb(int argc, char **argv, struct cabin_err **err)                              \
	{                                                                                          \
		return cabin_err_make(err, ENOSYS, "`%s` is not available yet", #verb);            \
	}
STUB(create)
STUB(start)
STUB(state)
STUB(kill)
STUB(delete)
STUB(run)
STUB(exec)
STUB(ps)
STUB(list)
STUB(pause)
STUB(resume)
STUB(update)
STUB(spec)
STUB(features)
