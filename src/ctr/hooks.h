/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_HOOKS_H
#define CABIN_CTR_HOOKS_H

#include <jansson.h>

struct cabin_err;

/**
 * ctr_hooks_run() - run every hook of one kind, in order, each with the state JSON on
 * its stdin, as the runtime-spec describes.
 * @hooks: config.json `hooks` (may be NULL), or directly an array when @kind is NULL
 * @kind: "prestart", "createRuntime", ... or NULL
 * @state: the state object written to each hook's stdin
 *
 * A hook that fails (non-zero exit, killed, timeout) stops the sequence with an error
 * naming the hook kind, index and path.
 */
int ctr_hooks_run(json_t *hooks, const char *kind, json_t *state, struct cabin_err **err);

/**
 * ctr_hooks_run_warn() - run every hook of the array @hooks (poststart, poststop): a
 * failing hook is a warning and the next one still runs, as the runtime-spec requires.
 */
void ctr_hooks_run_warn(json_t *hooks, const char *kind, json_t *state);

/** ctr_hooks_present() - @hooks has at least one hook of @kind. */
int ctr_hooks_present(json_t *hooks, const char *kind);

#endif
