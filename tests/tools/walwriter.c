/* SPDX-License-Identifier: MIT */
/*
 * walwriter: a steady SQLite writer for integration tests and benchmarks.
 *
 *	walwriter DB [--rate N] [--duration SEC] [--count N] [--rows-per-tx K]
 *	    [--row-size BYTES] [--log FILE] [--stop-file PATH] [--busy-timeout MS]
 *	    [--checkpoint-every N] [--checkpoint-mode passive|full|restart|truncate]
 *	    [--big-tx BYTES] [--sync normal|full|off]
 *	walwriter DB --verify
 *
 * It opens DB in WAL mode (synchronous=NORMAL unless --sync), creates
 *	t(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, payload BLOB)
 * and commits transactions of K rows (default 1) at N per second (0, the
 * default: as fast as it can) until --duration, --count commits, the stop
 * file appears, or SIGTERM/SIGINT (the transaction in progress is finished
 * first).  Ids continue from the largest id already in the table, so a
 * second run appends.  Each row's payload is `row-size` bytes (default 100)
 * computed from its id (payload() below), so content is checkable: --verify
 * checks that the ids are exactly 1..max and every payload matches.
 *
 * --log FILE gets one line per commit: "<last id> <wall-clock ns at commit>
 * <latency ns>", where latency runs from BEGIN to the end of COMMIT.  It
 * is flushed every 100 commits and at exit.  --big-tx BYTES makes the
 * first transaction at least that many payload bytes, so it spills to the
 * WAL before it commits.  --checkpoint-every N runs
 * PRAGMA wal_checkpoint(MODE) after every N commits (a checkpoint that
 * cannot finish for readers is counted, not an error).
 *
 * SQLITE_BUSY is waited out by sqlite3_busy_timeout (--busy-timeout MS,
 * default 5000) and the transaction is retried until that much time has
 * passed; any other error ends the run with a one-line message and exit 1
 * (2 for usage).  At exit one line goes to stdout:
 *	commits=N rows=N seconds=S commits_per_sec=X p50_us=.. p99_us=.. p999_us=..
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static volatile sig_atomic_t stop_requested;

struct opts {
	const char	*db;
	double		 rate;		/* commits per second; 0: unpaced */
	double		 duration;	/* seconds; 0: no limit */
	int64_t		 count;		/* commits; 0: no limit */
	int64_t		 rows_per_tx;
	int64_t		 row_size;
	const char	*log;
	const char	*stop_file;
	int64_t		 busy_ms;
	int64_t		 ckpt_every;
	int		 ckpt_mode;
	const char	*ckpt_name;
	int64_t		 big_tx;
	const char	*sync;
	int		 verify;
};

struct writer {
	struct opts	*o;
	sqlite3		*db;
	sqlite3_stmt	*ins;
	unsigned char	*payload;
	int64_t		 next_id;
	int64_t		 commits, rows;
	int64_t		*lat;		/* ns per commit */
	size_t		 nlat, caplat;
	int64_t		 ckpts, ckpt_busy;
	FILE		*logfp;
};

static void
die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3),
    noreturn));

static void
die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("walwriter: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: walwriter DB [--rate N] [--duration SEC] [--count N] "
	    "[--rows-per-tx K]\n"
	    "    [--row-size BYTES] [--log FILE] [--stop-file PATH] "
	    "[--busy-timeout MS]\n"
	    "    [--checkpoint-every N] [--checkpoint-mode "
	    "passive|full|restart|truncate]\n"
	    "    [--big-tx BYTES] [--sync normal|full|off]\n"
	    "       walwriter DB --verify\n");
	exit(2);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_until(int64_t when_ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(when_ns / 1000000000);
	ts.tv_nsec = (long)(when_ns % 1000000000);
	/* EINTR (a signal) just ends the sleep early; the loop checks. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int64_t
parse_int(const char *opt, const char *s, int64_t min)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min)
		die(2, "%s: bad number '%s'", opt, s);
	return v;
}

static double
parse_num(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v >= 0) || v > 1e9)
		die(2, "%s: bad number '%s'", opt, s);
	return v;
}

/* Deterministic bytes from the id (xorshift64* seeded by it). */
static void
payload(int64_t id, unsigned char *p, size_t n)
{
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;

	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
		}
		p[i] = (unsigned char)((x * 0x2545f4914f6cdd1dULL) >> (8 * (i % 8)));
	}
}

static int
is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Run one statement; returns the sqlite rc (dies on non-busy errors). */
static int
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK && !is_busy(rc))
		die(1, "%s: %s", sql, msg != NULL ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

static void
open_db(struct writer *w)
{
	struct opts *o = w->o;
	sqlite3_stmt *st;
	char *sql;
	int rc;

	rc = sqlite3_open_v2(o->db, &w->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK)
		die(1, "cannot open '%s': %s", o->db, w->db != NULL ?
		    sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
	sqlite3_busy_timeout(w->db, (int)o->busy_ms);
	rc = sqlite3_prepare_v2(w->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *mode = sqlite3_column_text(st, 0);

		if (mode == NULL || strcmp((const char *)mode, "wal") != 0)
			die(1, "'%s' did not switch to WAL mode (%s)", o->db,
			    mode != NULL ? (const char *)mode : "?");
	} else {
		die(1, "PRAGMA journal_mode=WAL: %s", sqlite3_errmsg(w->db));
	}
	sqlite3_finalize(st);
	sql = sqlite3_mprintf("PRAGMA synchronous=%s", o->sync);
	exec(w->db, sql);
	sqlite3_free(sql);
	if (exec(w->db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, "
	    "ts INTEGER NOT NULL, payload BLOB)") != SQLITE_OK)
		die(1, "CREATE TABLE: database is busy");
	rc = sqlite3_prepare_v2(w->db, "SELECT coalesce(max(id), 0) FROM t", -1,
	    &st, NULL);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		die(1, "SELECT max(id): %s", sqlite3_errmsg(w->db));
	w->next_id = sqlite3_column_int64(st, 0) + 1;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(w->db, "INSERT INTO t(id, ts, payload) "
	    "VALUES(?, ?, ?)", -1, &w->ins, NULL) != SQLITE_OK)
		die(1, "prepare INSERT: %s", sqlite3_errmsg(w->db));
}

/*
 * One transaction of `nrows` rows.  Returns SQLITE_OK, or a busy code
 * after rolling back (the caller retries); other errors are fatal.
 */
static int
one_tx(struct writer *w, int64_t nrows)
{
	int rc;

	if ((rc = exec(w->db, "BEGIN IMMEDIATE")) != SQLITE_OK)
		return rc;
	for (int64_t i = 0; i < nrows; i++) {
		int64_t id = w->next_id + i;

		payload(id, w->payload, (size_t)w->o->row_size);
		sqlite3_bind_int64(w->ins, 1, id);
		sqlite3_bind_int64(w->ins, 2, wall_ns());
		sqlite3_bind_blob(w->ins, 3, w->payload, (int)w->o->row_size,
		    SQLITE_STATIC);
		rc = sqlite3_step(w->ins);
		sqlite3_reset(w->ins);
		if (rc != SQLITE_DONE) {
			if (!is_busy(rc))
				die(1, "INSERT id %" PRId64 ": %s", id,
				    sqlite3_errmsg(w->db));
			exec(w->db, "ROLLBACK");
			return rc;
		}
	}
	rc = exec(w->db, "COMMIT");
	if (rc != SQLITE_OK)
		exec(w->db, "ROLLBACK");
	return rc;
}

static void
record(struct writer *w, int64_t lat_ns)
{
	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? w->caplat * 2 : 4096;
		w->lat = realloc(w->lat, w->caplat * sizeof(*w->lat));
		if (w->lat == NULL)
			die(1, "out of memory");
	}
	w->lat[w->nlat++] = lat_ns;
	if (w->logfp != NULL) {
		fprintf(w->logfp, "%" PRId64 " %" PRId64 " %" PRId64 "\n",
		    w->next_id - 1, wall_ns(), lat_ns);
		if (w->commits % 100 == 0)
			fflush(w->logfp);
	}
}

static void
checkpoint(struct writer *w)
{
	int nlog = 0, nckpt = 0;
	int rc = sqlite3_wal_checkpoint_v2(w->db, NULL, w->o->ckpt_mode, &nlog,
	    &nckpt);

	w->ckpts++;
	if (is_busy(rc))
		w->ckpt_busy++;
	else if (rc != SQLITE_OK)
		die(1, "PRAGMA wal_checkpoint(%s): %s", w->o->ckpt_name,
		    sqlite3_errmsg(w->db));
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in microseconds. */
static double
pct_us(const int64_t *v, size_t n, double q)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)(q * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

static int
run(struct opts *o)
{
	struct writer w;
	int64_t start, deadline = 0, interval = 0, next_at;
	double secs;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.payload = malloc((size_t)o->row_size + 1);
	if (w.payload == NULL)
		die(1, "out of memory");
	if (o->log != NULL && (w.logfp = fopen(o->log, "w")) == NULL)
		die(1, "cannot open log '%s': %s", o->log, strerror(errno));
	open_db(&w);

	start = mono_ns();
	if (o->duration > 0)
		deadline = start + (int64_t)(o->duration * 1e9);
	if (o->rate > 0)
		interval = (int64_t)(1e9 / o->rate);
	next_at = start;
	while (!stop_requested) {
		int64_t nrows = o->rows_per_tx, t0, t1, give_up;
		int rc;

		if (o->count > 0 && w.commits >= o->count)
			break;
		if (deadline != 0 && mono_ns() >= deadline)
			break;
		if (o->stop_file != NULL && access(o->stop_file, F_OK) == 0)
			break;
		if (interval > 0) {
			int64_t now = mono_ns();

			/* More than a second behind: do not burst to catch up. */
			if (now - next_at > 1000000000)
				next_at = now;
			if (next_at > now) {
				if (deadline != 0 && next_at > deadline)
					next_at = deadline;
				sleep_until(next_at);
				if (stop_requested)
					break;
				if (deadline != 0 && mono_ns() >= deadline)
					break;
			}
			next_at += interval;
		}
		if (w.commits == 0 && o->big_tx > 0) {
			int64_t big = (o->big_tx + o->row_size - 1) / o->row_size;

			if (big > nrows)
				nrows = big;
		}
		t0 = mono_ns();
		give_up = t0 + o->busy_ms * 1000000;
		/* Signals wait for the transaction in progress to finish. */
		while ((rc = one_tx(&w, nrows)) != SQLITE_OK) {
			if (mono_ns() >= give_up)
				die(1, "database is locked for more than %" PRId64
				    " ms (%s)", o->busy_ms, sqlite3_errstr(rc));
			usleep(1000);
		}
		t1 = mono_ns();
		w.next_id += nrows;
		w.rows += nrows;
		w.commits++;
		record(&w, t1 - t0);
		if (o->ckpt_every > 0 && w.commits % o->ckpt_every == 0)
			checkpoint(&w);
	}
	secs = (double)(mono_ns() - start) / 1e9;

	if (w.logfp != NULL && fclose(w.logfp) != 0)
		die(1, "cannot write log '%s': %s", o->log, strerror(errno));
	sqlite3_finalize(w.ins);
	if (sqlite3_close(w.db) != SQLITE_OK)
		die(1, "cannot close '%s'", o->db);
	if (w.nlat > 1)
		qsort(w.lat, w.nlat, sizeof(*w.lat), cmp_i64);
	printf("commits=%" PRId64 " rows=%" PRId64 " seconds=%.3f "
	    "commits_per_sec=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f\n",
	    w.commits, w.rows, secs, secs > 0 ? (double)w.commits / secs : 0.0,
	    pct_us(w.lat, w.nlat, 0.50), pct_us(w.lat, w.nlat, 0.99),
	    pct_us(w.lat, w.nlat, 0.999));
	if (o->ckpt_every > 0)
		fprintf(stderr, "walwriter: checkpoints=%" PRId64 " busy=%" PRId64
		    " mode=%s\n", w.ckpts, w.ckpt_busy, o->ckpt_name);
	fflush(stdout);
	free(w.lat);
	free(w.payload);
	return 0;
}

/* --verify: ids are exactly 1..max and every payload is payload(id). */
static int
verify(const struct opts *o)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	unsigned char *want = NULL;
	size_t cap = 0;
	int64_t expect = 1;
	int rc;

	if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die(1, "cannot open '%s': %s", o->db, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, (int)o->busy_ms);
	if (sqlite3_prepare_v2(db, "SELECT id, payload FROM t ORDER BY id", -1,
	    &st, NULL) != SQLITE_OK)
		die(1, "'%s': %s", o->db, sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const void *p = sqlite3_column_blob(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);

		if (id != expect)
			die(1, "verify: id %" PRId64 " where %" PRId64 " was expected",
			    id, expect);
		if (n > cap) {
			cap = n;
			if ((want = realloc(want, cap)) == NULL)
				die(1, "out of memory");
		}
		payload(id, want, n);
		if (n > 0 && (p == NULL || memcmp(p, want, n) != 0))
			die(1, "verify: payload of id %" PRId64 " differs", id);
		expect++;
	}
	if (rc != SQLITE_DONE)
		die(1, "verify: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(want);
	printf("rows=%" PRId64 " ok\n", expect - 1);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "rows-per-tx", required_argument, NULL, 'k' },
		{ "row-size", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "stop-file", required_argument, NULL, 'S' },
		{ "busy-timeout", required_argument, NULL, 'b' },
		{ "checkpoint-every", required_argument, NULL, 'c' },
		{ "checkpoint-mode", required_argument, NULL, 'm' },
		{ "big-tx", required_argument, NULL, 'B' },
		{ "sync", required_argument, NULL, 'y' },
		{ "verify", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.rows_per_tx = 1, .row_size = 100, .busy_ms = 5000,
		.ckpt_mode = SQLITE_CHECKPOINT_PASSIVE, .ckpt_name = "PASSIVE",
		.sync = "NORMAL",
	};
	struct sigaction sa;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o.rate = parse_num("--rate", optarg);
			break;
		case 'd':
			o.duration = parse_num("--duration", optarg);
			break;
		case 'n':
			o.count = parse_int("--count", optarg, 0);
			break;
		case 'k':
			o.rows_per_tx = parse_int("--rows-per-tx", optarg, 1);
			break;
		case 's':
			o.row_size = parse_int("--row-size", optarg, 0);
			if (o.row_size > 100000000)
				die(2, "--row-size: %s is too large", optarg);
			break;
		case 'l':
			o.log = optarg;
			break;
		case 'S':
			o.stop_file = optarg;
			break;
		case 'b':
			o.busy_ms = parse_int("--busy-timeout", optarg, 0);
			if (o.busy_ms > INT32_MAX)
				die(2, "--busy-timeout: %s is too large", optarg);
			break;
		case 'c':
			o.ckpt_every = parse_int("--checkpoint-every", optarg, 0);
			break;
		case 'm':
			if (strcmp(optarg, "passive") == 0) {
				o.ckpt_mode = SQLITE_CHECKPOINT_PASSIVE;
				o.ckpt_name = "PASSIVE";
			} else if (strcmp(optarg, "full") == 0) {
				o.ckpt_mode = SQLITE_CHECKPOINT_FULL;
				o.ckpt_name = "FULL";
			} else if (strcmp(optarg, "restart") == 0) {
				o.ckpt_mode = SQLITE_CHECKPOINT_RESTART;
				o.ckpt_name = "RESTART";
			} else if (strcmp(optarg, "truncate") == 0) {
				o.ckpt_mode = SQLITE_CHECKPOINT_TRUNCATE;
				o.ckpt_name = "TRUNCATE";
			} else {
				die(2, "--checkpoint-mode: '%s' is not passive, full, "
				    "restart or truncate", optarg);
			}
			break;
		case 'B':
			o.big_tx = parse_int("--big-tx", optarg, 0);
			break;
		case 'y':
			if (strcmp(optarg, "normal") == 0)
				o.sync = "NORMAL";
			else if (strcmp(optarg, "full") == 0)
				o.sync = "FULL";
			else if (strcmp(optarg, "off") == 0)
				o.sync = "OFF";
			else
				die(2, "--sync: '%s' is not normal, full or off", optarg);
			break;
		case 'V':
			o.verify = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	o.db = argv[optind];
	if (o.big_tx > 0 && o.row_size == 0)
		die(2, "--big-tx needs a --row-size above 0");
	if (o.verify)
		return verify(&o);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;	/* SQLite's own I/O is not interrupted */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return run(&o);
}
