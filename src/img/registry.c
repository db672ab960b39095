/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A client of the OCI distribution spec over libcurl: GET /v2/, the token dance
 * (WWW-Authenticate: Bearer realm=...,service=...,scope=...) or basic auth, manifests
 * with content negotiation, blobs in parallel through one curl multi handle with
 * Range requests to resume what an earlier pull left in tmp/HEX.partial.
 * TLS is verified against the system's CAs plus those of the registry's certs.d
 * directory (containers-certs.d(5), Docker's /etc/docker/certs.d) or of --cert-dir,
 * which may also hold a client certificate.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "img/auth.h"
#include "img/digest.h"
#include "img/manifest.h"
#include "img/ref.h"
#include "img/registry.h"
#include "img/store.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define ACCEPT_MANIFESTS                                                                           \
	"Accept: " IMG_MT_OCI_INDEX ", " IMG_MT_DOCKER_LIST ", " IMG_MT_OCI_MANIFEST               \
	", " IMG_MT_DOCKER_MANIFEST

struct buf {
	char *data;
	size_t len, max;
	int overflow;
};

struct reg {
	char *host;  /* "localhost:5000"; for docker.io the API host */
	char *shown; /* the registry as the user named it */
	char *repo;
	char *scheme; /* "https" or "http" */
	int insecure; /* skip TLS verification */
	char *ca;     /* PEM: the system's CAs and the registry's certs.d ones, or NULL */
	size_t ca_len;
	char *client_cert, *client_key; /* NAME.cert and NAME.key of certs.d, or NULL */
	CURLcode last_rc;		/* of the last http_get() */
	char *user, *pass;
	char *authz; /* "Authorization: ..." or NULL */
	/* headers of the last response */
	char *www_auth, *content_type, *dcd;
};

static void reg_free(struct reg *r)
{
	free(r->host);
	free(r->shown);
	free(r->repo);
	free(r->scheme);
	free(r->user);
	free(r->pass);
	free(r->authz);
	free(r->www_auth);
	free(r->content_type);
	free(r->dcd);
	free(r->ca);
	free(r->client_cert);
	free(r->client_key);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t buf_write(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = sz * n;
	char *nd;

	if (b->len + len > b->max) {
		b->overflow = 1;
		return 0;
	}
	nd = realloc(b->data, b->len + len + 1);
	if (!nd)
		return 0;
	b->data = nd;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static char *trim_dup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static size_t header_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct reg *r = arg;
	size_t len = sz * n;
	char *colon = memchr(p, ':', len);
	size_t klen;
	char **slot = NULL;

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* a new response (after a redirect): forget the previous one's headers */
		free(r->www_auth);
		free(r->content_type);
		free(r->dcd);
		r->www_auth = r->content_type = r->dcd = NULL;
		return len;
	}
	if (!colon)
		return len;
	klen = (size_t)(colon - p);
	if (klen == 16 && !strncasecmp(p, "www-authenticate", 16))
		slot = &r->www_auth;
	else if (klen == 12 && !strncasecmp(p, "content-type", 12))
		slot = &r->content_type;
	else if (klen == 21 && !strncasecmp(p, "docker-content-digest", 21))
		slot = &r->dcd;
	if (slot) {
		free(*slot);
		*slot = trim_dup(colon + 1, len - klen - 1);
	}
	return len;
}

static void setup_easy(struct reg *r, CURL *h, const char *url)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cabin/0.1");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer (under 1 byte/s for 60 s) fails instead of hanging. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (r->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (r->ca) {
		struct curl_blob blob = { .data = r->ca,
					  .len = r->ca_len,
					  .flags = CURL_BLOB_COPY };

		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (r->client_cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, r->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, r->client_key);
	}
}

static void ca_append_buf(struct reg *r, const char *buf, size_t len)
{
	char *nb;

	if (!buf || r->ca_len + len > (16u << 20))
		return;
	nb = xrealloc(r->ca, r->ca_len + len + 2);
	r->ca = nb;
	memcpy(r->ca + r->ca_len, buf, len);
	r->ca_len += len;
	r->ca[r->ca_len++] = '\n';
	r->ca[r->ca_len] = '\0';
}

/* Append a PEM file to @r->ca (bounded: a CA file is a few kB, a system bundle < 1 MB). */
static void ca_append(struct reg *r, const char *path)
{
	cleanup_free char *buf = NULL;
	struct cabin_err *e = NULL;
	size_t len = 0;

	if (fs_read_file(path, 4 << 20, &buf, &len, &e) < 0) {
		if (e && e->status != ENOENT)
			log_warn("registry `%s`: %s", r->shown, cabin_err_msg(e));
		cabin_err_release(&e);
		return;
	}
	ca_append_buf(r, buf, len);
}

static int has_ext(const char *name, const char *ext)
{
	size_t l = strlen(name), e = strlen(ext);

	return l > e && !strcmp(name + l - e, ext);
}

/*
 * One certs.d directory: its *.crt files are CAs (sorted, all of them); a NAME.cert is a
 * client certificate whose key must be NAME.key (the first pair is used). Returns how
 * many CAs were added, or <0 for a certificate without its key.
 */
static int certs_dir(struct reg *r, const char *dir, struct cabin_err **err)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), added = 0, ret = 0;

	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		cleanup_free char *path = xasprintf("%s/%s", dir, name);

		if (has_ext(name, ".crt")) {
			size_t before = r->ca_len;

			ca_append(r, path);
			added += r->ca_len > before;
		} else if (has_ext(name, ".cert") && !r->client_cert && ret == 0) {
			cleanup_free char *key =
				xasprintf("%s/%.*s.key", dir, (int)(strlen(name) - 5), name);

			if (access(key, R_OK) < 0)
				ret = cabin_err_make(err, errno,
						     "client certificate `%s`: its key `%s`", path,
						     key);
			else {
				r->client_cert = xstrdup(path);
				r->client_key = steal_ptr(&key);
			}
		}
		free(names[i]);
	}
	free(names);
	return ret < 0 ? ret : added;
}

/*
 * What TLS to a registry trusts and shows: with --cert-dir only that directory, else
 * $HOME/.config/containers/certs.d/HOST, /etc/containers/certs.d/HOST and
 * /etc/docker/certs.d/HOST (HOST as the image reference names it, with its port), as
 * containers-certs.d(5) and Docker describe them: *.crt CAs added to the system's, a
 * NAME.cert/NAME.key client certificate. No CA found: curl's default bundle alone
 * (r->ca stays NULL).
 */
static int certs_load(struct reg *r, const char *cert_dir, struct cabin_err **err)
{
	const char *home = getenv("HOME");
	cleanup_free char *sys = NULL;
	char *dirs[3] = { NULL, NULL, NULL };
	char *info = NULL;
	int added = 0, ret = 0;
	CURL *h;

	if (cert_dir) {
		dirs[0] = xstrdup(cert_dir);
	} else {
		/* the name is the reference's registry part: no `/`, but refuse `..` anyway */
		if (strstr(r->shown, "..") || strchr(r->shown, '/'))
			return 0;
		if (home && *home)
			dirs[0] = xasprintf("%s/.config/containers/certs.d/%s", home, r->shown);
		dirs[1] = xasprintf("/etc/containers/certs.d/%s", r->shown);
		dirs[2] = xasprintf("/etc/docker/certs.d/%s", r->shown);
	}
	for (int i = 0; i < 3; i++) {
		if (dirs[i] && ret == 0) {
			int k = certs_dir(r, dirs[i], err);

			if (k < 0)
				ret = k;
			else
				added += k;
		}
		free(dirs[i]);
	}
	if (!added || r->insecure) {
		/* curl's default bundle alone, or no verification at all */
		free(r->ca);
		r->ca = NULL;
		r->ca_len = 0;
		return ret;
	}
	/* The system's bundle too: a CAINFO blob replaces curl's default file. */
	h = curl_easy_init();
	if (h && curl_easy_getinfo(h, CURLINFO_CAINFO, &info) == CURLE_OK && info)
		sys = xstrdup(info);
	if (h)
		curl_easy_cleanup(h);
	{
		char *extra = r->ca;
		size_t extra_len = r->ca_len;

		r->ca = NULL;
		r->ca_len = 0;
		ca_append(r, sys ? sys : "/etc/ssl/certs/ca-certificates.crt");
		ca_append_buf(r, extra, extra_len);
		free(extra);
	}
	return ret;
}

static int http_get(struct reg *r, const char *url, const char *accept, struct buf *b, long *code,
		    const char *userpwd, struct cabin_err **err);

/* Answer a 401: fetch a bearer token, or use basic credentials. */
static int authenticate(struct reg *r, struct cabin_err **err)
{
	cleanup_free char *realm = NULL, *service = NULL, *scope = NULL, *url = NULL;
	cleanup_free char *userpwd = NULL, *esc_svc = NULL, *esc_scope = NULL, *tok = NULL;
	struct buf b = { .max = 1 << 20 };
	long code = 0;
	CURL *h;

	if (!r->www_auth)
		return cabin_err_make(err, 0,
				      "registry `%s`: 401 without a WWW-Authenticate challenge",
				      r->shown);
	if (!strncasecmp(r->www_auth, "basic", 5)) {
		cleanup_free char *up = NULL;

		if (!r->user)
			return cabin_err_make(err, 0,
					      "registry `%s`: 401 unauthorized: it needs a login "
					      "(`cabin login %s`)",
					      r->shown, r->shown);
		cleanup_free char *b64 = NULL;

		up = xasprintf("%s:%s", r->user, r->pass);
		b64 = img_base64(up, strlen(up));
		free(r->authz);
		r->authz = xasprintf("Authorization: Basic %s", b64);
		return 0;
	}
	if (strncasecmp(r->www_auth, "bearer", 6))
		return cabin_err_make(err, 0, "registry `%s`: unknown auth challenge `%.60s`",
				      r->shown, r->www_auth);
	realm = img_auth_challenge_param(r->www_auth, "realm");
	service = img_auth_challenge_param(r->www_auth, "service");
	scope = img_auth_challenge_param(r->www_auth, "scope");
	if (!realm || (strncmp(realm, "https://", 8) && strncmp(realm, "http://", 7)))
		return cabin_err_make(err, 0, "registry `%s`: bad token realm in `%.80s`", r->shown,
				      r->www_auth);
	if (!scope)
		scope = xasprintf("repository:%s:pull", r->repo);
	h = curl_easy_init();
	esc_svc = service ? curl_easy_escape(h, service, 0) : NULL;
	esc_scope = curl_easy_escape(h, scope, 0);
	curl_easy_cleanup(h);
	url = xasprintf("%s%sscope=%s%s%s", realm, strchr(realm, '?') ? "&" : "?", esc_scope,
			esc_svc ? "&service=" : "", esc_svc ? esc_svc : "");
	if (r->user)
		userpwd = xasprintf("%s:%s", r->user, r->pass);
	free(r->authz);
	r->authz = NULL;
	if (http_get(r, url, NULL, &b, &code, userpwd, err) < 0) {
		free(b.data);
		return cabin_err_wrap(err, "token");
	}
	if (code == 401 || code == 403) {
		free(b.data);
		return cabin_err_make(err, 0, "registry `%s`: %ld %s: the token service refused %s",
				      r->shown, code, code == 401 ? "unauthorized" : "forbidden",
				      r->user ? "the credentials" : "an anonymous pull");
	}
	tok = code == 200 ? img_auth_token_parse(b.data, b.len) : NULL;
	free(b.data);
	if (!tok)
		return cabin_err_make(err, 0, "registry `%s`: token request failed (HTTP %ld)",
				      r->shown, code);
	r->authz = xasprintf("Authorization: Bearer %s", tok);
	return 0;
}

static int http_get(struct reg *r, const char *url, const char *accept, struct buf *b, long *code,
		    const char *userpwd, struct cabin_err **err)
{
	struct curl_slist *hdr = NULL;
	CURL *h = curl_easy_init();
	char ebuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;

	if (!h)
		return cabin_err_make(err, ENOMEM, "curl");
	setup_easy(r, h, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	if (accept)
		hdr = curl_slist_append(hdr, accept);
	if (r->authz)
		hdr = curl_slist_append(hdr, r->authz);
	if (userpwd) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	rc = curl_easy_perform(h);
	r->last_rc = rc;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	if (b->overflow)
		return cabin_err_make(err, EFBIG, "GET `%s`: response over %zu bytes", url, b->max);
	/* curl keeps its first message: after a TLS alert that is getpeername()'s, not the cause */
	if (rc != CURLE_OK)
		return cabin_err_make(err, 0, "GET `%s`: %s", url,
				      ebuf[0] && strncmp(ebuf, "getpeername", 11)
					      ? ebuf
					      : curl_easy_strerror(rc));
	return 0;
}

/* GET a path under /v2/, answering one 401 with authentication. */
static int reg_get(struct reg *r, const char *path, const char *accept, struct buf *b, long *code,
		   struct cabin_err **err)
{
	cleanup_free char *url = xasprintf("%s://%s%s", r->scheme, r->host, path);

	for (int attempt = 0;; attempt++) {
		free(b->data);
		b->data = NULL;
		b->len = 0;
		if (http_get(r, url, accept, b, code, NULL, err) < 0)
			return cabin_err_wrap(err, "registry `%s`", r->shown);
		if (*code != 401 || attempt)
			break;
		if (authenticate(r, err) < 0)
			return -1;
	}
	if (*code == 401)
		return cabin_err_make(err, 0, "registry `%s`: 401 unauthorized for `%s`%s",
				      r->shown, r->repo,
				      r->user ? " (the credentials were refused)"
					      : ": log in with `cabin login`");
	return 0;
}

/*
 * Pick the scheme: https, verified. Registries on loopback (as Docker treats them) and
 * any registry with --tls-verify=false may be plain HTTP: https is tried without
 * verification first, then http. GET /v2/ also tells whether auth is needed.
 */
static int reg_connect(struct reg *r, int tls_verify, const char *cert_dir, struct cabin_err **err)
{
	struct buf b = { .max = 1 << 20 };
	long code = 0;
	int ret;

	r->insecure = !tls_verify || img_ref_host_is_loopback(r->host);
	/* without verification CAs do not matter, but a client certificate still does */
	if (certs_load(r, cert_dir, err) < 0)
		return cabin_err_wrap(err, "registry `%s`", r->shown);
	r->scheme = xstrdup("https");
	ret = reg_get(r, "/v2/", NULL, &b, &code, err);
	if (ret < 0 && !r->insecure) {
		CURLcode rc = r->last_rc;

		if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
		    rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CONNECT_ERROR) {
			free(b.data);
			return cabin_err_wrap(
				err,
				"TLS to `%s` failed (trust its CA with --cert-dir DIR or "
				"/etc/containers/certs.d/%s/ca.crt; plain HTTP only with "
				"--tls-verify=false)",
				r->shown, r->shown);
		}
		if (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) {
			free(b.data);
			return cabin_err_wrap(err,
					      "TLS to `%s`: the connection was closed (does the "
					      "registry want a client certificate? NAME.cert and "
					      "NAME.key go in --cert-dir DIR or "
					      "/etc/containers/certs.d/%s)",
					      r->shown, r->shown);
		}
	}
	if (ret < 0 && r->insecure) {
		cabin_err_release(err);
		free(r->scheme);
		r->scheme = xstrdup("http");
		ret = reg_get(r, "/v2/", NULL, &b, &code, err);
	}
	free(b.data);
	if (ret < 0)
		return -1;
	if (code != 200)
		return cabin_err_make(err, 0, "registry `%s`: GET /v2/: HTTP %ld (not a registry?)",
				      r->shown, code);
	return 0;
}

static int reg_init(struct reg *r, const char *registry, const char *repo, int tls_verify,
		    const char *cert_dir, struct cabin_err **err)
{
	memset(r, 0, sizeof(*r));
	pthread_once(&curl_once, curl_init_once);
	r->shown = xstrdup(registry);
	r->host = xstrdup(!strcmp(registry, "docker.io") ? "registry-1.docker.io" : registry);
	r->repo = xstrdup(repo);
	img_auth_get(registry, &r->user, &r->pass);
	return reg_connect(r, tls_verify, cert_dir, err);
}

int img_registry_login(const char *registry, const char *user, const char *pass, int tls_verify,
		       const char *cert_dir, struct cabin_err **err)
{
	struct reg r;
	int ret;

	memset(&r, 0, sizeof(r));
	pthread_once(&curl_once, curl_init_once);
	r.shown = xstrdup(registry);
	r.host = xstrdup(!strcmp(registry, "docker.io") ? "registry-1.docker.io" : registry);
	r.repo = xstrdup("");
	r.user = xstrdup(user);
	r.pass = xstrdup(pass);
	ret = reg_connect(&r, tls_verify, cert_dir, err);
	reg_free(&r);
	return ret;
}

/* Fetch a manifest or index; with @digest the body must hash to it. */
static int get_manifest(struct reg *r, const char *refpart, const char *digest, struct buf *b,
			char **ctype, struct cabin_err **err)
{
	cleanup_free char *path = xasprintf("/v2/%s/manifests/%s", r->repo, refpart);
	char got[IMG_DIGEST_LEN];
	long code = 0;

	b->max = IMG_MANIFEST_MAX;
	if (reg_get(r, path, ACCEPT_MANIFESTS, b, &code, err) < 0)
		return -1;
	if (code == 404)
		return cabin_err_make(err, 0, "registry `%s`: 404: manifest `%s:%s` not found",
				      r->shown, r->repo, refpart);
	if (code != 200)
		return cabin_err_make(err, 0, "registry `%s`: manifest `%s:%s`: HTTP %ld", r->shown,
				      r->repo, refpart, code);
	img_digest_buf(b->data ? b->data : "", b->len, got);
	if (digest && strcmp(got, digest))
		return cabin_err_make(
			err, 0,
			"registry `%s`: manifest digest mismatch: asked for `%s`, got "
			"`%s`",
			r->shown, digest, got);
	if (!digest && r->dcd && !strncmp(r->dcd, "sha256:", 7) && strcmp(r->dcd, got))
		return cabin_err_make(err, 0,
				      "registry `%s`: manifest digest mismatch: the registry says "
				      "`%s`, the content is `%s`",
				      r->shown, r->dcd, got);
	*ctype = r->content_type ? xstrndup(r->content_type, strcspn(r->content_type, ";")) : NULL;
	return 0;
}

/* ---- parallel blob downloads ---- */

struct dl {
	struct img_blob_desc *desc;
	const char *label; /* "config" or the layer number */
	char tmpname[80];  /* "HEX.partial" under tmp/ */
	int fd;
	int64_t have;	  /* bytes in the partial file before this transfer */
	int64_t got;	  /* bytes written by this transfer */
	int state;	  /* 0 waiting, 1 downloading, 2 done, 3 present */
	int restarted;	  /* the server ignored Range: rewritten from 0 */
	int auth_retried; /* a 401 mid-pull (token expired) is answered once */
	int retries;	  /* resumed after the connection broke */
	CURL *h;
	struct curl_slist *hdr;
	char errbuf[CURL_ERROR_SIZE];
	int write_error;
	int keep; /* interrupted by the network: the partial file stays for a resume */
};

struct pull {
	struct img_store *s;
	struct reg *r;
	const struct img_pull_opts *o;
	struct dl *dls;
	size_t n;
	int tty, drawn;
	struct timespec last;
};

static size_t dl_write(char *p, size_t sz, size_t n, void *arg)
{
	struct dl *d = arg;
	size_t len = sz * n, done = 0;
	long code = 0;

	curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200 && code != 206)
		return len; /* an error body: discarded, the status code reports it */
	if (code == 200 && d->have > 0 && !d->restarted) {
		/* No Range support: start over. */
		if (ftruncate(d->fd, 0) < 0 || lseek(d->fd, 0, SEEK_SET) < 0)
			return 0;
		d->have = 0;
		d->restarted = 1;
	}
	if (d->have + d->got + (int64_t)len > d->desc->size) {
		d->write_error = EFBIG;
		return 0;
	}
	while (done < len) {
		ssize_t w = write(d->fd, p + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			d->write_error = errno;
			return 0;
		}
		done += (size_t)w;
	}
	d->got += (int64_t)len;
	return len;
}

static void draw(struct pull *p, int force)
{
	FILE *f = p->o->progress;
	struct timespec now;

	if (p->o->quiet || !f || !p->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && (now.tv_sec - p->last.tv_sec) * 1000000000L + now.tv_nsec - p->last.tv_nsec <
			      100000000L)
		return;
	p->last = now;
	if (p->drawn)
		fprintf(f, "\033[%zuA", p->n);
	for (size_t i = 0; i < p->n; i++) {
		struct dl *d = &p->dls[i];
		int64_t cur = d->have + d->got, tot = d->desc->size;
		int w = tot ? (int)(30 * cur / tot) : 30;
		char a[16], b[16];
		static const char *const st[] = { "waiting", "downloading", "done", "exists" };

		fprintf(f, "\033[2K%.19s %-6s %-11s [%.*s%*s] %s/%s\n", d->desc->digest, d->label,
			st[d->state], w, "==============================", 30 - w, "",
			img_human_size((uint64_t)cur, a, sizeof(a)),
			img_human_size((uint64_t)tot, b, sizeof(b)));
	}
	p->drawn = 1;
	fflush(f);
}

/* Without a tty: one plain line per event, "DIGEST LABEL: WHAT SIZE". */
static void say(struct pull *p, const char *what, const char *digest, const char *label,
		int64_t size)
{
	char h[16];

	if (p->o->quiet || !p->o->progress || p->tty)
		return;
	fprintf(p->o->progress, "%.19s %s: %s %s\n", digest, label, what,
		img_human_size((uint64_t)size, h, sizeof(h)));
	fflush(p->o->progress);
}

static int dl_start(struct pull *p, CURLM *m, struct dl *d, struct cabin_err **err)
{
	cleanup_free char *url = xasprintf("%s://%s/v2/%s/blobs/%s", p->r->scheme, p->r->host,
					   p->r->repo, d->desc->digest);
	cleanup_free char *rel = xasprintf("tmp/%s", d->tmpname);
	struct stat st;
	char range[64];

	if (d->fd < 0)
		d->fd = openat(p->s->dirfd, rel, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->fd < 0 || fstat(d->fd, &st) < 0)
		return cabin_err_make(err, errno, "open `%s/%s`", p->s->root, rel);
	d->have = st.st_size;
	if (d->have > d->desc->size) {
		if (ftruncate(d->fd, 0) < 0)
			return cabin_err_make(err, errno, "truncate `%s`", rel);
		d->have = 0;
	}
	lseek(d->fd, d->have, SEEK_SET);
	d->got = 0;
	d->restarted = 0;
	d->state = 1;
	if (d->have == d->desc->size) {
		d->state = 2; /* a previous pull got all of it before it was killed */
		return 0;
	}
	d->h = curl_easy_init();
	setup_easy(p->r, d->h, url);
	d->hdr = NULL;
	if (p->r->authz)
		d->hdr = curl_slist_append(d->hdr, p->r->authz);
	if (d->have > 0) {
		snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long)d->have);
		d->hdr = curl_slist_append(d->hdr, range);
		say(p, "resuming at", d->desc->digest, d->label, d->have);
	} else {
		say(p, "downloading", d->desc->digest, d->label, d->desc->size);
	}
	curl_easy_setopt(d->h, CURLOPT_HTTPHEADER, d->hdr);
	curl_easy_setopt(d->h, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(d->h, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(d->h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(d->h, CURLOPT_HEADERDATA, p->r);
	curl_easy_setopt(d->h, CURLOPT_ERRORBUFFER, d->errbuf);
	curl_easy_setopt(d->h, CURLOPT_PRIVATE, d);
	d->errbuf[0] = '\0';
	d->write_error = 0;
	curl_multi_add_handle(m, d->h);
	return 0;
}

static void dl_end(CURLM *m, struct dl *d)
{
	if (d->h) {
		curl_multi_remove_handle(m, d->h);
		curl_easy_cleanup(d->h);
		d->h = NULL;
	}
	curl_slist_free_all(d->hdr);
	d->hdr = NULL;
}

/* A transfer ended: 1 to restart it (re-authenticated or resumed), 0 done, <0 error. */
static int dl_finish(struct pull *p, struct dl *d, CURLcode rc, struct cabin_err **err)
{
	long code = 0;

	curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &code);
	if (d->write_error == EFBIG)
		return cabin_err_make(err, 0,
				      "blob `%s`: the registry sent more than its size %lld",
				      d->desc->digest, (long long)d->desc->size);
	if (d->write_error) {
		char rel[128];

		/* Full disk and the like: what was written is not kept. */
		snprintf(rel, sizeof(rel), "tmp/%s", d->tmpname);
		unlinkat(p->s->dirfd, rel, 0);
		return cabin_err_make(err, d->write_error, "blob `%s`: write `%s/tmp/%s`",
				      d->desc->digest, p->s->root, d->tmpname);
	}
	if (code == 401 && !d->auth_retried) {
		d->auth_retried = 1;
		if (authenticate(p->r, err) < 0)
			return -1;
		return 1;
	}
	if (code == 404)
		return cabin_err_make(err, 0, "registry `%s`: 404: blob `%s` not found",
				      p->r->shown, d->desc->digest);
	if (code == 416 && d->have > 0) {
		/* Range not satisfiable: our partial file is wrong; start over. */
		if (ftruncate(d->fd, 0) < 0)
			return cabin_err_make(err, errno, "truncate");
		return 1;
	}
	if (rc != CURLE_OK) {
		d->keep = 1;
		/*
		 * The connection broke after some bytes came: resume at once with a Range
		 * request, as long as each attempt makes progress (a few times at most).
		 */
		if (d->got > 0 && d->retries < 5) {
			d->retries++;
			return 1;
		}
		return cabin_err_make(
			err, 0,
			"blob `%s`: download interrupted after %lld of %lld bytes: %s "
			"(the next pull resumes it)",
			d->desc->digest, (long long)(d->have + d->got), (long long)d->desc->size,
			d->errbuf[0] ? d->errbuf : curl_easy_strerror(rc));
	}
	if (code != 200 && code != 206)
		return cabin_err_make(err, 0, "registry `%s`: blob `%s`: HTTP %ld", p->r->shown,
				      d->desc->digest, code);
	if (d->have + d->got < d->desc->size) {
		/* The registry ended the body early: the layer is truncated. */
		char rel[128];

		snprintf(rel, sizeof(rel), "tmp/%s", d->tmpname);
		unlinkat(p->s->dirfd, rel, 0);
		return cabin_err_make(
			err, 0, "blob `%s`: truncated: the registry sent %lld of %lld bytes",
			d->desc->digest, (long long)(d->have + d->got), (long long)d->desc->size);
	}
	d->state = 2;
	return 0;
}

static int download_all(struct pull *p, struct cabin_err **err)
{
	CURLM *m = curl_multi_init();
	size_t next = 0, active = 0;
	int jobs = p->o->jobs > 0 ? p->o->jobs : 3, ret = 0;

	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)jobs);
	for (;;) {
		CURLMsg *msg;
		int running, left;

		while (!ret && active < (size_t)jobs && next < p->n) {
			struct dl *d = &p->dls[next++];

			if (d->state == 3) {
				say(p, "already exists", d->desc->digest, d->label, d->desc->size);
				continue;
			}
			if (dl_start(p, m, d, err) < 0) {
				ret = -1;
				break;
			}
			if (d->h)
				active++;
			else
				say(p, "already downloaded", d->desc->digest, d->label,
				    d->desc->size);
		}
		if (active == 0)
			break;
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct dl *d = NULL;
			int r;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
			r = ret < 0 ? 0 : dl_finish(p, d, msg->data.result, err);
			dl_end(m, d);
			active--;
			if (r < 0)
				ret = -1;
			else if (r == 1 && dl_start(p, m, d, err) == 0 && d->h)
				active++;
			else if (r == 0 && ret == 0)
				say(p, "done", d->desc->digest, d->label, d->desc->size);
		}
		draw(p, 0);
		if (active)
			curl_multi_poll(m, NULL, 0, 200, NULL);
	}
	curl_multi_cleanup(m);
	draw(p, 1);
	return ret;
}

int img_pull(struct img_store *s, const char *refstr, const struct img_pull_opts *o, char *id,
	     struct cabin_err **err)
{
	cleanup_ref struct img_ref ref = { 0 };
	cleanup_free char *ctype = NULL, *name = NULL, *repo_digest = NULL;
	const char *platform = o->platform ? o->platform : img_platform_host();
	char top_digest[IMG_DIGEST_LEN], mdigest[IMG_DIGEST_LEN];
	struct buf b = { 0 };
	struct img_manifest man = { 0 };
	struct pull p = { .s = s, .o = o };
	cleanup_json json_t *j = NULL, *names = NULL;
	struct reg r;
	int ret = -1;

	if (img_ref_parse(refstr, &ref, err) < 0)
		return -1;
	name = img_ref_name(&ref);
	ret = reg_init(&r, ref.registry, ref.repo, o->tls_verify, o->cert_dir, err);
	p.r = &r;
	if (ret < 0)
		goto out;
	ret = -1;
	if (get_manifest(&r, ref.digest ? ref.digest : ref.tag, ref.digest, &b, &ctype, err) < 0)
		goto out;
	img_digest_buf(b.data ? b.data : "", b.len, top_digest);
	j = b.data ? json_loadb(b.data, b.len, 0, NULL) : NULL;
	if (!json_is_object(j)) {
		cabin_err_make(err, 0, "registry `%s`: manifest of `%s` is not JSON", r.shown,
			       name);
		goto out;
	}
	if (img_manifest_is_index(ctype, j)) {
		struct img_blob_desc sel;

		if (img_index_select(j, platform, &sel, err) < 0) {
			cabin_err_wrap(err, "%s", name);
			goto out;
		}
		free(sel.media_type);
		cleanup_json_fn(&j); /* the index: the manifest it selects replaces it */
		free(ctype);
		ctype = NULL;
		if (get_manifest(&r, sel.digest, sel.digest, &b, &ctype, err) < 0)
			goto out;
		j = b.data ? json_loadb(b.data, b.len, 0, NULL) : NULL;
		if (!json_is_object(j) || img_manifest_is_index(ctype, j)) {
			cabin_err_make(err, 0, "registry `%s`: `%s` is not an image manifest",
				       r.shown, sel.digest);
			goto out;
		}
	}
	if (img_manifest_parse(j, &man, err) < 0) {
		cabin_err_wrap(err, "%s", name);
		goto out;
	}
	/* Config first, then the layers, each into tmp/HEX.partial. */
	p.n = man.nlayers + 1;
	p.dls = xcalloc(p.n, sizeof(*p.dls));
	for (size_t i = 0; i < p.n; i++) {
		struct dl *d = &p.dls[i];

		d->desc = i == 0 ? &man.config : &man.layers[i - 1];
		d->label = i == 0 ? "config" : "layer";
		d->fd = -1;
		snprintf(d->tmpname, sizeof(d->tmpname), "%s.partial",
			 img_digest_hex(d->desc->digest));
		if (img_store_blob_has(s, d->desc->digest, d->desc->size))
			d->state = 3;
	}
	p.tty = o->progress && isatty(fileno(o->progress));
	if (!o->quiet && o->progress)
		fprintf(o->progress, "pulling %s (%s)\n", name, platform);
	draw(&p, 1);
	if (download_all(&p, err) < 0)
		goto out;
	for (size_t i = 0; i < p.n; i++) {
		struct dl *d = &p.dls[i];

		if (d->state == 3)
			continue;
		if (d->fd >= 0) {
			close(d->fd);
			d->fd = -1;
		}
		if (img_store_blob_commit(s, d->tmpname, d->desc->digest, d->desc->size, err) < 0)
			goto out;
		d->state = 3;
	}
	if (img_store_blob_put(s, b.data, b.len, mdigest, err) < 0)
		goto out;
	repo_digest = xasprintf("%s/%s@%s", ref.registry, ref.repo, top_digest);
	names = json_array();
	if (ref.tag)
		json_array_append_new(names, json_string(name));
	if (img_image_commit(s, mdigest, platform, names, repo_digest, id, err) < 0) {
		cabin_err_wrap(err, "%s", name);
		goto out;
	}
	if (!o->quiet && o->progress)
		fprintf(o->progress, "%s: pulled, image %.19s\n", name, id);
	ret = 0;
out:
	for (size_t i = 0; i < p.n; i++) {
		struct dl *d = &p.dls[i];

		if (d->fd >= 0)
			close(d->fd);
		/* What this pull wrote is dropped on failure, unless the network cut it. */
		if (ret < 0 && d->state != 3 && !d->keep) {
			char rel[128];

			snprintf(rel, sizeof(rel), "tmp/%s", d->tmpname);
			unlinkat(s->dirfd, rel, 0);
		}
	}
	/*
	 * A failed pull leaves no complete blob or layer that nothing references; only
	 * tmp/HEX.partial of an interrupted download stays, for the next pull to resume.
	 */
	if (ret < 0)
		img_store_gc(s, 0);
	free(p.dls);
	img_manifest_free(&man);
	free(b.data);
	if (p.r)
		reg_free(&r);
	return ret;
}
