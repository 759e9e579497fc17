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
 * RFC3339 UTC seconds.  Rows are sorted by generation, index, offset.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* The replica's name in listings: its type, as Litestream's default. */
static const char *
replica_name(const char *url)
{
	return strncmp(url, "s3://", 5) == 0 ? "s3" : "file";
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

static void
list_generations(const struct catalog *cat, const struct target *t, int json)
{
	static const char *const hdr[] = { "name", "generation", "lag", "start",
	    "end" };
	const char *name = replica_name(t->url);
	int64_t ref = t->db_path != NULL ? db_mtime(t->db_path) : now_ns();
	struct table tb = { .ncol = 5 };
	char *row[5];

	if (json)
		fputs("[", stdout);
	for (size_t i = 0; i < 5; i++)
		row[i] = xstrdup(hdr[i]);
	table_add(&tb, row);
	for (size_t i = 0; i < cat->ngen; i++) {
		const struct cat_gen *g = &cat->gens[i];

		row[0] = xstrdup(name);
		row[1] = xstrdup(g->id);
		row[2] = go_duration(ref - g->updated_ns);
		row[3] = rfc3339(g->created_ns);
		row[4] = rfc3339(g->updated_ns);
		if (json) {
			printf("%s\n{\"name\":", i ? "," : "");
			json_str(stdout, row[0]);
			printf(",\"generation\":\"%s\",\"lag\":", row[1]);
			json_str(stdout, row[2]);
			printf(",\"lag_ns\":%" PRId64 ",\"start\":\"%s\",\"end\":\"%s\","
			    "\"start_ns\":%" PRId64 ",\"end_ns\":%" PRId64 ","
			    "\"snapshots\":%zu,\"wal_segments\":%zu}",
			    ref - g->updated_ns, row[3], row[4], g->created_ns,
			    g->updated_ns, g->nsnap, g->nseg);
		}
		table_add(&tb, row);
	}
	if (json)
		fputs(cat->ngen ? "\n]\n" : "]\n", stdout);
	else
		table_print(&tb, stdout);
	table_free(&tb);
}

static void
list_objects(const struct catalog *cat, const struct target *t, int wal,
    int json)
{
	static const char *const hdr[] = { "replica", "generation", "index",
	    "offset", "size", "created" };
	const char *name = replica_name(t->url);
	size_t ncol = wal ? 6 : 5, n = 0;
	struct table tb = { .ncol = ncol };
	char *row[6];

	if (json)
		fputs("[", stdout);
	for (size_t i = 0, j = 0; i < 6; i++)
		if (wal || i != 3)
			row[j++] = xstrdup(hdr[i]);
	table_add(&tb, row);
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
				printf("%s\n{\"replica\":", n++ ? "," : "");
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
			table_add(&tb, row);
		}
	}
	if (json)
		fputs(n ? "\n]\n" : "]\n", stdout);
	else
		table_print(&tb, stdout);
	table_free(&tb);
}

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

		row[0] = xstrdup(db->path);
		row[1] = xstrdup(replica_name(db->replica));
		if (json) {
			printf("%s\n{\"path\":", i ? "," : "");
			json_str(stdout, db->path);
			printf(",\"replicas\":[");
			json_str(stdout, row[1]);
			printf("],\"url\":");
			json_str(stdout, db->replica);
			fputs("}", stdout);
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
		    "(DB_PATH | REPLICA_URL)\n", list_names[k]);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	struct lsc_err err = { 0 };
	struct lsc_config *cfg = NULL;
	struct target t = { 0 };
	struct replica *r = NULL;
	struct catalog cat = { 0 };
	int json = 0, c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			list_usage(k);
			return 0;
		default:
			return list_usage(k);
		}
	}
	if (k == L_DATABASES) {
		if (argc != optind)
			return list_usage(k);
		if (cfg_load(target_config_path(config), &cfg, &err) != LSC_OK)
			return list_fail(k, &err);
		list_databases(cfg, json);
		cfg_free(cfg);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc - optind != 1)
		return list_usage(k);
	if (target_resolve(argv[optind], config, &t, &err) != LSC_OK)
		return list_fail(k, &err);
	if (target_open(&t, &r, &err) != LSC_OK ||
	    catalog_load(r, &cat, &err) != LSC_OK) {
		status = list_fail(k, &err);
		goto out;
	}
	if (k == L_GENERATIONS)
		list_generations(&cat, &t, json);
	else
		list_objects(&cat, &t, k == L_WAL, json);
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	catalog_release(&cat);
	replica_free(r);
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
