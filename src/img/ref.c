/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "img/digest.h"
#include "img/ref.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"

void img_ref_free(struct img_ref *r)
{
	free(r->registry);
	free(r->repo);
	free(r->tag);
	free(r->digest);
	r->registry = r->repo = r->tag = r->digest = NULL;
}

/* Repository path components: lowercase alphanumerics separated by `.`, `_`, `__`, `-`. */
static int repo_ok(const char *s)
{
	if (!*s || strlen(s) > 255)
		return 0;
	for (const char *p = s; *p; p++) {
		if (islower((unsigned char)*p) || isdigit((unsigned char)*p))
			continue;
		if (*p == '/' || *p == '.' || *p == '_' || *p == '-') {
			if (p == s || !p[1] || p[1] == '/' ||
			    (*p == '/' && !isalnum((unsigned char)p[1])))
				return 0;
			continue;
		}
		return 0;
	}
	return 1;
}

static int tag_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 128 || !(isalnum((unsigned char)*s) || *s == '_'))
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return 0;
	return 1;
}

int img_ref_parse(const char *s, struct img_ref *r, struct cabin_err **err)
{
	cleanup_err struct cabin_err *e = NULL;
	cleanup_free char *buf = NULL;
	char *p, *at, *slash, *colon;

	memset(r, 0, sizeof(*r));
	if (!s || !*s || strlen(s) > 512)
		return cabin_err_make(err, 0, "image reference `%s`: empty or too long",
				      s ? s : "");
	buf = xstrdup(s);
	at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		if (img_digest_check(at + 1, "image reference", &e) < 0)
			return cabin_err_make(err, 0, "image reference `%s`: bad digest", s);
		r->digest = xstrdup(at + 1);
	}
	/* A first component with `.` or `:`, or `localhost`, is a registry host. */
	slash = strchr(buf, '/');
	p = buf;
	if (slash &&
	    (memchr(buf, '.', (size_t)(slash - buf)) || memchr(buf, ':', (size_t)(slash - buf)) ||
	     (slash - buf == 9 && !strncmp(buf, "localhost", 9)))) {
		r->registry = xstrndup(buf, (size_t)(slash - buf));
		p = slash + 1;
	} else {
		r->registry = xstrdup("docker.io");
	}
	colon = strrchr(p, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_ok(colon + 1)) {
			/* the tag is in @buf: named before @buf goes */
			img_ref_free(r);
			return cabin_err_make(err, 0, "image reference `%s`: bad tag `%s`", s,
					      colon + 1);
		}
		r->tag = xstrdup(colon + 1);
	} else if (!r->digest) {
		r->tag = xstrdup("latest");
	}
	if (!repo_ok(p)) {
		img_ref_free(r);
		return cabin_err_make(
			err, 0,
			"image reference `%s`: bad repository name (lowercase letters, "
			"digits and `._-/` only)",
			s);
	}
	if (!strcmp(r->registry, "docker.io") && !strchr(p, '/'))
		r->repo = xasprintf("library/%s", p);
	else
		r->repo = xstrdup(p);
	/*
	 * The limits hold for the name as stored, `docker.io/library/` and `:latest` counted:
	 * that name must parse again.
	 */
	if (strlen(r->repo) > 255) {
		img_ref_free(r);
		return cabin_err_make(
			err, 0, "image reference `%s`: repository name over 255 characters", s);
	}
	{
		cleanup_free char *full = img_ref_name(r);

		if (strlen(full) > 512) {
			img_ref_free(r);
			return cabin_err_make(err, 0, "image reference `%s`: over 512 characters",
					      s);
		}
	}
	{
		/* host[:port]: a port is 1-5 digits */
		const char *c = strrchr(r->registry, ':');

		if (c && !strchr(c, ']') &&
		    (!c[1] || strlen(c + 1) > 5 || strspn(c + 1, "0123456789") != strlen(c + 1))) {
			cabin_err_make(err, 0, "image reference `%s`: bad registry port `%s`", s,
				       c + 1);
			img_ref_free(r);
			return -1;
		}
	}
	for (char *h = r->registry; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr(".-:[]", *h)) {
			img_ref_free(r);
			return cabin_err_make(err, 0, "image reference `%s`: bad registry host", s);
		}
	return 0;
}

char *img_ref_name(const struct img_ref *r)
{
	if (r->tag)
		return xasprintf("%s/%s:%s", r->registry, r->repo, r->tag);
	return xasprintf("%s/%s@%s", r->registry, r->repo, r->digest);
}

int img_ref_host_is_loopback(const char *registry)
{
	char host[256];
	const char *end;
	struct in6_addr a6;
	struct in_addr a4;
	size_t n;

	if (*registry == '[') {
		end = strchr(registry, ']');
		if (!end)
			return 0;
		registry++;
	} else {
		end = strchr(registry, ':');
		if (!end)
			end = registry + strlen(registry);
	}
	n = (size_t)(end - registry);
	if (n >= sizeof(host))
		return 0;
	memcpy(host, registry, n);
	host[n] = '\0';
	if (!strcmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}
