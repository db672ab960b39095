/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CLI_CMD_H
#define CABIN_CLI_CMD_H

struct cabin_err;

/* Global options, parsed by main.c before the command (runc/crun compatible). */
struct cabin_globals {
	const char *root;	/* --root, else /run/cabin ($XDG_RUNTIME_DIR/cabin rootless) */
	const char *data_root;	/* --data-root: images, volumes, networks, default /var/lib/cabin */
	const char *log;	/* --log FILE */
	const char *log_format; /* --log-format text|json */
	int debug;		/* --debug */
	int no_cgroups;		/* --cgroup-manager disabled: no cgroup at all */
	const char *criu;	/* --criu PATH: the criu binary for checkpoint/restore */
};

extern struct cabin_globals cabin_globals;

enum cmd_flags {
	CMD_HIDDEN = 1 << 0,  /* not listed by --help */
	CMD_ERR_255 = 1 << 1, /* cabin's own failure exits 255: 1..254 are the payload's */
};

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct cabin_err **err);
	const char *summary;
	unsigned flags;
};

/** cmd_find() - the row for @name, or NULL. */
const struct cmd *cmd_find(const char *name);
/** cmd_print_help() - the command list, for `cabin --help`. */
void cmd_print_help(void);

#define CABIN_DEFAULT_ROOT "/run/cabin"
#define CABIN_DEFAULT_DATA_ROOT "/var/lib/cabin"
#define CABIN_VERSION "0.1.0"
#define CABIN_OCI_VERSION "1.2.0"

struct ctr_create_opts;

/**
 * cmd_parse_id() - parse `cabin VERB [--help] ID`, for commands that take nothing else
 * Return: 0 with *@id set, 1 when --help was printed, <0 with @err set.
 */
int cmd_parse_id(const char *verb, const char *usage_text, int argc, char **argv, const char **id,
		 struct cabin_err **err);

/** cmd_parse_fds() - the value of --preserve-fds (0..4096). */
int cmd_parse_fds(const char *arg, unsigned *out, struct cabin_err **err);

/**
 * cmd_parse_create() - the options `create` and `run` share (run also takes --detach)
 * Return: 0 with @o filled, 1 when --help was printed, <0 with @err set.
 */
int cmd_parse_create(const char *verb, const char *usage_text, int argc, char **argv,
		     struct ctr_create_opts *o, struct cabin_err **err);

int cmd_create(int argc, char **argv, struct cabin_err **err);
int cmd_start(int argc, char **argv, struct cabin_err **err);
int cmd_state(int argc, char **argv, struct cabin_err **err);
int cmd_kill(int argc, char **argv, struct cabin_err **err);
int cmd_delete(int argc, char **argv, struct cabin_err **err);
int cmd_run(int argc, char **argv, struct cabin_err **err);
int cmd_exec(int argc, char **argv, struct cabin_err **err);
int cmd_ps(int argc, char **argv, struct cabin_err **err);
int cmd_list(int argc, char **argv, struct cabin_err **err);
int cmd_pause(int argc, char **argv, struct cabin_err **err);
int cmd_resume(int argc, char **argv, struct cabin_err **err);
int cmd_update(int argc, char **argv, struct cabin_err **err);
int cmd_spec(int argc, char **argv, struct cabin_err **err);
int cmd_features(int argc, char **argv, struct cabin_err **err);
int cmd_vm(int argc, char **argv, struct cabin_err **err);
int cmd_network(int argc, char **argv, struct cabin_err **err);
int cmd_events(int argc, char **argv, struct cabin_err **err);
int cmd_checkpoint(int argc, char **argv, struct cabin_err **err);
int cmd_restore(int argc, char **argv, struct cabin_err **err);
/** cmd_parse_cgroups_mode() - --manage-cgroups-mode soft|full|strict to CRIU's mode. */
int cmd_parse_cgroups_mode(const char *arg, int *mode, struct cabin_err **err);
/** cmd_parse_empty_ns() - --empty-ns NS (runc: only `network`) into a CLONE_NEW* mask. */
int cmd_parse_empty_ns(const char *arg, unsigned *mask, struct cabin_err **err);
int cmd_help(int argc, char **argv, struct cabin_err **err);
int cmd_image(int argc, char **argv, struct cabin_err **err);
int cmd_images(int argc, char **argv, struct cabin_err **err);
int cmd_pull(int argc, char **argv, struct cabin_err **err);
int cmd_login(int argc, char **argv, struct cabin_err **err);
int cmd_logout(int argc, char **argv, struct cabin_err **err);
int cmd_system(int argc, char **argv, struct cabin_err **err);
int cmd_container(int argc, char **argv, struct cabin_err **err);
/* `container ps`, also `cabin ps` without a container ID (Docker's form) */
int cmd_container_ps(int argc, char **argv, struct cabin_err **err);
int cmd_volume(int argc, char **argv, struct cabin_err **err);

struct img_store;
/** cmd_store_open() - the image store under --data-root. */
int cmd_store_open(int exclusive, struct img_store **s, struct cabin_err **err);

#endif
