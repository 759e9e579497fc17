/* SPDX-License-Identifier: MIT */
/*
 * The disaster-recovery drill: prove that a replica restores, how stale a
 * restore would be (RPO) and how long it takes (RTO), without writing to
 * the replica.  Checks, reported in this order:
 *
 *   chain   every object of every generation (or --generation) read and
 *           verified as a restore verifies it (verify.h), without writing
 *           a database.  Objects below a generation's oldest snapshot are
 *           not needed by any restore (retention may have half-removed
 *           them) and are only counted, as `unreachable`.
 *   latest  the newest state restored exactly as `restore` does, then
 *           integrity_check.  RTO = listing + this restore's wall time;
 *           RPO = listing time minus the newest object the restore used;
 *           with max_lag the check fails when RPO exceeds it.
 *   replay  the same state through the generation's oldest snapshot and
 *           all WAL since, compared page by page with `latest`
 *           (pagecmp.h): catches a snapshot that was wrong when written or
 *           a mis-applied segment, which every checksum passes.  Skipped
 *           when the latest restore already starts at that snapshot.
 *   pitr    `targets` points in time, the midpoints of equal slices of the
 *           window [oldest snapshot, newest object], each restored and
 *           integrity-checked.
 *   sql     each query on the latest restore: passes when the first
 *           column of the first row is true (a non-zero number, a
 *           non-empty text or blob; NULL and no row are false).
 *
 * Work is shared: the restores run first (latest, replay, sql, pitr), and
 * the chain check then reads only what none of them verified completely
 * (a snapshot, or every segment of a WAL index).  Temp files live in
 * `workdir`; at most two restored databases exist at a time (latest and
 * replay), each removed as soon as it is done with.  Memory: one LZ4
 * block, a frame, the apply engine's pending buffer and two comparison
 * chunks, plus the listing, whatever the database size.
 */
#ifndef LSC_DRILL_H
#define LSC_DRILL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "replica/replica.h"
#include "wal/wal_layout.h"

#define DRILL_MAX_TARGETS	1000
#define DRILL_MAX_PROBLEMS	50	/* kept in the report; more are counted */

enum drill_status { DRILL_PASS, DRILL_FAIL, DRILL_SKIP };

struct drill_opts {
	int		 targets;	/* pitr points; 0: skip */
	int64_t		 max_lag_ms;	/* -1: no bound */
	const char *const *sql;		/* borrowed */
	size_t		 nsql;
	const char	*generation;	/* NULL: every generation */
	const char	*age_identity_file;	/* NULL: none (plain replicas) */
};

/* What every check, pitr target and query reports. */
struct drill_check {
	const char	*name;		/* static */
	enum drill_status status;
	char		*reason;	/* fail or skip: why (owned); else NULL */
	char		*object;	/* the object at fault (owned), or NULL */
	int64_t		 ms;		/* wall time */
};

/* One restore the drill made: what it used and produced. */
struct drill_restore {
	char		 gen[GEN_ID_LEN + 1];	/* "" until planned */
	char		*snapshot;	/* key (owned) */
	uint64_t	 segments, commits, db_bytes;
	int64_t		 state_ns;	/* newest object it used */
};

struct drill_problem {
	char		*key;		/* may be NULL */
	char		*msg;
};

struct drill_chain {
	struct drill_check ck;
	uint64_t	 generations, snapshots, segments, bytes;
	uint64_t	 bytes_read;	/* fetched by this check itself */
	uint64_t	 unreachable;	/* below the oldest snapshot: ignored */
	uint64_t	 no_snapshot;	/* generations without a snapshot */
	struct drill_problem *problems;
	size_t		 nproblem;
	uint64_t	 more;		/* problems beyond DRILL_MAX_PROBLEMS */
};

struct drill_latest {
	struct drill_check ck;
	struct drill_restore rs;
	int64_t		 rto_ms, rpo_ms;	/* -1: unknown */
};

struct drill_replay {
	struct drill_check ck;
	struct drill_restore rs;
	char		*against;	/* the latest restore's snapshot */
	uint64_t	 pages, differ, first_differ;
};

struct drill_target {
	struct drill_check ck;
	int64_t		 ts_ns;
	struct drill_restore rs;
};

struct drill_pitr {
	struct drill_check ck;
	int64_t		 from_ns, to_ns;	/* the window */
	struct drill_target *v;
	size_t		 n;
};

struct drill_query {
	struct drill_check ck;
	const char	*sql;		/* borrowed from the options */
	char		*result;	/* the first column as text, or NULL */
};

struct drill_sql {
	struct drill_check ck;
	struct drill_query *v;
	size_t		 n;
};

struct drill_report {
	const char	*replica;	/* borrowed: the URL */
	const char	*db;		/* borrowed: DB_PATH, or NULL */
	int64_t		 started_ns, ms, max_lag_ms;
	enum drill_status status;	/* DRILL_FAIL if any check failed */
	struct drill_chain chain;
	struct drill_latest latest;
	struct drill_replay replay;
	struct drill_pitr pitr;
	struct drill_sql sql;
};

/*
 * Run every check against `r`, with temp files in `workdir` (an existing
 * private directory, left empty).  Never fails: each check records its
 * own outcome in `rep` (caller storage; drill_report_release), which
 * borrows nothing from `o` but the SQL texts.
 */
void	drill_run(struct replica *r, const struct drill_opts *o,
	    const char *workdir, struct drill_report *rep);
void	drill_report_release(struct drill_report *rep);

/* Record an outcome on a check (reason/object copied; either may be NULL). */
void	drill_set(struct drill_check *ck, enum drill_status st,
	    const char *object, const char *reason);

/* Outputs (drill_report.c).  Text: one line per check, then a summary. */
void	drill_print_text(const struct drill_report *rep, FILE *fp);
/* One JSON object; field names are documented in README.md. */
void	drill_print_json(const struct drill_report *rep, FILE *fp);
/*
 * Write the report's figures in Prometheus text format to `path`,
 * atomically (temp file, rename), mode 0644, for node_exporter's
 * textfile collector.
 */
int	drill_write_prom(const struct drill_report *rep, const char *path,
	    struct lsc_err *err);

/* The `drill` command (drill_cmd.c): exit 0 pass, 1 fail, 2 usage. */
int	cmd_drill(int argc, char **argv);

#endif
