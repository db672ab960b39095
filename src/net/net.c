/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/bridge.h"
#include "net/ipam.h"
#include "net/nat.h"
#include "net/net.h"
#include "net/netlink.h"

/* Names become file names and bridge/hosts entries: Docker's character set. */
static int valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    s[i]))
			return 0;
	return 1;
}

/* ---- the store ---- */

struct store {
	char *dir; /* DATA_ROOT/network */
	int lock;
};

static void store_close(struct store *s)
{
	free(s->dir);
	s->dir = NULL;
	if (s->lock >= 0)
		close(s->lock); /* releases the flock */
	s->lock = -1;
}
#define cleanup_store __attribute__((cleanup(store_close)))

static int store_open(const char *data_root, struct store *s, struct cabin_err **err)
{
	cleanup_free char *lock = NULL;
	const char *subs[] = { "networks", "endpoints", "files" };

	s->lock = -1;
	s->dir = xasprintf("%s/network", data_root ? data_root : "/var/lib/cabin");
	for (size_t i = 0; i < 3; i++) {
		cleanup_free char *p = xasprintf("%s/%s", s->dir, subs[i]);
		if (fs_mkdir_p(p, 0700, err) < 0)
			return cabin_err_wrap(err, "network store");
	}
	lock = xasprintf("%s/lock", s->dir);
	s->lock = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock < 0)
		return cabin_err_make(err, errno, "open `%s`", lock);
	if (TEMP_FAILURE_RETRY(flock(s->lock, LOCK_EX)) < 0)
		return cabin_err_make(err, errno, "lock `%s`", lock);
	return 0;
}

static int load_json(const char *path, json_t **out, struct cabin_err **err)
{
	json_error_t je;
	cleanup_json json_t *j = json_load_file(path, 0, &je);

	if (!j) {
		if (access(path, F_OK) < 0)
			return -ENOENT;
		return cabin_err_make(err, EINVAL, "parse `%s`: %s", path, je.text);
	}
	if (!json_is_object(j))
		return cabin_err_make(err, EINVAL, "`%s`: not a JSON object", path);
	*out = steal_ptr(&j);
	return 0;
}

static int save_json(const struct store *s, const char *sub, const char *name, json_t *j,
		     struct cabin_err **err)
{
	cleanup_free char *dir = xasprintf("%s/%s", s->dir, sub);
	cleanup_free char *text = json_dumps(j, JSON_INDENT(2));
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *file = xasprintf("%s.json", name);

	if (!text)
		return cabin_err_make(err, ENOMEM, "encode `%s`", file);
	if (dfd < 0)
		return cabin_err_make(err, errno, "open `%s`", dir);
	return fs_write_file_atomic(dfd, file, text, strlen(text), 0600, FS_ATOMIC_FSYNC, err);
}

static const char *jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

/* A network as loaded: the JSON plus its parsed subnet and gateway. */
struct network {
	json_t *j;
	struct net_prefix subnet;
	uint32_t gateway;
	int is_default;
};

static void network_free(struct network *n)
{
	cleanup_json_fn(&n->j);
}
#define cleanup_network __attribute__((cleanup(network_free)))

static int network_parse(struct network *n, const char *path, struct cabin_err **err)
{
	if (net_ipam_parse_cidr(jstr(n->j, "subnet"), &n->subnet, err) < 0 ||
	    net_ipam_parse_ip(jstr(n->j, "gateway"), &n->gateway, err) < 0 ||
	    !valid_name(jstr(n->j, "bridge"), 15))
		return cabin_err_wrap(err, "corrupt network file `%s`", path);
	n->is_default = !strcmp(jstr(n->j, "name"), NET_DEFAULT_NETWORK);
	return 0;
}

/* Every subnet in use: the host's routes and addresses plus cabin's other networks. */
static int taken_subnets(const struct store *s, struct net_prefix **out, size_t *n,
			 struct cabin_err **err);

static int random_hex(char *buf, size_t nhex)
{
	unsigned char r[32];

	if (nhex > 64 || getrandom(r, (nhex + 1) / 2, 0) < 0)
		return -1;
	for (size_t i = 0; i < nhex; i++)
		buf[i] = "0123456789abcdef"[(r[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	buf[nhex] = '\0';
	return 0;
}

static int network_write(const struct store *s, const char *name, const char *bridge,
			 struct net_prefix subnet, uint32_t gw, char *id_out,
			 struct cabin_err **err)
{
	cleanup_json json_t *j = NULL;
	char id[65], sub[16], gws[16], cidr[24], when[32];
	time_t now = time(NULL);
	struct tm tm;

	if (random_hex(id, 64) < 0)
		return cabin_err_make(err, errno, "random network ID");
	net_ipam_fmt_ip(subnet.addr, sub);
	snprintf(cidr, sizeof(cidr), "%s/%u", sub, subnet.len);
	net_ipam_fmt_ip(gw, gws);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "name", name, "id", id, "driver", "bridge",
		      "bridge", bridge ? bridge : "", "subnet", cidr, "gateway", gws, "created",
		      when);
	if (!bridge) {
		char b[16];
		memcpy(b, "br-", 3);
		memcpy(b + 3, id, 12);
		b[15] = '\0';
		json_object_set_new(j, "bridge", json_string(b));
	}
	if (save_json(s, "networks", name, j, err) < 0)
		return -1;
	if (id_out)
		memcpy(id_out, id, 65);
	return 0;
}

/* Load network @name; the default network is created (as a record) on first use. */
static int network_load(const struct store *s, const char *name, struct network *n,
			struct cabin_err **err)
{
	cleanup_free char *path = NULL;
	int ret;

	if (!valid_name(name, 64))
		return cabin_err_make(err, EINVAL, "invalid network name `%s`", name);
	path = xasprintf("%s/networks/%s.json", s->dir, name);
	ret = load_json(path, &n->j, err);
	if (ret == -ENOENT && !strcmp(name, NET_DEFAULT_NETWORK)) {
		cleanup_free struct net_prefix *taken = NULL;
		struct net_prefix sub;
		size_t nt = 0;
		if (taken_subnets(s, &taken, &nt, err) < 0 ||
		    net_ipam_pick_subnet(taken, nt, &sub, err) < 0 ||
		    network_write(s, name, NET_DEFAULT_BRIDGE, sub, sub.addr + 1, NULL, err) < 0)
			return cabin_err_wrap(err, "default network");
		ret = load_json(path, &n->j, err);
	}
	if (ret == -ENOENT)
		return cabin_err_make(err, ENOENT, "network `%s` not found", name);
	if (ret < 0)
		return ret;
	return network_parse(n, path, err);
}

/* Calls @fn for each JSON file in DIR/@sub (name without .json). Stops on <0. */
static int for_each_json(const struct store *s, const char *sub,
			 int (*fn)(const char *name, json_t *j, void *arg), void *arg,
			 struct cabin_err **err)
{
	cleanup_free char *dir = xasprintf("%s/%s", s->dir, sub);
	cleanup_closedir DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return cabin_err_make(err, errno, "open `%s`", dir);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		cleanup_free char *path = NULL;
		cleanup_free char *name = NULL;
		cleanup_json json_t *j = NULL;
		int ret;

		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		ret = load_json(path, &j, err);
		if (ret == -ENOENT)
			continue;
		if (ret < 0)
			return ret;
		name = xstrndup(de->d_name, len - 5);
		ret = fn(name, j, arg);
		if (ret < 0)
			return ret;
	}
	return 0;
}

struct prefixes {
	struct net_prefix *v;
	size_t n;
};

static int collect_subnet(const char *name, json_t *j, void *arg)
{
	struct prefixes *p = arg;
	struct net_prefix sub;
	cleanup_err struct cabin_err *tmp = NULL;

	if (net_ipam_parse_cidr(jstr(j, "subnet"), &sub, &tmp) < 0)
		return 0;
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n++] = sub;
	return 0;
}

static int taken_subnets(const struct store *s, struct net_prefix **out, size_t *n,
			 struct cabin_err **err)
{
	cleanup_nl struct mnl_socket *sk = NULL;
	struct prefixes p = { 0 };

	if (net_nl_open(&sk, err) < 0 || net_route_dump(sk, &p.v, &p.n, err) < 0)
		return -1;
	if (for_each_json(s, "networks", collect_subnet, &p, err) < 0) {
		free(p.v);
		return -1;
	}
	*out = p.v;
	*n = p.n;
	return 0;
}

/* ---- ports ---- */

static int parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int net_port_parse(const char *spec, struct net_port *out, struct cabin_err **err)
{
	const char *slash = strchr(spec, '/');
	size_t len = slash ? (size_t)(slash - spec) : strlen(spec);
	const char *c2 = NULL, *c1 = NULL;
	uint32_t ip;

	memset(out, 0, sizeof(*out));
	if (slash) {
		if (!strcmp(slash + 1, "udp"))
			out->udp = 1;
		else if (strcmp(slash + 1, "tcp"))
			return cabin_err_make(err, EINVAL,
					      "invalid port `%s`: protocol must be tcp or udp",
					      spec);
	}
	for (size_t i = len; i-- > 0;)
		if (spec[i] == ':') {
			if (!c2)
				c2 = spec + i;
			else if (!c1) {
				c1 = spec + i;
				break;
			}
		}
	if (!c2)
		return cabin_err_make(err, EINVAL,
				      "invalid port `%s`: expected [IP:]HOST_PORT:CONTAINER_PORT",
				      spec);
	if (parse_port(c2 + 1, (size_t)(spec + len - c2 - 1), &out->ctr_port) < 0)
		return cabin_err_make(err, EINVAL, "invalid port `%s`: bad container port", spec);
	if (c1) {
		size_t iplen = (size_t)(c1 - spec);
		char buf[16];
		if (iplen >= sizeof(buf))
			return cabin_err_make(err, EINVAL, "invalid port `%s`: bad host IP", spec);
		memcpy(buf, spec, iplen);
		buf[iplen] = '\0';
		if (net_ipam_parse_ip(buf, &ip, err) < 0)
			return cabin_err_wrap(err, "invalid port `%s`", spec);
		if (ip != 0) /* 0.0.0.0 means every address, as with Docker */
			net_ipam_fmt_ip(ip, out->host_ip);
	}
	if (parse_port(c1 ? c1 + 1 : spec, (size_t)(c2 - (c1 ? c1 + 1 : spec)), &out->host_port) <
	    0)
		return cabin_err_make(err, EINVAL, "invalid port `%s`: bad host port", spec);
	return 0;
}

/*
 * Is the host port free? Bind a socket of the same protocol to it for a moment: a port
 * that another program listens on (or, for udp, is bound to) refuses. SO_REUSEADDR lets
 * TCP ports in TIME_WAIT through, as a server restarting on them would.
 */
static int probe_port(const struct net_port *p, struct cabin_err **err)
{
	cleanup_close int fd =
		socket(AF_INET, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p->host_port) };
	int one = 1;

	if (fd < 0)
		return cabin_err_make(err, errno, "socket");
	if (*p->host_ip)
		inet_pton(AF_INET, p->host_ip, &sa.sin_addr);
	if (!p->udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EADDRINUSE)
			return cabin_err_make(err, 0, "host port %s%s%u/%s is already in use",
					      p->host_ip, *p->host_ip ? ":" : "", p->host_port,
					      p->udp ? "udp" : "tcp");
		if (errno == EADDRNOTAVAIL)
			return cabin_err_make(err, 0, "host IP `%s` is not an address of this host",
					      p->host_ip);
		return cabin_err_make(err, errno, "bind host port %u", p->host_port);
	}
	return 0;
}

struct port_check {
	const struct net_port *p;
	const char *owner;
	char *owner_copy;
};

static int check_published(const char *id, json_t *ep, void *arg)
{
	struct port_check *c = arg;
	json_t *ports = json_object_get(ep, "ports"), *pj;
	size_t i;

	json_array_foreach(ports, i, pj)
	{
		const char *hip = jstr(pj, "host_ip");
		int udp = !strcmp(jstr(pj, "proto"), "udp");
		if (json_integer_value(json_object_get(pj, "host_port")) != c->p->host_port ||
		    udp != c->p->udp)
			continue;
		if (*hip && *c->p->host_ip && strcmp(hip, c->p->host_ip))
			continue;
		c->owner_copy = xstrdup(*jstr(ep, "name") ? jstr(ep, "name") : id);
		return -EADDRINUSE;
	}
	return 0;
}

/* ---- endpoints ---- */

void net_files_paths(const char *data_root, const char *id, struct net_lease *out)
{
	const char *root = data_root ? data_root : "/var/lib/cabin";

	snprintf(out->hosts_path, sizeof(out->hosts_path), "%s/network/files/%s/hosts", root, id);
	snprintf(out->resolv_path, sizeof(out->resolv_path), "%s/network/files/%s/resolv.conf",
		 root, id);
	snprintf(out->hostname_path, sizeof(out->hostname_path), "%s/network/files/%s/hostname",
		 root, id);
}

int net_files_prepare(const char *data_root, const char *id, struct net_lease *out,
		      struct cabin_err **err)
{
	cleanup_store struct store s = { .lock = -1 };
	const char *paths[3];
	cleanup_free char *dir = NULL;

	if (!valid_name(id, 128))
		return cabin_err_make(err, EINVAL, "invalid container ID `%s`", id);
	if (store_open(data_root, &s, err) < 0)
		return -1;
	net_files_paths(data_root, id, out);
	dir = xasprintf("%s/files/%s", s.dir, id);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return cabin_err_make(err, errno, "create `%s`", dir);
	paths[0] = out->hosts_path;
	paths[1] = out->resolv_path;
	paths[2] = out->hostname_path;
	for (size_t i = 0; i < 3; i++) {
		cleanup_close int fd =
			open(paths[i], O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return cabin_err_make(err, errno, "create `%s`", paths[i]);
	}
	return 0;
}

struct used_ips {
	const char *network;
	uint32_t *v;
	size_t n;
};

static int collect_ip(const char *id, json_t *ep, void *arg)
{
	struct used_ips *u = arg;
	cleanup_err struct cabin_err *tmp = NULL;
	uint32_t ip;

	if (strcmp(jstr(ep, "network"), u->network) || !*jstr(ep, "ip"))
		return 0;
	if (net_ipam_parse_ip(jstr(ep, "ip"), &ip, &tmp) < 0)
		return 0;
	u->v = xrealloc(u->v, (u->n + 1) * sizeof(*u->v));
	u->v[u->n++] = ip;
	return 0;
}

/* Write @data to @path in place: a bind mount of the file pins its inode. */
static int write_in_place(const char *path, const char *data, struct cabin_err **err)
{
	cleanup_close int fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return cabin_err_make(err, errno, "open `%s`", path);
	if (fs_write_all(fd, data, strlen(data)) < 0)
		return cabin_err_make(err, errno, "write `%s`", path);
	return 0;
}

static const char hosts_head[] = "127.0.0.1\tlocalhost\n"
				 "::1\tlocalhost ip6-localhost ip6-loopback\n"
				 "fe00::0\tip6-localnet\n"
				 "ff00::0\tip6-mcastprefix\n"
				 "ff02::1\tip6-allnodes\n"
				 "ff02::2\tip6-allrouters\n";

static void append(char **text, char *line);

/* --add-host entries, resolved at attach time: [[HOST, IP], ...] in the endpoint */
static void append_extra_hosts(char **text, json_t *ep)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(ep, "extraHosts"), i, e)
	{
		const char *h = json_string_value(json_array_get(e, 0));
		const char *ip = json_string_value(json_array_get(e, 1));

		if (h && ip)
			append(text, xasprintf("%s\t%s\n", ip, h));
	}
}

struct hosts_build {
	const char *network;
	const char *self;
	char *text;
};

/* Append @line to *@text (which may be NULL); takes ownership of @line. */
static void append(char **text, char *line)
{
	cleanup_free char *old = *text;

	*text = xasprintf("%s%s", old ? old : "", line);
	free(line);
}

static int hosts_peer(const char *id, json_t *ep, void *arg)
{
	struct hosts_build *h = arg;
	const char *name = jstr(ep, "name"), *host = jstr(ep, "hostname");

	if (strcmp(jstr(ep, "network"), h->network) || !strcmp(id, h->self) || !*jstr(ep, "ip"))
		return 0;
	if (*name && strcmp(name, host))
		append(&h->text, xasprintf("%s\t%s %s\n", jstr(ep, "ip"), name, host));
	else
		append(&h->text, xasprintf("%s\t%s\n", jstr(ep, "ip"), host));
	return 0;
}

/* The hosts file of endpoint @id: localhost, itself, and on user networks its peers. */
static int write_hosts(const struct store *s, const char *id, json_t *ep, int peers,
		       struct cabin_err **err)
{
	struct hosts_build h = { .network = jstr(ep, "network"), .self = id };
	cleanup_free char *path = xasprintf("%s/files/%s/hosts", s->dir, id);
	const char *ip = jstr(ep, "ip"), *name = jstr(ep, "name"), *host = jstr(ep, "hostname");
	int ret;

	h.text = xstrdup(hosts_head);
	append_extra_hosts(&h.text, ep);
	if (*ip && *name && strcmp(name, host))
		append(&h.text, xasprintf("%s\t%s %s\n", ip, host, name));
	else if (*ip)
		append(&h.text, xasprintf("%s\t%s\n", ip, host));
	if (peers && for_each_json(s, "endpoints", hosts_peer, &h, err) < 0) {
		free(h.text);
		return -1;
	}
	ret = write_in_place(path, h.text, err);
	free(h.text);
	return ret;
}

struct peers_ctx {
	const struct store *s;
	const char *network;
};

static int rewrite_peer(const char *id, json_t *ep, void *arg)
{
	struct peers_ctx *c = arg;
	cleanup_err struct cabin_err *tmp = NULL;

	if (strcmp(jstr(ep, "network"), c->network))
		return 0;
	/* a peer whose files are gone is being detached: nothing to keep current */
	if (write_hosts(c->s, id, ep, 1, &tmp) < 0)
		return 0;
	return 0;
}

static int is_user_network(const char *network)
{
	return strcmp(network, NET_DEFAULT_NETWORK) && strcmp(network, "host") &&
	       strcmp(network, "none");
}

/*
 * resolv.conf: the host's, without loopback name servers a container cannot reach. Each of
 * --dns, --dns-search and --dns-option replaces the host's lines of its kind, as Docker
 * does (`--dns-search .`: no search line).
 */
static int write_resolv(const char *path, const struct net_cfg *cfg, int keep_loopback,
			struct cabin_err **err)
{
	const char *src = cfg->resolv_src;
	int own_ns = json_array_size(cfg->dns) > 0,
	    own_search = json_array_size(cfg->dns_search) > 0;
	int own_opts = json_array_size(cfg->dns_options) > 0;
	json_t *jv;
	size_t i;
	cleanup_free char *in = NULL;
	cleanup_free char *out = xstrdup("");
	size_t len = 0;
	int servers = 0;
	cleanup_err struct cabin_err *tmp = NULL;

	if (fs_read_file(src ? src : "/etc/resolv.conf", 1 << 20, &in, &len, &tmp) < 0)
		in = xstrdup("");
	for (char *save = NULL, *line = strtok_r(in, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v = line;
		if ((own_search && (!strncmp(v, "search", 6) || !strncmp(v, "domain", 6))) ||
		    (own_opts && !strncmp(v, "options", 7)))
			continue;
		if (!strncmp(v, "nameserver", 10) && (v[10] == ' ' || v[10] == '\t')) {
			if (own_ns)
				continue;
			v += 11;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!keep_loopback && (!strncmp(v, "127.", 4) || !strncmp(v, "::1", 3)))
				continue;
			servers++;
		}
		append(&out, xasprintf("%s\n", line));
	}
	json_array_foreach(cfg->dns, i, jv)
	{
		append(&out, xasprintf("nameserver %s\n", json_string_value(jv)));
		servers++;
	}
	if (own_search) {
		append(&out, xstrdup("search"));
		json_array_foreach(cfg->dns_search, i, jv) if (strcmp(json_string_value(jv), "."))
			append(&out, xasprintf(" %s", json_string_value(jv)));
		append(&out, xstrdup("\n"));
		if (!strcmp(out + strlen(out) - 7, "search\n"))
			out[strlen(out) - 7] = '\0'; /* only `.`: no search line */
	}
	if (own_opts) {
		append(&out, xstrdup("options"));
		json_array_foreach(cfg->dns_options, i, jv)
			append(&out, xasprintf(" %s", json_string_value(jv)));
		append(&out, xstrdup("\n"));
	}
	/* Docker's fallback when the host only has a local resolver */
	if (!servers)
		append(&out, xstrdup("nameserver 8.8.8.8\nnameserver 8.8.4.4\n"));
	return write_in_place(path, out, err);
}

static int write_files(const struct store *s, const struct net_cfg *cfg, json_t *ep,
		       struct cabin_err **err)
{
	cleanup_free char *dir = xasprintf("%s/files/%s", s->dir, cfg->id);
	cleanup_free char *hn = xasprintf("%s/hostname", dir);
	cleanup_free char *rc = xasprintf("%s/resolv.conf", dir);
	cleanup_free char *line = xasprintf("%s\n", jstr(ep, "hostname"));
	const char *network = jstr(ep, "network");

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return cabin_err_make(err, errno, "create `%s`", dir);
	if (write_in_place(hn, line, err) < 0)
		return -1;
	if (write_resolv(rc, cfg, !strcmp(network, "host"), err) < 0)
		return -1;
	if (!strcmp(network, "host")) {
		cleanup_free char *hosts = NULL;
		cleanup_free char *path = xasprintf("%s/hosts", dir);
		size_t len;
		cleanup_err struct cabin_err *tmp = NULL;
		if (fs_read_file("/etc/hosts", 1 << 20, &hosts, &len, &tmp) < 0)
			hosts = xstrdup(hosts_head);
		if (*hosts && hosts[strlen(hosts) - 1] != '\n')
			append(&hosts, xstrdup("\n"));
		append_extra_hosts(&hosts, ep);
		return write_in_place(path, hosts, err);
	}
	return write_hosts(s, cfg->id, ep, is_user_network(network), err);
}

/* Undo whatever of endpoint @ep exists; every step tolerates a missing resource. */
static int endpoint_teardown(const struct store *s, const char *id, json_t *ep,
			     struct cabin_err **err)
{
	json_t *ports = json_object_get(ep, "ports"), *pj;
	const char *veth = jstr(ep, "veth");
	const char *network = jstr(ep, "network");
	cleanup_free char *path = NULL;
	cleanup_free char *files = NULL;
	int ret = 0;
	size_t i;

	json_array_foreach(ports, i, pj)
	{
		const char *hip = jstr(pj, "host_ip");
		json_int_t port = json_integer_value(json_object_get(pj, "host_port"));
		uint32_t a;
		cleanup_err struct cabin_err *bad = NULL;

		/* the record becomes an nft command: only what attach could have written */
		if (port < 1 || port > 65535 || (*hip && net_ipam_parse_ip(hip, &a, &bad) < 0))
			continue;
		if (net_nat_port(0, hip, (uint16_t)port, jstr(ep, "ip"), 0,
				 !strcmp(jstr(pj, "proto"), "udp"), err) < 0)
			ret = -1;
	}
	if (*veth && valid_name(veth, 15)) {
		cleanup_nl struct mnl_socket *sk = NULL;
		if (net_nl_open(&sk, err) < 0 || net_link_del(sk, veth, err) < 0)
			ret = -1;
	}
	if (ret < 0)
		return ret; /* keep the record: a later detach retries */
	files = xasprintf("%s/files", s->dir);
	{
		cleanup_close int dfd = open(files, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0 && fs_rm_rf_at(dfd, id, err) < 0)
			return -1;
	}
	path = xasprintf("%s/endpoints/%s.json", s->dir, id);
	if (unlink(path) < 0 && errno != ENOENT)
		return cabin_err_make(err, errno, "remove `%s`", path);
	if (is_user_network(network)) {
		struct peers_ctx c = { s, network };
		cleanup_err struct cabin_err *tmp = NULL;
		for_each_json(s, "endpoints", rewrite_peer, &c, &tmp);
	}
	return 0;
}

struct stale {
	char **ids;
	json_t **eps;
	size_t n;
};

/*
 * A bridge endpoint whose host-side veth is gone has lost its container: the kernel
 * destroys a veth pair with the last process of the namespace holding one end. Its record
 * is left by a detach that never ran (a monitor killed with SIGKILL, a crash of the machine
 * between namespace and record). Attach holds the lock from the record to the veth, so a
 * record without a veth seen under the lock is never one being made.
 */
static int collect_stale(const char *id, json_t *ep, void *arg)
{
	struct stale *st = arg;
	const char *veth = jstr(ep, "veth");

	if (!*veth || !valid_name(veth, 15) || net_link_index(veth) != -ENODEV)
		return 0;
	st->ids = xrealloc(st->ids, (st->n + 1) * sizeof(*st->ids));
	st->eps = xrealloc(st->eps, (st->n + 1) * sizeof(*st->eps));
	st->ids[st->n] = xstrdup(id);
	st->eps[st->n] = json_incref(ep);
	st->n++;
	return 0;
}

/* Undo every stale endpoint (see collect_stale); failures only leave them for later. */
static void sweep_stale(const struct store *s)
{
	struct stale st = { 0 };
	cleanup_err struct cabin_err *tmp = NULL;

	for_each_json(s, "endpoints", collect_stale, &st, &tmp);
	for (size_t i = 0; i < st.n; i++) {
		cabin_err_release(&tmp);
		if (endpoint_teardown(s, st.ids[i], st.eps[i], &tmp) == 0)
			log_info("network: removed the endpoint of `%s`, whose container is gone",
				 st.ids[i]);
		free(st.ids[i]);
		json_decref(st.eps[i]);
	}
	free(st.ids);
	free(st.eps);
}

/*
 * --add-host HOST:IP into the endpoint (kept there: the hosts file is rewritten when
 * peers come and go). host-gateway is the address the host has on the container's
 * network, its gateway, as Docker's default host-gateway-ip (the bridge's address).
 */
static int extra_hosts_resolve(const struct net_cfg *cfg, json_t *ep, struct cabin_err **err)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_object_set_new(ep, "extraHosts", out);
	json_array_foreach(cfg->extra_hosts, i, v)
	{
		const char *spec = json_string_value(v) ?: "", *sep = strchr(spec, '=');
		cleanup_free char *host = NULL, *ip = NULL;
		unsigned char buf[16];

		if (!sep)
			sep = strchr(spec, ':');
		if (!sep || sep == spec)
			return cabin_err_make(err, EINVAL, "--add-host `%s`: expected HOST:IP",
					      spec);
		host = xstrndup(spec, (size_t)(sep - spec));
		ip = xstrdup(sep + 1);
		if (*ip == '[' && strlen(ip) > 2 && ip[strlen(ip) - 1] == ']') {
			memmove(ip, ip + 1, strlen(ip));
			ip[strlen(ip) - 1] = '\0';
		}
		if (!strcmp(ip, "host-gateway")) {
			const char *gw = jstr(ep, "gateway");

			free(steal_ptr(&ip));
			if (*gw)
				ip = xstrdup(gw);
			else if (!strcmp(jstr(ep, "network"), "host"))
				ip = xstrdup("127.0.0.1");
			else
				return cabin_err_make(
					err, EINVAL,
					"--add-host `%s`: host-gateway needs a bridge "
					"network, not `%s`",
					spec, jstr(ep, "network"));
		}
		if (!valid_name(host, 253) ||
		    (inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1))
			return cabin_err_make(err, EINVAL, "--add-host `%s`: expected HOST:IP",
					      spec);
		json_array_append_new(out, json_pack("[s,s]", host, ip));
	}
	return 0;
}

static int attach_locked(const struct store *s, const struct net_cfg *cfg, const char *netns_path,
			 struct net_lease *out, struct cabin_err **err)
{
	const char *network = cfg->network ? cfg->network : NET_DEFAULT_NETWORK;
	cleanup_free char *ep_path = xasprintf("%s/endpoints/%s.json", s->dir, cfg->id);
	cleanup_network struct network net = { 0 };
	cleanup_json json_t *ep = NULL;
	cleanup_close int nsfd = -1;
	json_t *ports;
	char hostname[64];
	int bridged = strcmp(network, "host") && strcmp(network, "none");

	sweep_stale(s);
	if (access(ep_path, F_OK) == 0)
		return cabin_err_make(err, EEXIST,
				      "container `%s` is already attached to a network", cfg->id);
	if (cfg->n_ports && !bridged)
		return cabin_err_make(err, EINVAL,
				      "published ports need a bridge network, not `%s`", network);
	if (bridged && network_load(s, network, &net, err) < 0)
		return -1;
	if (strcmp(network, "host")) {
		if (!netns_path)
			return cabin_err_make(err, EINVAL, "network `%s` needs a network namespace",
					      network);
		nsfd = open(netns_path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			return cabin_err_make(err, errno, "open network namespace `%s`",
					      netns_path);
	}
	/* ports: each once, not published by another container, not bound on the host */
	for (size_t i = 0; i < cfg->n_ports; i++) {
		struct port_check c = { .p = &cfg->ports[i] };
		for (size_t k = 0; k < i; k++)
			if (cfg->ports[k].host_port == cfg->ports[i].host_port &&
			    cfg->ports[k].udp == cfg->ports[i].udp)
				return cabin_err_make(err, EINVAL, "host port %u/%s is given twice",
						      cfg->ports[i].host_port,
						      cfg->ports[i].udp ? "udp" : "tcp");
		if (for_each_json(s, "endpoints", check_published, &c, err) == -EADDRINUSE) {
			cabin_err_make(err, 0,
				       "host port %u/%s is already published by container `%s`",
				       cfg->ports[i].host_port, cfg->ports[i].udp ? "udp" : "tcp",
				       c.owner_copy);
			free(c.owner_copy);
			return -1;
		}
		if (probe_port(&cfg->ports[i], err) < 0)
			return -1;
	}

	snprintf(hostname, sizeof(hostname), "%.*s", 12, cfg->id);
	ep = json_pack("{s:s,s:s,s:s,s:s,s:[]}", "id", cfg->id, "network", network, "name",
		       cfg->name ? cfg->name : "", "hostname",
		       cfg->hostname && *cfg->hostname ? cfg->hostname : hostname, "ports");
	ports = json_object_get(ep, "ports");
	for (size_t i = 0; i < cfg->n_ports; i++)
		json_array_append_new(ports, json_pack("{s:s,s:i,s:i,s:s}", "host_ip",
						       cfg->ports[i].host_ip, "host_port",
						       cfg->ports[i].host_port, "ctr_port",
						       cfg->ports[i].ctr_port, "proto",
						       cfg->ports[i].udp ? "udp" : "tcp"));
	memset(out, 0, sizeof(*out));
	net_files_paths(cfg->data_root, cfg->id, out);

	if (bridged) {
		cleanup_free uint32_t *used_v = NULL;
		struct used_ips used = { .network = network };
		char ipbuf[16], gwbuf[16], veth[16];
		uint32_t ip;
		int br;

		br = net_bridge_ensure(jstr(net.j, "bridge"), net.subnet, net.gateway, err);
		if (br < 0)
			return cabin_err_wrap(err, "network `%s`", network);
		if (for_each_json(s, "endpoints", collect_ip, &used, err) < 0)
			return -1;
		used_v = used.v;
		if (net_ipam_pick_addr(net.subnet, net.gateway, used.v, used.n, &ip, err) < 0)
			return cabin_err_wrap(err, "network `%s`", network);
		memcpy(veth, "veth", 4);
		if (random_hex(veth + 4, 8) < 0)
			return cabin_err_make(err, errno, "random veth name");
		net_ipam_fmt_ip(ip, ipbuf);
		net_ipam_fmt_ip(net.gateway, gwbuf);
		json_object_set_new(ep, "ip", json_string(ipbuf));
		json_object_set_new(ep, "gateway", json_string(gwbuf));
		json_object_set_new(ep, "prefix", json_integer(net.subnet.len));
		json_object_set_new(ep, "veth", json_string(veth));
		/* the lease is recorded before anything is made, so a crash leaves a record */
		if (save_json(s, "endpoints", cfg->id, ep, err) < 0)
			return -1;
		if (net_veth_setup(nsfd, veth, br, ip, net.subnet.len, net.gateway, err) < 0)
			goto err_teardown;
		for (size_t i = 0; i < cfg->n_ports; i++)
			if (net_nat_port(1, cfg->ports[i].host_ip, cfg->ports[i].host_port, ipbuf,
					 cfg->ports[i].ctr_port, cfg->ports[i].udp, err) < 0)
				goto err_teardown;
		memcpy(out->ip, ipbuf, sizeof(ipbuf));
		memcpy(out->gateway, gwbuf, sizeof(gwbuf));
		memcpy(out->veth, veth, sizeof(veth));
		out->prefix = net.subnet.len;
	} else {
		if (save_json(s, "endpoints", cfg->id, ep, err) < 0)
			return -1;
		if (nsfd >= 0 && net_lo_up(nsfd, err) < 0)
			goto err_teardown;
	}
	if (extra_hosts_resolve(cfg, ep, err) < 0)
		goto err_teardown;
	if (write_files(s, cfg, ep, err) < 0)
		goto err_teardown;
	if (is_user_network(network)) {
		struct peers_ctx c = { s, network };
		if (for_each_json(s, "endpoints", rewrite_peer, &c, err) < 0)
			goto err_teardown;
	}
	return 0;

err_teardown : {
	cleanup_err struct cabin_err *tmp = NULL;
	endpoint_teardown(s, cfg->id, ep, &tmp);
}
	return -1;
}

int net_attach(const struct net_cfg *cfg, const char *netns_path, struct net_lease *out,
	       struct cabin_err **err)
{
	cleanup_store struct store s = { .lock = -1 };

	if (!cfg->id || !valid_name(cfg->id, 128))
		return cabin_err_make(err, EINVAL, "invalid container ID `%s`",
				      cfg->id ? cfg->id : "");
	if (cfg->name && *cfg->name && !valid_name(cfg->name, 128))
		return cabin_err_make(err, EINVAL, "invalid container name `%s`", cfg->name);
	if (cfg->hostname && *cfg->hostname && !valid_name(cfg->hostname, 63))
		return cabin_err_make(err, EINVAL, "invalid hostname `%s`", cfg->hostname);
	if (store_open(cfg->data_root, &s, err) < 0)
		return -1;
	if (attach_locked(&s, cfg, netns_path, out, err) < 0)
		return cabin_err_wrap(err, "attach `%s` to network `%s`", cfg->id,
				      cfg->network ? cfg->network : NET_DEFAULT_NETWORK);
	return 0;
}

int net_detach(const char *data_root, const char *id, struct cabin_err **err)
{
	cleanup_store struct store s = { .lock = -1 };
	cleanup_free char *path = NULL;
	cleanup_json json_t *ep = NULL;
	int ret;

	if (!valid_name(id, 128))
		return cabin_err_make(err, EINVAL, "invalid container ID `%s`", id);
	if (store_open(data_root, &s, err) < 0)
		return -1;
	path = xasprintf("%s/endpoints/%s.json", s.dir, id);
	ret = load_json(path, &ep, err);
	if (ret == -ENOENT) {
		cleanup_free char *files = xasprintf("%s/files", s.dir);
		cleanup_close int dfd = open(files, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0)
			fs_rm_rf_at(dfd, id, err);
		return 0;
	}
	if (ret < 0)
		return ret;
	if (endpoint_teardown(&s, id, ep, err) < 0)
		return cabin_err_wrap(err, "detach `%s`", id);
	return 0;
}

/* ---- networks ---- */

int net_network_create(const char *data_root, const char *name, const char *subnet,
		       const char *gateway, char *id_out, struct cabin_err **err)
{
	cleanup_store struct store s = { .lock = -1 };
	cleanup_free struct net_prefix *taken = NULL;
	cleanup_free char *path = NULL;
	cleanup_network struct network net = { 0 };
	struct net_prefix sub;
	size_t nt = 0;
	uint32_t gw;

	if (!valid_name(name, 64))
		return cabin_err_make(err, EINVAL,
				      "invalid network name `%s`: use letters, digits, `_`, `.` "
				      "and `-`, at most 64",
				      name);
	if (!strcmp(name, "host") || !strcmp(name, "none") || !strcmp(name, NET_DEFAULT_NETWORK))
		return cabin_err_make(err, EEXIST, "network `%s` is predefined", name);
	if (store_open(data_root, &s, err) < 0)
		return -1;
	path = xasprintf("%s/networks/%s.json", s.dir, name);
	if (access(path, F_OK) == 0)
		return cabin_err_make(err, EEXIST, "network `%s` already exists", name);
	if (taken_subnets(&s, &taken, &nt, err) < 0)
		return -1;
	if (subnet) {
		if (net_ipam_parse_cidr(subnet, &sub, err) < 0)
			return -1;
		for (size_t i = 0; i < nt; i++)
			if (net_ipam_overlap(sub, taken[i]))
				return cabin_err_make(
					err, EEXIST,
					"subnet `%s` overlaps a subnet in use on this "
					"host",
					subnet);
	} else if (net_ipam_pick_subnet(taken, nt, &sub, err) < 0) {
		return -1;
	}
	gw = sub.addr + 1;
	if (gateway) {
		if (net_ipam_parse_ip(gateway, &gw, err) < 0)
			return -1;
		if (!net_ipam_overlap((struct net_prefix){ gw, 32 }, sub) || gw == sub.addr ||
		    gw == (sub.addr | (0xffffffffu >> sub.len)))
			return cabin_err_make(err, EINVAL,
					      "gateway `%s` is not a host address of the subnet",
					      gateway);
	}
	if (network_write(&s, name, NULL, sub, gw, id_out, err) < 0)
		return -1;
	/* the bridge is made now, as Docker does, so a failure shows at create */
	if (network_load(&s, name, &net, err) < 0 ||
	    net_bridge_ensure(jstr(net.j, "bridge"), net.subnet, net.gateway, err) < 0) {
		cleanup_err struct cabin_err *tmp = NULL;
		if (net.j)
			net_bridge_remove(jstr(net.j, "bridge"), net.subnet, &tmp);
		unlink(path);
		return cabin_err_wrap(err, "create network `%s`", name);
	}
	return 0;
}

struct members {
	const char *network;
	char *ids;
};

static int collect_member(const char *id, json_t *ep, void *arg)
{
	struct members *m = arg;

	if (strcmp(jstr(ep, "network"), m->network))
		return 0;
	append(&m->ids, xasprintf("%s`%s`", m->ids ? ", " : "", id));
	return 0;
}

int net_network_rm(const char *data_root, const char *name, struct cabin_err **err)
{
	cleanup_store struct store s = { .lock = -1 };
	cleanup_network struct network net = { 0 };
	cleanup_free char *path = NULL;
	struct members m = { .network = name };

	if (!strcmp(name, "host") || !strcmp(name, "none") || !strcmp(name, NET_DEFAULT_NETWORK))
		return cabin_err_make(err, 0, "network `%s` is predefined and cannot be removed",
				      name);
	if (store_open(data_root, &s, err) < 0)
		return -1;
	if (network_load(&s, name, &net, err) < 0)
		return -1;
	sweep_stale(&s);
	if (for_each_json(&s, "endpoints", collect_member, &m, err) < 0)
		return -1;
	if (m.ids) {
		cabin_err_make(err, EBUSY, "network `%s` has containers attached: %s", name, m.ids);
		free(m.ids);
		return -1;
	}
	if (net_bridge_remove(jstr(net.j, "bridge"), net.subnet, err) < 0)
		return cabin_err_wrap(err, "remove network `%s`", name);
	path = xasprintf("%s/networks/%s.json", s.dir, name);
	if (unlink(path) < 0)
		return cabin_err_make(err, errno, "remove `%s`", path);
	return 0;
}

struct list_ctx {
	json_t *arr;
	json_t *endpoints; /* id -> endpoint */
	const char *only;
};

static int collect_ep(const char *id, json_t *ep, void *arg)
{
	json_object_set(arg, id, ep);
	return 0;
}

static json_t *network_view(const char *name, json_t *j, json_t *endpoints)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "Name", name, "Id", j ? jstr(j, "id") : name,
			      "Driver", j ? "bridge" : name);
	json_t *ctrs = json_object(), *ep;
	const char *id;

	if (j) {
		json_object_set_new(o, "Bridge", json_string(jstr(j, "bridge")));
		json_object_set_new(o, "Subnet", json_string(jstr(j, "subnet")));
		json_object_set_new(o, "Gateway", json_string(jstr(j, "gateway")));
		json_object_set_new(o, "Created", json_string(jstr(j, "created")));
	}
	json_object_foreach(endpoints, id, ep)
	{
		json_t *c;
		if (strcmp(jstr(ep, "network"), name))
			continue;
		c = json_pack("{s:s,s:s,s:s,s:O}", "Name", jstr(ep, "name"), "Hostname",
			      jstr(ep, "hostname"), "Veth", jstr(ep, "veth"), "Ports",
			      json_object_get(ep, "ports"));
		if (*jstr(ep, "ip")) {
			cleanup_free char *cidr =
				xasprintf("%s/%d", jstr(ep, "ip"),
					  (int)json_integer_value(json_object_get(ep, "prefix")));
			json_object_set_new(c, "IPv4Address", json_string(cidr));
		}
		json_object_set_new(ctrs, id, c);
	}
	json_object_set_new(o, "Containers", ctrs);
	return o;
}

static int list_network(const char *name, json_t *j, void *arg)
{
	struct list_ctx *c = arg;

	if (c->only && strcmp(c->only, name))
		return 0;
	json_array_append_new(c->arr, network_view(name, j, c->endpoints));
	return 0;
}

int net_network_list(const char *data_root, const char *name, json_t **out, struct cabin_err **err)
{
	cleanup_store struct store s = { .lock = -1 };
	cleanup_json json_t *arr = json_array();
	cleanup_json json_t *eps = json_object();
	cleanup_network struct network def = { 0 };
	struct list_ctx c = { arr, eps, name };

	if (store_open(data_root, &s, err) < 0)
		return -1;
	/* the default network exists from the first look on, as with Docker */
	if (network_load(&s, NET_DEFAULT_NETWORK, &def, err) < 0)
		return -1;
	if (for_each_json(&s, "endpoints", collect_ep, eps, err) < 0 ||
	    for_each_json(&s, "networks", list_network, &c, err) < 0)
		return -1;
	if (!name || !strcmp(name, "host"))
		json_array_append_new(arr, network_view("host", NULL, eps));
	if (!name || !strcmp(name, "none"))
		json_array_append_new(arr, network_view("none", NULL, eps));
	if (name && json_array_size(arr) == 0)
		return cabin_err_make(err, ENOENT, "network `%s` not found", name);
	*out = steal_ptr(&arr);
	return 0;
}
