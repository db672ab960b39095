/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `cabin image ...`, `cabin pull`, `cabin images`, `cabin login/logout`, `cabin system`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "img/archive.h"
#include "img/auth.h"
#include "img/digest.h"
#include "img/ref.h"
#include "img/registry.h"
#include "img/store.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"

int cmd_store_open(int exclusive, struct img_store **s, struct cabin_err **err)
{
	const char *root = cabin_globals.data_root;

	if (!root || !*root)
		root = IMG_DEFAULT_ROOT;
	return img_store_open(root, exclusive, s, err);
}

static void store_cleanup(struct img_store **s)
{
	img_store_free(*s);
}
#define cleanup_store __attribute__((cleanup(store_cleanup)))

static int bad_opt(const char *verb, struct cabin_err **err)
{
	return cabin_err_make(err, 0, "%s: bad option (see `cabin %s --help`)", verb, verb);
}

static int parse_tls(const char *v, int *out, struct cabin_err **err)
{
	if (!v || !strcmp(v, "true"))
		*out = 1;
	else if (!strcmp(v, "false"))
		*out = 0;
	else
		return cabin_err_make(err, 0, "--tls-verify must be true or false, not `%s`", v);
	return 0;
}

/* ---- pull ---- */

static const char pull_usage[] =
	"usage: cabin image pull [--platform OS/ARCH[/VARIANT]] [--tls-verify=false]\n"
	"                        [--cert-dir DIR] [-j N] [-q] REF\n"
	"Pull an image from its registry (docker.io unless REF names one). Plain HTTP is used\n"
	"only for registries on loopback or with --tls-verify=false. TLS trusts the system's\n"
	"CAs and the *.crt files of --cert-dir DIR, else of /etc/containers/certs.d/HOST,\n"
	"/etc/docker/certs.d/HOST and ~/.config/containers/certs.d/HOST.\n"
	"-j N: layers downloaded in parallel (default 3).\n";

static int image_pull(int argc, char **argv, struct cabin_err **err)
{
	enum { OPT_PLATFORM = 256, OPT_TLS, OPT_CERTDIR };
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "tls-verify", optional_argument, NULL, OPT_TLS },
		{ "cert-dir", required_argument, NULL, OPT_CERTDIR },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct img_pull_opts o = { .tls_verify = 1, .progress = stderr };
	cleanup_store struct img_store *s = NULL;
	char id[IMG_DIGEST_LEN];
	int c;

	while ((c = getopt_long(argc, argv, "+j:qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CERTDIR:
			o.cert_dir = optarg;
			break;
		case 'j': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v < 1 || v > 32)
				return cabin_err_make(err, 0, "--jobs `%s`: a number from 1 to 32",
						      optarg);
			o.jobs = (int)v;
			break;
		}
		case OPT_PLATFORM:
			if (!strchr(optarg, '/'))
				return cabin_err_make(err, 0,
						      "--platform `%s`: expected OS/ARCH[/VARIANT]",
						      optarg);
			o.platform = optarg;
			break;
		case OPT_TLS:
			if (parse_tls(optarg, &o.tls_verify, err) < 0)
				return -1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			fputs(pull_usage, stdout);
			return 0;
		default:
			return bad_opt("image pull", err);
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0,
				      "image pull: exactly one image reference is required");
	if (cmd_store_open(1, &s, err) < 0)
		return -1;
	if (img_pull(s, argv[optind], &o, id, err) < 0)
		return cabin_err_wrap(err, "pull");
	printf("%s\n", id);
	return 0;
}

int cmd_pull(int argc, char **argv, struct cabin_err **err)
{
	return image_pull(argc, argv, err);
}

/* ---- load ---- */

static int image_load(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_store struct img_store *s = NULL;
	const char *input = NULL;
	cleanup_json json_t *loaded = NULL;
	json_t *e, *n;
	size_t i, k;
	int c, quiet = 0;

	while ((c = getopt_long(argc, argv, "+i:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs("usage: cabin image load -i FILE|DIR [-q]\n"
			      "Load a docker-archive or oci-archive (`podman save`, `docker "
			      "save`,\n"
			      "`skopeo copy`; any compression) or an OCI image layout directory.\n",
			      stdout);
			return 0;
		default:
			return bad_opt("image load", err);
		}
	}
	if (!input || optind != argc)
		return cabin_err_make(err, 0, "image load: -i FILE is required (and nothing else)");
	if (cmd_store_open(1, &s, err) < 0)
		return -1;
	if (img_load(s, input, &loaded, err) < 0)
		return cabin_err_wrap(err, "load");
	json_array_foreach(loaded, i, e)
	{
		json_t *names = json_object_get(e, "names");

		if (!json_array_size(names))
			printf("Loaded image ID: %s\n",
			       json_string_value(json_object_get(e, "id")));
		json_array_foreach(names, k, n) if (!quiet)
			printf("Loaded image: %s\n", json_string_value(n));
	}
	return 0;
}

/* ---- ls ---- */

static const char *ago(const char *rfc3339, char *buf, size_t len)
{
	struct tm tm = { 0 };
	time_t t, now = time(NULL);
	long d;

	if (!rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm))
		return "unknown";
	t = timegm(&tm);
	d = (long)(now - t);
	if (d < 60)
		snprintf(buf, len, "%ld seconds ago", d < 1 ? 1 : d);
	else if (d < 3600)
		snprintf(buf, len, "%ld minutes ago", d / 60);
	else if (d < 86400 * 2)
		snprintf(buf, len, "%ld hours ago", d / 3600);
	else if (d < 86400 * 60)
		snprintf(buf, len, "%ld days ago", d / 86400);
	else
		snprintf(buf, len, "%ld months ago", d / (86400 * 30));
	return buf;
}

static void split_name(const char *name, char *repo, size_t rlen, const char **tag)
{
	const char *c = strrchr(name, ':');

	if (c && !strchr(c, '/')) {
		snprintf(repo, rlen, "%.*s", (int)(c - name), name);
		*tag = c + 1;
	} else {
		snprintf(repo, rlen, "%s", name);
		*tag = "<none>";
	}
}

static int image_ls(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_store struct img_store *s = NULL;
	cleanup_json json_t *imgs = NULL;
	json_t *rec;
	size_t i;
	int c, quiet = 0;

	while ((c = getopt_long(argc, argv, "+qah", opts, NULL)) != -1) {
		if (c == 'q')
			quiet = 1;
		else if (c == 'a')
			continue;
		else if (c == 'h') {
			fputs("usage: cabin image ls [-q]\nList the images in the store.\n",
			      stdout);
			return 0;
		} else
			return bad_opt("image ls", err);
	}
	if (cmd_store_open(0, &s, err) < 0)
		return -1;
	imgs = img_store_images(s);
	if (!quiet)
		printf("%-40s %-12s %-14s %-16s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED",
		       "SIZE");
	json_array_foreach(imgs, i, rec)
	{
		const char *id = json_string_value(json_object_get(rec, "id"));
		cleanup_json json_t *names = img_store_image_names(s, id), *cfg = NULL;
		json_t *n;
		struct cabin_err *e = NULL;
		char created[64], size[16];
		size_t k;

		if (quiet) {
			printf("%.12s\n", id + 7);
			continue;
		}
		if (img_store_image_config(s, rec, &cfg, &e) < 0)
			cabin_err_release(&e);
		ago(json_string_value(json_object_get(cfg, "created")), created, sizeof(created));
		img_human_size((uint64_t)json_integer_value(json_object_get(rec, "size")), size,
			       sizeof(size));
		if (!json_array_size(names))
			printf("%-40s %-12s %-14.12s %-16s %s\n", "<none>", "<none>", id + 7,
			       created, size);
		json_array_foreach(names, k, n)
		{
			char repo[512];
			const char *tag;

			split_name(json_string_value(n), repo, sizeof(repo), &tag);
			printf("%-40s %-12s %-14.12s %-16s %s\n", repo, tag, id + 7, created, size);
		}
	}
	return 0;
}

int cmd_images(int argc, char **argv, struct cabin_err **err)
{
	return image_ls(argc, argv, err);
}

/* ---- rm ---- */

static int image_rm(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_store struct img_store *s = NULL;
	int c, force = 0, ret = 0;

	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		if (c == 'f')
			force = 1;
		else if (c == 'h') {
			fputs("usage: cabin image rm [-f] REF|ID...\n"
			      "Remove names; an image with no name left and no container is "
			      "deleted.\n",
			      stdout);
			return 0;
		} else
			return bad_opt("image rm", err);
	}
	if (optind >= argc)
		return cabin_err_make(err, 0, "image rm: at least one image is required");
	if (cmd_store_open(1, &s, err) < 0)
		return -1;
	for (int i = optind; i < argc; i++) {
		cleanup_free char *name = NULL;
		char id[IMG_DIGEST_LEN];
		struct cabin_err *e = NULL;
		cleanup_json json_t *names = NULL, *left = NULL;
		json_t *n;
		size_t k;
		int users;

		if (img_store_resolve(s, argv[i], id, &name, &e) < 0)
			goto fail;
		names = img_store_image_names(s, id);
		if (!name && json_array_size(names) > 1 && !force) {
			cabin_err_make(&e, 0,
				       "image `%s` has %zu names: remove them one by one or use -f",
				       argv[i], json_array_size(names));
			goto fail;
		}
		users = img_store_image_users(s, id);
		if (users && (!name || json_array_size(names) == 1)) {
			cabin_err_make(&e, 0, "image `%s` is in use by %d container(s)", argv[i],
				       users);
			goto fail;
		}
		json_array_foreach(names, k, n)
		{
			if (name && strcmp(json_string_value(n), name))
				continue;
			if (img_store_ref_del(s, json_string_value(n), &e) < 0)
				goto fail;
			printf("Untagged: %s\n", json_string_value(n));
		}
		/* what is left once the names are gone: nothing, and the image goes too */
		left = img_store_image_names(s, id);
		if (!json_array_size(left)) {
			if (img_store_image_remove(s, id, &e) < 0)
				goto fail;
			printf("Deleted: %s\n", id);
		}
		continue;
	fail:
		fprintf(stderr, "cabin: image rm: %s\n", cabin_err_msg(e));
		cabin_err_release(&e);
		ret = 1;
	}
	return ret;
}

/* ---- inspect ---- */

static int image_inspect(int argc, char **argv, struct cabin_err **err)
{
	cleanup_store struct img_store *s = NULL;
	cleanup_json json_t *out = json_array();
	int c;

	while ((c = getopt_long(argc, argv, "+h",
				(const struct option[]){ { "help", 0, 0, 'h' }, { 0 } }, NULL)) !=
	       -1) {
		if (c == 'h') {
			fputs("usage: cabin image inspect REF...\nPrint what the store knows of "
			      "images, as JSON.\n",
			      stdout);
			return 0;
		}
		return bad_opt("image inspect", err);
	}
	if (optind >= argc)
		return cabin_err_make(err, 0, "image inspect: at least one image is required");
	if (cmd_store_open(0, &s, err) < 0)
		return -1;
	for (int i = optind; i < argc; i++) {
		char id[IMG_DIGEST_LEN];
		cleanup_json json_t *rec = NULL, *cfg = NULL;
		json_t *o, *diffs;

		if (img_store_resolve(s, argv[i], id, NULL, err) < 0 ||
		    img_store_image_get(s, id, &rec, err) < 0 ||
		    img_store_image_config(s, rec, &cfg, err) < 0)
			return -1;
		diffs = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
		o = json_pack("{s:s,s:o,s:O*,s:O*,s:O*,s:O*,s:O*,s:O*,s:{s:s,s:O*},s:O*,s:O*}",
			      "Id", id, "RepoTags", img_store_image_names(s, id), "RepoDigests",
			      json_object_get(rec, "repoDigests"), "Created",
			      json_object_get(cfg, "created"), "Architecture",
			      json_object_get(cfg, "architecture"), "Os",
			      json_object_get(cfg, "os"), "Config", json_object_get(cfg, "config"),
			      "Size", json_object_get(rec, "size"), "RootFS", "Type", "layers",
			      "Layers", diffs, "Manifest", json_object_get(rec, "manifestDigest"),
			      "ManifestLayers", json_object_get(rec, "layers"));
		json_array_append_new(out, o);
	}
	{
		char *txt = json_dumps(out, JSON_INDENT(4));

		printf("%s\n", txt);
		free(txt);
	}
	return 0;
}

/* ---- tag ---- */

static int image_tag(int argc, char **argv, struct cabin_err **err)
{
	cleanup_store struct img_store *s = NULL;
	cleanup_ref struct img_ref r = { 0 };
	cleanup_free char *name = NULL;
	char id[IMG_DIGEST_LEN];

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs("usage: cabin image tag SOURCE TARGET\nGive an image another name.\n",
		      stdout);
		return 0;
	}
	if (argc != 3)
		return cabin_err_make(err, 0, "image tag: SOURCE and TARGET are required");
	if (img_ref_parse(argv[2], &r, err) < 0)
		return -1;
	if (!r.tag)
		return cabin_err_make(err, 0, "image tag: `%s`: a tag is required, not a digest",
				      argv[2]);
	name = img_ref_name(&r);
	if (cmd_store_open(1, &s, err) < 0 || img_store_resolve(s, argv[1], id, NULL, err) < 0)
		return -1;
	return img_store_ref_set(s, name, id, err);
}

int cmd_image(int argc, char **argv, struct cabin_err **err)
{
	static const struct {
		const char *name, *alias;
		int (*fn)(int, char **, struct cabin_err **);
	} sub[] = {
		{ "pull", NULL, image_pull },	    { "load", NULL, image_load },
		{ "ls", "list", image_ls },	    { "rm", "remove", image_rm },
		{ "inspect", NULL, image_inspect }, { "tag", NULL, image_tag },
	};

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs("usage: cabin image pull|load|ls|rm|inspect|tag ...\n",
		      argc < 2 ? stderr : stdout);
		return argc < 2 ? cabin_err_make(err, 0, "image: a subcommand is required") : 0;
	}
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (!strcmp(argv[1], sub[i].name) ||
		    (sub[i].alias && !strcmp(argv[1], sub[i].alias))) {
			optind = 0;
			return sub[i].fn(argc - 1, argv + 1, err);
		}
	return cabin_err_make(err, 0, "image: unknown subcommand `%s`", argv[1]);
}

/* ---- login / logout ---- */

static char *read_line(FILE *f, int noecho)
{
	struct termios old, t;
	char buf[4096];
	int tty = noecho && isatty(fileno(f)) && tcgetattr(fileno(f), &old) == 0;

	if (tty) {
		t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(f), TCSANOW, &t);
	}
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	if (tty) {
		tcsetattr(fileno(f), TCSANOW, &old);
		fputc('\n', stderr);
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

int cmd_login(int argc, char **argv, struct cabin_err **err)
{
	enum { OPT_STDIN = 256, OPT_TLS, OPT_CERTDIR };
	static const struct option opts[] = {
		{ "cert-dir", required_argument, NULL, OPT_CERTDIR },
		{ "username", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-stdin", no_argument, NULL, OPT_STDIN },
		{ "tls-verify", optional_argument, NULL, OPT_TLS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_free char *user = NULL, *pass = NULL;
	const char *cert_dir = NULL;
	int c, tls = 1, from_stdin = 0;

	while ((c = getopt_long(argc, argv, "+u:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			user = xstrdup(optarg);
			break;
		case 'p':
			pass = xstrdup(optarg);
			break;
		case OPT_STDIN:
			from_stdin = 1;
			break;
		case OPT_CERTDIR:
			cert_dir = optarg;
			break;
		case OPT_TLS:
			if (parse_tls(optarg, &tls, err) < 0)
				return -1;
			break;
		case 'h':
			fputs("usage: cabin login [-u USER] [-p PASS | --password-stdin] "
			      "[--tls-verify=false] [--cert-dir DIR] REGISTRY\n"
			      "Check credentials against REGISTRY and store them for pulls.\n",
			      stdout);
			return 0;
		default:
			return bad_opt("login", err);
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "login: exactly one registry is required");
	if (!user) {
		fputs("Username: ", stderr);
		user = read_line(stdin, 0);
	}
	if (!pass) {
		if (!from_stdin)
			fputs("Password: ", stderr);
		pass = read_line(stdin, !from_stdin);
	}
	if (!*user || !*pass)
		return cabin_err_make(err, 0, "login: username and password are required");
	if (img_registry_login(argv[optind], user, pass, tls, cert_dir, err) < 0)
		return cabin_err_wrap(err, "login");
	if (img_auth_save(argv[optind], user, pass, err) < 0)
		return cabin_err_wrap(err, "login");
	printf("Login Succeeded\n");
	return 0;
}

int cmd_logout(int argc, char **argv, struct cabin_err **err)
{
	if (argc != 2 || argv[1][0] == '-') {
		if (argc == 2)
			fputs("usage: cabin logout REGISTRY\n", stdout);
		return argc == 2 ? 0 : cabin_err_make(err, 0, "logout: one registry is required");
	}
	if (img_auth_save(argv[1], NULL, NULL, err) < 0)
		return cabin_err_wrap(err, "logout");
	printf("Removed login credentials for %s\n", argv[1]);
	return 0;
}

/* ---- system df / prune ---- */

/* Containers' part of df and prune is in cmd-container.c. */
int cmd_container_df(struct img_store *s, size_t *total, size_t *running, uint64_t *size);
int cmd_container_prune(struct img_store *s, uint64_t *freed);
int cmd_volume_df(struct img_store *s, size_t *total, size_t *active, uint64_t *size);

static int system_df(struct img_store *s)
{
	struct img_store_usage u;
	size_t ct = 0, cr = 0, vt = 0, va = 0;
	uint64_t cs = 0, vs = 0;
	char a[16], b[16], c[16], d[16], e[16], f[16];

	img_store_usage(s, &u);
	cmd_container_df(s, &ct, &cr, &cs);
	cmd_volume_df(s, &vt, &va, &vs);
	printf("%-16s %-8s %-8s %s\n", "TYPE", "TOTAL", "ACTIVE", "SIZE");
	printf("%-16s %-8zu %-8zu %s\n", "Images", u.images, u.images_active,
	       img_human_size(u.images_size, a, sizeof(a)));
	printf("%-16s %-8zu %-8zu %s\n", "Layers", u.layers, u.layers - u.layers_orphaned,
	       img_human_size(u.layers_size, b, sizeof(b)));
	printf("%-16s %-8zu %-8zu %s\n", "Blobs", u.blobs, u.blobs - u.blobs_orphaned,
	       img_human_size(u.blobs_size, c, sizeof(c)));
	printf("%-16s %-8zu %-8zu %s\n", "Containers", ct, cr, img_human_size(cs, d, sizeof(d)));
	printf("%-16s %-8zu %-8zu %s\n", "Local Volumes", vt, va, img_human_size(vs, e, sizeof(e)));
	printf("Orphaned: %zu blobs, %zu layers (%s); temporary: %zu (%s)\n", u.blobs_orphaned,
	       u.layers_orphaned, img_human_size(u.orphaned_size, f, sizeof(f)), u.tmp,
	       img_human_size(u.tmp_size, a, sizeof(a)));
	return 0;
}

static int system_prune(struct img_store *s, int all)
{
	cleanup_json json_t *imgs = img_store_images(s);
	json_t *rec;
	uint64_t freed = 0;
	char h[16];
	size_t i;

	cmd_container_prune(s, &freed);
	/* Images with no name (or with -a, every unused one) and no container. */
	json_array_foreach(imgs, i, rec)
	{
		const char *id = json_string_value(json_object_get(rec, "id"));
		cleanup_json json_t *names = img_store_image_names(s, id);
		json_t *n;
		struct cabin_err *e = NULL;
		size_t k;

		if (id && (all || !json_array_size(names)) && !img_store_image_users(s, id)) {
			json_array_foreach(names, k, n)
				img_store_ref_del(s, json_string_value(n), &e);
			cabin_err_release(&e);
			if (img_store_image_remove(s, id, &e) == 0)
				printf("Deleted image: %s\n", id);
			cabin_err_release(&e);
		}
	}
	freed += img_store_gc(s, 1);
	printf("Total reclaimed space: %s\n", img_human_size(freed, h, sizeof(h)));
	return 0;
}

int cmd_system(int argc, char **argv, struct cabin_err **err)
{
	cleanup_store struct img_store *s = NULL;
	int all = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs("usage: cabin system df | prune [-a] [-f]\n"
		      "df: what the store holds; prune: remove stopped containers, unnamed images\n"
		      "(-a: every image no container uses) and every blob or layer nothing "
		      "references.\n",
		      stdout);
		return argc < 2 ? cabin_err_make(err, 0, "system: df or prune") : 0;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))
			all = 1;
		else if (strcmp(argv[i], "-f") && strcmp(argv[i], "--force"))
			return cabin_err_make(err, 0, "system: unknown option `%s`", argv[i]);
	}
	if (!strcmp(argv[1], "df")) {
		if (cmd_store_open(0, &s, err) < 0)
			return -1;
		return system_df(s);
	}
	if (!strcmp(argv[1], "prune")) {
		if (cmd_store_open(1, &s, err) < 0)
			return -1;
		return system_prune(s, all);
	}
	return cabin_err_make(err, 0, "system: unknown subcommand `%s`", argv[1]);
}
