/* SPDX-License-Identifier: MIT */
/*
 * The listing commands, with Litestream 0.3.13's columns (format doc
 * §7.4) as tab-aligned text (Go tabwriter: two spaces of padding, a
 * header line) or, with --json, a JSON array of objects with the same
 * fields plus a few useful extras (the object key, times in ns):
 *
 *	generations  name generation lag start end
 *	snapshots    replica generation index size created
 *	wal          replica generation index offset size created
 *	databases    path replicas
 *
 * Indexes and offsets are decimal, as Litestream prints them (restore
 * --index takes hex); sizes are the stored (compressed) bytes; times are
 * RFC3339 UTC seconds.  The first column names the replica ("file" or
 * "s3" for a URL, its config name for a DB_PATH's); a DB_PATH lists every
 * replica of its [db], one after the other as Litestream does, unless
 * --replica picks one.  Within a replica, rows are sorted by generation,
 * index, offset.  A replica that cannot be listed is reported and the
 * others are still listed (exit 1).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "restore/catalog.h"
#include "restore/json.h"
#include "restore/restore_cmd.h"
#include "restore/target.h"

enum list_kind { L_GENERATIONS, L_SNAPSHOTS, L_WAL, L_DATABASES };

static const char *const list_names[] = {
	"generations", "snapshots", "wal", "databases"
};

/* A table of strings: rows of ncol cells, row 0 the header. */
struct table {
	char	**cells;
	size_t	  ncol, nrow, cap;
};

static void
table_add(struct table *t, char **row)
{
	if (t->nrow == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xreallocarray(t->cells, t->cap * t->ncol,
		    sizeof(*t->cells));
	}
	memcpy(&t->cells[t->nrow * t->ncol], row, t->ncol * sizeof(*row));
	t->nrow++;
}

static void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrow * t->ncol; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* Print as Go's tabwriter(minwidth 0, padding 2, ' ') would. */
static void
table_print(const struct table *t, FILE *fp)
{
	size_t *w = xcalloc(t->ncol, sizeof(*w));

	for (size_t r = 0; r < t->nrow; r++)
		for (size_t c = 0; c < t->ncol; c++) {
			size_t n = strlen(t->cells[r * t->ncol + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrow; r++) {
		for (size_t c = 0; c < t->ncol; c++) {
			const char *s = t->cells[r * t->ncol + c];

			if (c + 1 < t->ncol)
				fprintf(fp, "%-*s", (int)(w[c] + 2), s);
			else
				fprintf(fp, "%s\n", s);
		}
	}
	free(w);
}

static char *
rfc3339(int64_t ns)
{
	char b[64];

	fmt_rfc3339(ns, 0, b, sizeof(b));
	return xstrdup(b);
}

/*
 * A duration as Go's time.Duration.String() prints it, after
 * Litestream's truncateDuration (whole seconds above 10 s, tenths above
 * 1 s, ms above 1 ms, ...).
 */
static char *
go_duration(int64_t d)
{
	const char *sign = d < 0 ? "-" : "";
	uint64_t u = d < 0 ? (uint64_t)-(d + 1) + 1 : (uint64_t)d;
	char frac[16] = "", b[64];

	if (u > 10000000000ULL)
		u -= u % 1000000000ULL;
	else if (u > 1000000000ULL)
		u -= u % 100000000ULL;
	else if (u > 1000000ULL)
		u -= u % 1000000ULL;
	else if (u > 1000ULL)
		u -= u % 1000ULL;
	if (u == 0)
		return xstrdup("0s");
	if (u < 1000ULL) {
		snprintf(b, sizeof(b), "%s%" PRIu64 "ns", sign, u);
	} else if (u < 1000000ULL || u < 1000000000ULL) {
		uint64_t unit = u < 1000000ULL ? 1000ULL : 1000000ULL;
		const char *name = u < 1000000ULL ? "µs" : "ms";
		uint64_t f = u % unit;

		if (f != 0) {
			int width = unit == 1000ULL ? 3 : 6;
			int len;

			len = snprintf(frac, sizeof(frac), ".%0*" PRIu64, width, f);
			while (len > 1 && frac[len - 1] == '0')
				frac[--len] = '\0';
		}
		snprintf(b, sizeof(b), "%s%" PRIu64 "%s%s", sign, u / unit, frac,
		    name);
	} else {
		uint64_t s = u / 1000000000ULL, f = u % 1000000000ULL;
		char hm[32] = "";

		if (f != 0) {
			int len = snprintf(frac, sizeof(frac), ".%09" PRIu64, f);

			while (len > 1 && frac[len - 1] == '0')
				frac[--len] = '\0';
		}
		if (s >= 3600)
			snprintf(hm, sizeof(hm), "%" PRIu64 "h%" PRIu64 "m", s / 3600,
			    s / 60 % 60);
		else if (s >= 60)
			snprintf(hm, sizeof(hm), "%" PRIu64 "m", s / 60);
		snprintf(b, sizeof(b), "%s%s%" PRIu64 "%ss", sign, hm, s % 60, frac);
	}
	return xstrdup(b);
}

/* Newest mtime of the database and its -wal; now when neither exists. */
static int64_t
db_mtime(const char *path)
{
	struct stat st;
	int64_t t = INT64_MIN;
	char *wal = xasprintf("%s-wal", path);

	if (stat(path, &st) == 0)
		t = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (stat(wal, &st) == 0 && (int64_t)st.st_mtim.tv_sec * 1000000000 +
	    st.st_mtim.tv_nsec > t)
		t = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	free(wal);
	return t == INT64_MIN ? now_ns() : t;
}

/* The rows of one replica, into `tb` (and JSON objects, `*n` so far). */
static void
list_generations(const struct catalog *cat, const struct target *t,
    const char *name, int json, struct table *tb, size_t *n)
{
	int64_t ref = t->db_path != NULL ? db_mtime(t->db_path) : now_ns();
	char *row[5];

	for (size_t i = 0; i < cat->ngen; i++) {
		const struct cat_gen *g = &cat->gens[i];

		row[0] = xstrdup(name);
		row[1] = xstrdup(g->id);
		row[2] = go_duration(ref - g->updated_ns);
		row[3] = rfc3339(g->created_ns);
		row[4] = rfc3339(g->updated_ns);
		if (json) {
			printf("%s\n{\"name\":", (*n)++ ? "," : "");
			json_str(stdout, row[0]);
			printf(",\"generation\":\"%s\",\"lag\":", row[1]);
			json_str(stdout, row[2]);
			printf(",\"lag_ns\":%" PRId64 ",\"start\":\"%s\",\"end\":\"%s\","
			    "\"start_ns\":%" PRId64 ",\"end_ns\":%" PRId64 ","
			    "\"snapshots\":%zu,\"wal_segments\":%zu}",
			    ref - g->updated_ns, row[3], row[4], g->created_ns,
			    g->updated_ns, g->nsnap, g->nseg);
		}
		table_add(tb, row);
	}
}

static void
list_objects(const struct catalog *cat, const char *name, int wal, int json,
    struct table *tb, size_t *n)
{
	char *row[6];

	for (size_t i = 0; i < cat->ngen; i++) {
		const struct cat_gen *g = &cat->gens[i];
		const struct cat_obj *v = wal ? g->segs : g->snaps;
		size_t nv = wal ? g->nseg : g->nsnap;

		for (size_t k = 0; k < nv; k++) {
			const struct cat_obj *o = &v[k];
			size_t j = 0;

			row[j++] = xstrdup(name);
			row[j++] = xstrdup(g->id);
			row[j++] = xasprintf("%" PRIu32, o->index);
			if (wal)
				row[j++] = xasprintf("%" PRIu64, o->offset);
			row[j++] = xasprintf("%" PRIu64, o->size);
			row[j++] = rfc3339(o->mtime_ns);
			if (json) {
				printf("%s\n{\"replica\":", (*n)++ ? "," : "");
				json_str(stdout, name);
				printf(",\"generation\":\"%s\",\"index\":%" PRIu32
				    ",\"index_hex\":\"%08" PRIx32 "\"", g->id, o->index,
				    o->index);
				if (wal)
					printf(",\"offset\":%" PRIu64, o->offset);
				printf(",\"size\":%" PRIu64 ",\"created\":\"%s\","
				    "\"created_ns\":%" PRId64 ",\"key\":", o->size,
				    row[j - 1], o->mtime_ns);
				json_str(stdout, o->key);
				fputs("}", stdout);
			}
			table_add(tb, row);
		}
	}
}

/* The header row of a listing. */
static void
list_header(enum list_kind k, struct table *tb)
{
	static const char *const gens[] = { "name", "generation", "lag", "start",
	    "end" };
	static const char *const objs[] = { "replica", "generation", "index",
	    "offset", "size", "created" };
	char *row[6];

	tb->ncol = k == L_GENERATIONS ? 5 : k == L_WAL ? 6 : 5;
	for (size_t i = 0, j = 0; i < 6; i++) {
		if (k == L_GENERATIONS && i < 5)
			row[j++] = xstrdup(gens[i]);
		else if (k != L_GENERATIONS && (k == L_WAL || i != 3))
			row[j++] = xstrdup(objs[i]);
	}
	table_add(tb, row);
}

/*
 * Each database and the names of its replicas, comma-separated as
 * Litestream prints them; --json adds their URLs ("url" is the first
 * one's, as before there were several).
 */
static void
list_databases(const struct lsc_config *cfg, int json)
{
	struct table tb = { .ncol = 2 };
	char *row[2];

	row[0] = xstrdup("path");
	row[1] = xstrdup("replicas");
	table_add(&tb, row);
	if (json)
		fputs("[", stdout);
	for (size_t i = 0; i < cfg->ndb; i++) {
		const struct cfg_db *db = &cfg->dbs[i];
		struct buf names;
		size_t len;

		buf_init(&names, 1 << 16);
		for (size_t k = 0; k < db->nreplicas; k++)
			buf_appendf(&names, NULL, "%s%s", k ? "," : "",
			    db->replicas[k].name);
		buf_append(&names, "", 1, NULL);
		row[0] = xstrdup(db->path);
		row[1] = (char *)buf_detach(&names, &len);
		if (json) {
			printf("%s\n{\"path\":", i ? "," : "");
			json_str(stdout, db->path);
			printf(",\"replicas\":[");
			for (size_t k = 0; k < db->nreplicas; k++) {
				if (k)
					fputs(",", stdout);
				json_str(stdout, db->replicas[k].name);
			}
			printf("],\"url\":");
			json_str(stdout, db->replica);
			printf(",\"urls\":[");
			for (size_t k = 0; k < db->nreplicas; k++) {
				if (k)
					fputs(",", stdout);
				json_str(stdout, db->replicas[k].url);
			}
			fputs("]}", stdout);
		}
		table_add(&tb, row);
	}
	if (json)
		fputs(cfg->ndb ? "\n]\n" : "]\n", stdout);
	else
		table_print(&tb, stdout);
	table_free(&tb);
}

static int
list_usage(enum list_kind k)
{
	if (k == L_DATABASES)
		fprintf(stderr, "usage: litestream-c databases [-c CONFIG] "
		    "[--json]\n");
	else
		fprintf(stderr, "usage: litestream-c %s [-c CONFIG] [--json] "
		    "[--replica NAME|URL] (DB_PATH | REPLICA_URL)\n",
		    list_names[k]);
	return 2;
}

static int
list_fail(enum list_kind k, const struct lsc_err *err)
{
	fprintf(stderr, "litestream-c: %s: %s\n", list_names[k], err->msg);
	return target_exit_status(err->code);
}

static int
cmd_list(enum list_kind k, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "replica", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *replica = NULL;
	struct lsc_err err = { 0 };
	struct lsc_config *cfg = NULL;
	struct target t = { 0 };
	struct table tb = { 0 };
	size_t n = 0;
	int json = 0, opened = 0, c, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'r':
			replica = optarg;
			break;
		case 'h':
			list_usage(k);
			return 0;
		default:
			return list_usage(k);
		}
	}
	if (k == L_DATABASES) {
		if (argc != optind || replica != NULL)
			return list_usage(k);
		if (cfg_load(target_config_path(config), &cfg, &err) != LSC_OK)
			return list_fail(k, &err);
		list_databases(cfg, json);
		cfg_free(cfg);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc - optind != 1)
		return list_usage(k);
	if (target_resolve(argv[optind], config, replica, &t, &err) != LSC_OK)
		return list_fail(k, &err);
	list_header(k, &tb);
	/* JSON rows are printed as they come (the array opens with the
	 * first listing that works); text once all are in. */
	for (size_t i = 0; i < t.nreps; i++) {
		struct catalog cat = { 0 };
		struct replica *r = NULL;

		lsc_err_clear(&err);
		if (target_open(&t, i, &r, &err) != LSC_OK ||
		    catalog_load(r, &cat, &err) != LSC_OK) {
			/* The others are still worth seeing. */
			if (t.nreps == 1) {
				/* As ever with one replica: only the error. */
				catalog_release(&cat);
				replica_free(r);
				table_free(&tb);
				target_release(&t);
				return list_fail(k, &err);
			}
			fprintf(stderr, "litestream-c: %s: replica %s: %s\n",
			    list_names[k], t.reps[i].name, err.msg);
			status = status ? status : target_exit_status(err.code);
			catalog_release(&cat);
			replica_free(r);
			continue;
		}
		if (json && !opened)
			fputs("[", stdout);
		opened = 1;
		if (k == L_GENERATIONS) {
			list_generations(&cat, &t, t.reps[i].name, json, &tb, &n);
		} else {
			list_objects(&cat, t.reps[i].name, k == L_WAL, json, &tb,
			    &n);
		}
		catalog_release(&cat);
		replica_free(r);
	}
	if (json)
		fputs(n ? "\n]\n" : opened ? "]\n" : "[]\n", stdout);
	else
		table_print(&tb, stdout);
	table_free(&tb);
	if (fflush(stdout) != 0 && status == 0)
		status = 1;
	target_release(&t);
	return status;
}

int
cmd_generations(int argc, char **argv)
{
	return cmd_list(L_GENERATIONS, argc, argv);
}

int
cmd_snapshots(int argc, char **argv)
{
	return cmd_list(L_SNAPSHOTS, argc, argv);
}

int
cmd_wal(int argc, char **argv)
{
	return cmd_list(L_WAL, argc, argv);
}

int
cmd_databases(int argc, char **argv)
{
	return cmd_list(L_DATABASES, argc, argv);
}
