/* SPDX-License-Identifier: MIT */
/*
 * The metrics endpoint (see metrics.h): a registry of the databases being
 * replicated, the Prometheus text rendering of their counters, and the
 * libmicrohttpd server that returns it.
 *
 * Text format 0.0.4, in short: per metric family one "# HELP name text"
 * line, one "# TYPE name counter|gauge" line, then its samples
 * `name{label="value",...} number`, all samples of a family together.
 * Label values escape backslash, double quote and newline.
 *
 * Why libmicrohttpd: it is packaged by Debian, mature, and serves from an
 * internal thread with its own poll loop, so the daemon's event loop needs
 * no hooks; the endpoint serves one small GET, and a hand-written HTTP
 * server would be more code to get right than the rest of this file.
 *
 * Consistency: one scrape first copies every database's and every
 * replica's stats (atomic loads, the position under its lock) into
 * arrays, then writes the families from that copy, so the samples of one
 * database agree with each other across families.  Families about what a
 * replica holds carry a `replica` label (its name) beside `db`; those
 * about the database itself (checkpoints, generations, waits) only `db`.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/config.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/metrics.h"
#include "daemon/repl.h"
#include "s3/s3.h"

/* 10,000 databases come to about 15 MB of text; this only stops a bug. */
#define RENDER_MAX	(1024ULL * 1024 * 1024)
#define CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* ---- the registry ---- */

/* Guards the registry; held for a whole scrape (see metrics_remove). */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct repl **reg;
static size_t nreg, capreg;

void
metrics_add(struct repl *r)
{
	pthread_mutex_lock(&reg_lock);
	if (nreg == capreg) {
		capreg = capreg ? capreg * 2 : 16;
		reg = xrealloc(reg, capreg * sizeof(*reg));
	}
	r->st.slot = nreg;
	reg[nreg++] = r;
	pthread_mutex_unlock(&reg_lock);
}

void
metrics_remove(struct repl *r)
{
	size_t i;

	pthread_mutex_lock(&reg_lock);
	i = r->st.slot;
	if (i < nreg && reg[i] == r) {
		/* The last entry fills the hole: O(1) for 10,000 databases. */
		reg[i] = reg[--nreg];
		reg[i]->st.slot = i;
	}
	if (nreg == 0) {
		free(reg);
		reg = NULL;
		capreg = 0;
	}
	pthread_mutex_unlock(&reg_lock);
}

/* ---- rendering ---- */

/* One database's numbers, copied at the start of a scrape. */
struct snap {
	const char	*path;		/* the config's; valid under reg_lock */
	uint64_t	 generations;
	uint64_t	 checkpoints[4];
	int		 waiting;	/* enum repl_wait */
	char		 gen[GEN_ID_LEN + 1];
};

/* One replica's. */
struct rsnap {
	const char	*path, *name;	/* the config's; valid under reg_lock */
	uint64_t	 wal_bytes, wal_frames, segments, snapshots, snapshot_bytes;
	uint64_t	 sync_errors, pending_bytes, let_go;
	int64_t		 last_sync_ns, pending_since_ns;
	uint32_t	 index;
	uint64_t	 offset;
};

#define LOAD(p)	atomic_load_explicit(p, memory_order_relaxed)

static void
take_snap(struct repl *r, struct snap *s)
{
	s->path = r->path;
	s->generations = LOAD(&r->st.generations);
	for (int m = 0; m < 4; m++)
		s->checkpoints[m] = LOAD(&r->st.checkpoints[m]);
	s->waiting = LOAD(&r->st.waiting);
	pthread_mutex_lock(&r->st.lock);
	memcpy(s->gen, r->st.gen, sizeof(s->gen));
	pthread_mutex_unlock(&r->st.lock);
}

static void
take_rsnap(struct repl *r, struct shipper *sh, struct rsnap *s)
{
	struct shipper_stats *st = &sh->st;

	s->path = r->path;
	s->name = sh->name;
	s->wal_bytes = LOAD(&st->wal_bytes);
	s->wal_frames = LOAD(&st->wal_frames);
	s->segments = LOAD(&st->segments);
	s->snapshots = LOAD(&st->snapshots);
	s->snapshot_bytes = LOAD(&st->snapshot_bytes);
	s->sync_errors = LOAD(&st->sync_errors);
	s->pending_bytes = LOAD(&st->pending_bytes);
	s->let_go = LOAD(&st->let_go);
	s->last_sync_ns = LOAD(&st->last_sync_ns);
	s->pending_since_ns = LOAD(&st->pending_since_ns);
	pthread_mutex_lock(&st->lock);
	s->index = st->index;
	s->offset = st->offset;
	pthread_mutex_unlock(&st->lock);
}

/* Per-replica counters that are a plain field of struct rsnap. */
static const struct {
	const char	*name;
	const char	*help;
	size_t		 off;
} plain[] = {
	{ "litestream_c_wal_bytes_shipped_total",
	    "WAL bytes uploaded to the replica (before compression).",
	    offsetof(struct rsnap, wal_bytes) },
	{ "litestream_c_wal_frames_shipped_total",
	    "WAL frames uploaded to the replica.",
	    offsetof(struct rsnap, wal_frames) },
	{ "litestream_c_wal_segments_shipped_total",
	    "WAL segment objects written to the replica.",
	    offsetof(struct rsnap, segments) },
	{ "litestream_c_sync_errors_total",
	    "Sync passes that failed (each is retried).",
	    offsetof(struct rsnap, sync_errors) },
	{ "litestream_c_snapshots_total",
	    "Snapshots written to the replica.",
	    offsetof(struct rsnap, snapshots) },
	{ "litestream_c_snapshot_bytes_total",
	    "Database bytes written as snapshots (before compression).",
	    offsetof(struct rsnap, snapshot_bytes) },
};

/* The checkpoint modes reported (the daemon never runs FULL). */
static const struct {
	enum wal_ckpt_mode	 mode;
	const char		*label;
} ckpt_modes[] = {
	{ WAL_CKPT_PASSIVE, "passive" },
	{ WAL_CKPT_RESTART, "restart" },
	{ WAL_CKPT_TRUNCATE, "truncate" },
};

static int
head(struct buf *b, const char *name, const char *type, const char *help,
    struct lsc_err *err)
{
	return buf_appendf(b, err, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A label value, escaped as the text format requires. */
static int
label_value(struct buf *b, const char *v, struct lsc_err *err)
{
	int rc = LSC_OK;

	for (const char *p = v; *p != '\0' && rc == LSC_OK; p++) {
		if (*p == '\\')
			rc = buf_append(b, "\\\\", 2, err);
		else if (*p == '"')
			rc = buf_append(b, "\\\"", 2, err);
		else if (*p == '\n')
			rc = buf_append(b, "\\n", 2, err);
		else
			rc = buf_append(b, p, 1, err);
	}
	return rc;
}

/* `name{db="path"` : the caller adds more labels, "} " and the value. */
static int
db_sample(struct buf *b, const char *name, const char *path,
    struct lsc_err *err)
{
	int rc = buf_appendf(b, err, "%s{db=\"", name);

	if (rc == LSC_OK)
		rc = label_value(b, path, err);
	if (rc == LSC_OK)
		rc = buf_append(b, "\"", 1, err);
	return rc;
}

/* `name{db="path",replica="name"` (replica names need no escaping:
 * config.c allows letters, digits, '-' and '_'). */
static int
rep_sample(struct buf *b, const char *name, const struct rsnap *s,
    struct lsc_err *err)
{
	int rc = db_sample(b, name, s->path, err);

	if (rc == LSC_OK)
		rc = buf_appendf(b, err, ",replica=\"%s\"", s->name);
	return rc;
}

static int
render_replicas(struct buf *b, const struct rsnap *v, size_t n, int64_t now,
    struct lsc_err *err)
{
	int rc;

	for (size_t f = 0; f < sizeof(plain) / sizeof(plain[0]); f++) {
		if ((rc = head(b, plain[f].name, "counter", plain[f].help,
		    err)) != LSC_OK)
			return rc;
		for (size_t i = 0; i < n; i++) {
			uint64_t x = *(const uint64_t *)(const void *)
			    ((const char *)&v[i] + plain[f].off);

			if ((rc = rep_sample(b, plain[f].name, &v[i], err)) != LSC_OK ||
			    (rc = buf_appendf(b, err, "} %llu\n",
			    (unsigned long long)x)) != LSC_OK)
				return rc;
		}
	}

	if ((rc = head(b, "litestream_c_replication_lag_seconds", "gauge",
	    "Age of the oldest WAL data not yet in the replica; 0 when the "
	    "replica holds everything.", err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int64_t lag = v[i].pending_since_ns == 0 ? 0 :
		    now - v[i].pending_since_ns;

		if ((rc = rep_sample(b, "litestream_c_replication_lag_seconds",
		    &v[i], err)) != LSC_OK ||
		    (rc = buf_appendf(b, err, "} %.3f\n",
		    lag > 0 ? (double)lag / 1e9 : 0.0)) != LSC_OK)
			return rc;
	}

	if ((rc = head(b, "litestream_c_last_sync_timestamp_seconds", "gauge",
	    "Unix time of the last successful sync; 0 before the first.",
	    err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = rep_sample(b, "litestream_c_last_sync_timestamp_seconds",
		    &v[i], err)) != LSC_OK ||
		    (rc = buf_appendf(b, err, "} %.3f\n",
		    (double)v[i].last_sync_ns / 1e9)) != LSC_OK)
			return rc;
	}

	if ((rc = head(b, "litestream_c_replica_pending_bytes", "gauge",
	    "Bytes of the local shadow WAL kept for the replica: what it "
	    "lacks.", err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = rep_sample(b, "litestream_c_replica_pending_bytes",
		    &v[i], err)) != LSC_OK ||
		    (rc = buf_appendf(b, err, "} %llu\n",
		    (unsigned long long)v[i].pending_bytes)) != LSC_OK)
			return rc;
	}

	if ((rc = head(b, "litestream_c_replica_pending_released", "gauge",
	    "1 when max-pending was reached and the bytes the replica lacked "
	    "were let go (on-pending-full = release): a new generation "
	    "starts when it is back.", err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = rep_sample(b, "litestream_c_replica_pending_released",
		    &v[i], err)) != LSC_OK ||
		    (rc = buf_appendf(b, err, "} %llu\n",
		    (unsigned long long)v[i].let_go)) != LSC_OK)
			return rc;
	}

	if ((rc = head(b, "litestream_c_replica_wal_index", "gauge",
	    "WAL index of the replica's position in the generation.",
	    err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = rep_sample(b, "litestream_c_replica_wal_index", &v[i],
		    err)) != LSC_OK ||
		    (rc = buf_appendf(b, err, "} %lu\n",
		    (unsigned long)v[i].index)) != LSC_OK)
			return rc;
	}

	if ((rc = head(b, "litestream_c_replica_wal_offset_bytes", "gauge",
	    "Byte offset of the replica's position in its WAL index.",
	    err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = rep_sample(b, "litestream_c_replica_wal_offset_bytes",
		    &v[i], err)) != LSC_OK ||
		    (rc = buf_appendf(b, err, "} %llu\n",
		    (unsigned long long)v[i].offset)) != LSC_OK)
			return rc;
	}
	return LSC_OK;
}

static int
render_dbs(struct buf *b, const struct snap *v, size_t n, struct lsc_err *err)
{
	int rc;

	if ((rc = head(b, "litestream_c_generations_total", "counter",
	    "Generations started by this process.", err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = db_sample(b, "litestream_c_generations_total", v[i].path,
		    err)) != LSC_OK || (rc = buf_appendf(b, err, "} %llu\n",
		    (unsigned long long)v[i].generations)) != LSC_OK)
			return rc;

	if ((rc = head(b, "litestream_c_checkpoints_total", "counter",
	    "Checkpoints run by the daemon, by SQLite checkpoint mode.",
	    err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		for (size_t m = 0; m < sizeof(ckpt_modes) / sizeof(ckpt_modes[0]);
		    m++) {
			if ((rc = db_sample(b, "litestream_c_checkpoints_total",
			    v[i].path, err)) != LSC_OK ||
			    (rc = buf_appendf(b, err, ",mode=\"%s\"} %llu\n",
			    ckpt_modes[m].label, (unsigned long long)
			    v[i].checkpoints[ckpt_modes[m].mode])) != LSC_OK)
				return rc;
		}
	}

	/* One sample per reason, 0 or 1, so each series exists from the
	 * start and an alert can say "waiting for more than 10 minutes". */
	if ((rc = head(b, "litestream_c_db_waiting", "gauge",
	    "1 while the database is waited for: reason=\"database\" (its "
	    "file does not exist yet) or reason=\"lock\" (another process "
	    "replicates it).", err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = db_sample(b, "litestream_c_db_waiting", v[i].path,
		    err)) != LSC_OK ||
		    (rc = buf_appendf(b, err, ",reason=\"database\"} %d\n",
		    v[i].waiting == REPL_WAIT_FILE)) != LSC_OK ||
		    (rc = db_sample(b, "litestream_c_db_waiting", v[i].path,
		    err)) != LSC_OK ||
		    (rc = buf_appendf(b, err, ",reason=\"lock\"} %d\n",
		    v[i].waiting == REPL_WAIT_LOCK)) != LSC_OK)
			return rc;
	}

	if ((rc = head(b, "litestream_c_generation_info", "gauge",
	    "The current generation, as a label; always 1.", err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (v[i].gen[0] == '\0')
			continue;	/* not opened yet */
		if ((rc = db_sample(b, "litestream_c_generation_info", v[i].path,
		    err)) != LSC_OK ||
		    (rc = buf_appendf(b, err, ",generation=\"%s\"} 1\n",
		    v[i].gen)) != LSC_OK)
			return rc;
	}
	return LSC_OK;
}

/* S3 requests of the whole process, from s3/'s table. */
static int
render_s3(struct buf *b, struct lsc_err *err)
{
	struct s3_stat rows[S3_STATS_MAX];
	size_t n = s3_stats_read(rows, S3_STATS_MAX);
	int rc;

	if ((rc = head(b, "litestream_c_s3_requests_total", "counter",
	    "S3 requests sent (retries included), by operation and HTTP "
	    "status; code=\"none\": no complete reply.", err)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		char code[16];

		if (rows[i].code == S3_STATS_CODE_NONE)
			snprintf(code, sizeof(code), "none");
		else if (rows[i].code == S3_STATS_CODE_OTHER)
			snprintf(code, sizeof(code), "other");
		else
			snprintf(code, sizeof(code), "%d", rows[i].code);
		if ((rc = buf_appendf(b, err, "litestream_c_s3_requests_total"
		    "{op=\"%s\",code=\"%s\"} %llu\n", rows[i].op, code,
		    (unsigned long long)rows[i].n)) != LSC_OK)
			return rc;
	}
	return LSC_OK;
}

int
metrics_render(struct buf *out, struct lsc_err *err)
{
	struct snap *v;
	struct rsnap *rv;
	size_t n, nr = 0;
	int rc;

	pthread_mutex_lock(&reg_lock);
	n = nreg;
	v = xcalloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		take_snap(reg[i], &v[i]);
		nr += reg[i]->nships;
	}
	rv = xcalloc(nr ? nr : 1, sizeof(*rv));
	for (size_t i = 0, k = 0; i < n; i++)
		for (size_t j = 0; j < reg[i]->nships; j++)
			take_rsnap(reg[i], &reg[i]->ships[j], &rv[k++]);
	rc = head(out, "litestream_c_databases", "gauge",
	    "Databases being replicated.", err);
	if (rc == LSC_OK)
		rc = buf_appendf(out, err, "litestream_c_databases %zu\n", n);
	if (rc == LSC_OK)
		rc = render_replicas(out, rv, nr, now_ns(), err);
	if (rc == LSC_OK)
		rc = render_dbs(out, v, n, err);
	/* The strings in v and rv belong to the repls: done with them now. */
	pthread_mutex_unlock(&reg_lock);
	free(v);
	free(rv);
	if (rc == LSC_OK)
		rc = render_s3(out, err);
	return rc;
}

/* ---- the HTTP server ---- */

static struct MHD_Daemon *mhd;

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, "Allow", "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* libmicrohttpd's request callback, on its thread. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct MHD_Response *resp;
	struct lsc_err err = { 0 };
	struct buf b;
	enum MHD_Result ret;
	unsigned char *data;
	size_t len;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n");
	buf_init(&b, RENDER_MAX);
	if (metrics_render(&b, &err) != LSC_OK) {
		buf_release(&b);
		log_warn("metrics: cannot render\terror=\"%s\"", err.msg);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot render metrics\n");
	}
	data = buf_detach(&b, &len);
	/* libmicrohttpd frees the text with free() once it is sent. */
	resp = MHD_create_response_from_buffer_with_free_callback(len, data,
	    free);
	if (resp == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* libmicrohttpd's own messages (client gone, and such): debug only. */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("metrics: libmicrohttpd: %s", msg);
}

/*
 * Bind and listen ourselves rather than let libmicrohttpd do it: we can
 * then bind exactly the address named (any family getaddrinfo returns)
 * and report the failure as one line with its errno.
 */
static int
listen_on(const char *addr, int *out, struct lsc_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port_s[8];
	uint16_t port;
	int fd = -1, gai, saved = 0;

	if (cfg_parse_hostport(addr, host, sizeof(host), &port) != 0)
		return lsc_seterr(err, LSC_ECONFIG, 0, "metrics: '%s' must be "
		    "host:port", addr);
	snprintf(port_s, sizeof(port_s), "%u", (unsigned)port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, port_s, &hints, &res)) != 0)
		return lsc_seterr(err, LSC_ECONFIG, gai, "metrics: cannot "
		    "resolve '%s': %s", host, gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		/* Lets a restart bind while old connections sit in TIME_WAIT;
		 * on Linux it never lets two listeners share a port. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 16) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return lsc_seterr(err, LSC_EIO, saved, "metrics: cannot listen "
		    "on '%s': %s", addr, strerror(saved));
	*out = fd;
	return LSC_OK;
}

int
metrics_start(const char *addr, struct lsc_err *err)
{
	sigset_t all, old;
	int fd = -1, rc;

	if (mhd != NULL)
		return lsc_seterr(err, LSC_ECONFIG, 0, "metrics: a server runs "
		    "already");
	if ((rc = listen_on(addr, &fd, err)) != LSC_OK)
		return rc;
	/*
	 * The server thread inherits our signal mask: block everything while
	 * it starts, so SIGTERM, SIGINT and SIGHUP always reach the daemon's
	 * thread (whose sleep they must cut short), never this one.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (mhd == NULL) {
		close(fd);
		return lsc_seterr(err, LSC_EIO, 0, "metrics: cannot start the "
		    "HTTP server on '%s'", addr);
	}
	log_info("serving metrics\taddress=%s path=/metrics", addr);
	return LSC_OK;
}

void
metrics_stop(void)
{
	if (mhd == NULL)
		return;
	/* Joins the server thread and closes the listening socket. */
	MHD_stop_daemon(mhd);
	mhd = NULL;
}
