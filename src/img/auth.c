/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Registry credentials in the format Docker and podman share:
 *   {"auths": {"HOST": {"auth": base64("user:password")}}}
 * Read from (first hit wins) $REGISTRY_AUTH_FILE, cabin's own file (what `cabin login`
 * writes), then where podman and Docker keep them: $XDG_RUNTIME_DIR/containers/auth.json
 * (/run/containers/UID/auth.json without XDG_RUNTIME_DIR, as containers-auth.json(5)
 * says), $XDG_CONFIG_HOME/containers/auth.json (~/.config/...) and
 * $DOCKER_CONFIG/config.json (~/.docker/config.json). A file may name credential helpers
 * instead (Docker's "credHelpers": {HOST: NAME} and "credsStore": NAME): the program
 * docker-credential-NAME is run with `get` and the server on stdin, and answers
 * {"Username": ..., "Secret": ...}.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "img/auth.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

char *img_auth_own_file(void)
{
	const char *f = getenv("CABIN_AUTH_FILE");
	const char *home = getenv("HOME");

	if (f && *f)
		return xstrdup(f);
	return xasprintf("%s/.config/cabin/auth.json", home && *home ? home : "/root");
}

char *img_base64(const void *buf, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	return out;
}

char *img_auth_challenge_param(const char *ch, const char *key)
{
	size_t kl = strlen(key);
	const char *p = ch;

	while ((p = strcasestr(p, key))) {
		const char *v = p + kl, *e;

		if ((p == ch || p[-1] == ' ' || p[-1] == ',') && *v == '=') {
			v++;
			if (*v == '"') {
				v++;
				e = strchr(v, '"');
			} else {
				e = v + strcspn(v, ", ");
			}
			return e ? xstrndup(v, (size_t)(e - v)) : NULL;
		}
		p = v;
	}
	return NULL;
}

char *img_auth_token_parse(const char *body, size_t len)
{
	cleanup_json json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	const char *tok = json_string_value(json_object_get(j, "token"));

	if (!tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	/* it goes into a request header: no line break may end that header early */
	if (!tok || strlen(tok) > 16384 || strpbrk(tok, "\r\n"))
		return NULL;
	return xstrdup(tok);
}

/* Decode "user:password"; NULL if it is not valid base64 of that form. */
static int decode_auth(const char *b64, char **user, char **pass)
{
	size_t n = strlen(b64);
	cleanup_free unsigned char *out = NULL;
	char *colon;
	int len;

	if (n == 0 || n > 8192 || n % 4)
		return -1;
	out = xmalloc(n + 1);
	len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (len < 0)
		return -1;
	/* EVP_DecodeBlock counts the `=` padding as zero bytes. */
	while (n && b64[n - 1] == '=') {
		n--;
		len--;
	}
	out[len] = '\0';
	colon = strchr((char *)out, ':');
	if (!colon)
		return -1;
	*user = xstrndup((char *)out, (size_t)(colon - (char *)out));
	*pass = xstrdup(colon + 1);
	return 0;
}

/*
 * Run docker-credential-@helper get, @server on its stdin; 0 with *@user and *@pass set
 * when it answers with both. A helper that fails or is missing means no credentials.
 */
static int helper_get(const char *helper, const char *server, char **user, char **pass)
{
	cleanup_free char *prog = NULL, *out = NULL;
	int in[2], outp[2], status = 0;
	cleanup_json json_t *j = NULL;
	ssize_t n;
	pid_t pid;

	/* the name becomes part of a program name looked up on PATH */
	if (!*helper || strlen(helper) > 64 ||
	    helper[strspn(helper,
			  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")])
		return -1;
	prog = xasprintf("docker-credential-%s", helper);
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(outp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0)
			_exit(127);
		execlp(prog, prog, "get", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	if (pid > 0) {
		/* a helper that exits without reading must not kill us with SIGPIPE */
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);

		fs_write_all(in[1], server, strlen(server));
		signal(SIGPIPE, old);
	}
	close(in[1]);
	n = pid > 0 ? fs_read_fd(outp[0], 65536, &out) : -1;
	close(outp[0]);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	j = json_loadb(out, (size_t)n, 0, NULL);
	if (!json_string_value(json_object_get(j, "Username")) ||
	    !json_string_value(json_object_get(j, "Secret")))
		return -1;
	*user = xstrdup(json_string_value(json_object_get(j, "Username")));
	*pass = xstrdup(json_string_value(json_object_get(j, "Secret")));
	return 0;
}

/* The helper a config names for @registry: credHelpers[HOST], else credsStore. */
static const char *helper_for(json_t *cfg, const char *registry)
{
	const char *h =
		json_string_value(json_object_get(json_object_get(cfg, "credHelpers"), registry));

	return h ? h : json_string_value(json_object_get(cfg, "credsStore"));
}

static json_t *load_auths(json_t *j)
{
	json_t *a = json_object_get(j, "auths");

	if (!json_is_object(a))
		return NULL;
	return json_incref(a);
}

static json_t *find_entry(json_t *auths, const char *registry)
{
	json_t *e = json_object_get(auths, registry);
	cleanup_free char *k1 = xasprintf("https://%s", registry);
	cleanup_free char *k2 = xasprintf("http://%s", registry);
	const char *k;
	json_t *v;

	if (e)
		return e;
	if ((e = json_object_get(auths, k1)) || (e = json_object_get(auths, k2)))
		return e;
	if (!strcmp(registry, "docker.io") &&
	    (e = json_object_get(auths, "https://index.docker.io/v1/")))
		return e;
	/* "https://host/v1/" and the like */
	json_object_foreach(auths, k, v)
	{
		const char *h = strstr(k, "://");

		h = h ? h + 3 : k;
		if (!strncmp(h, registry, strlen(registry)) &&
		    (h[strlen(registry)] == '/' || !h[strlen(registry)]))
			return v;
	}
	return NULL;
}

int img_auth_get(const char *registry, char **user, char **pass)
{
	const char *rf = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_RUNTIME_DIR");
	const char *cfg = getenv("XDG_CONFIG_HOME"), *dc = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");
	char *files[5] = { NULL, NULL, NULL, NULL, NULL };
	int found = 0;

	if (!home || !*home)
		home = "/root";
	files[0] = rf && *rf ? xstrdup(rf) : NULL;
	files[1] = img_auth_own_file();
	files[2] = xdg && *xdg ? xasprintf("%s/containers/auth.json", xdg)
			       : xasprintf("/run/containers/%u/auth.json", (unsigned)getuid());
	files[3] = cfg && *cfg ? xasprintf("%s/containers/auth.json", cfg)
			       : xasprintf("%s/.config/containers/auth.json", home);
	files[4] = dc && *dc ? xasprintf("%s/config.json", dc)
			     : xasprintf("%s/.docker/config.json", home);
	for (int i = 0; i < 5 && !found; i++) {
		cleanup_json json_t *conf = files[i] ? json_load_file(files[i], 0, NULL) : NULL;
		cleanup_json json_t *auths = load_auths(conf);
		json_t *e = find_entry(auths, registry);
		const char *a = json_string_value(json_object_get(e, "auth"));
		const char *u = json_string_value(json_object_get(e, "username"));
		const char *p = json_string_value(json_object_get(e, "password"));
		const char *helper = helper_for(conf, registry);

		/* as Docker: a helper named for the registry comes before "auths" */
		if (helper &&
		    helper_get(helper,
			       strcmp(registry, "docker.io") ? registry
							     : "https://index.docker.io/v1/",
			       user, pass) == 0)
			found = 1;
		else if (a && decode_auth(a, user, pass) == 0)
			found = 1;
		else if (u && p) {
			*user = xstrdup(u);
			*pass = xstrdup(p);
			found = 1;
		}
	}
	for (int i = 0; i < 5; i++)
		free(files[i]);
	return found;
}

int img_auth_save(const char *registry, const char *user, const char *pass, struct cabin_err **err)
{
	cleanup_free char *path = img_auth_own_file(), *dir = NULL, *up = NULL, *b64 = NULL;
	cleanup_free char *txt = NULL;
	cleanup_close int dfd = -1;
	json_error_t je;
	cleanup_json json_t *j = NULL;
	json_t *auths;
	char *slash;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (!slash)
		return cabin_err_make(err, 0, "auth file `%s`: not a path", path);
	*slash = '\0';
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return -1;
	j = json_load_file(path, 0, &je);
	if (!j)
		j = json_object();
	auths = json_object_get(j, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(j, "auths", auths);
	}
	if (user) {
		up = xasprintf("%s:%s", user, pass);
		b64 = img_base64(up, strlen(up));
		json_object_set_new(auths, registry, json_pack("{s:s}", "auth", b64));
	} else if (!json_object_get(auths, registry)) {
		return cabin_err_make(err, 0, "not logged in to `%s`", registry);
	} else {
		json_object_del(auths, registry);
	}
	txt = json_dumps(j, JSON_INDENT(2));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cabin_err_make(err, errno, "open `%s`", dir);
	/* The file holds passwords: 0600, written whole or not at all. */
	return fs_write_file_atomic(dfd, slash + 1, txt, strlen(txt), 0600, FS_ATOMIC_FSYNC, err);
}
