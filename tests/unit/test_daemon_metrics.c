/* SPDX-License-Identifier: MIT */
/*
 * The metrics registry and text rendering (daemon/metrics.c), without the
 * HTTP server (t4400 scrapes the real one): repls register in repl_init
 * and leave in repl_release in any order, values appear under the right
 * names and labels (a replica's with its name), label values are escaped,
 * a database with no generation yet has no generation_info sample, and
 * the lag is measured from the first sighting of unshipped data, per
 * replica.
 */
#include <stdlib.h>

#include "common/fsutil.h"
#include "daemon/metrics.h"
#include "daemon/repl.h"
#include "tests/unit/t.h"

static char *
render(void)
{
	struct buf b;
	struct lsc_err err = { 0 };
	size_t len;

	buf_init(&b, 1 << 20);
	T_EQ_INT(metrics_render(&b, &err), LSC_OK);
	if (b.data == NULL)
		return calloc(1, 1);
	return (char *)buf_detach(&b, &len);
}

/* Does `text` hold `line` as a whole line? */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* A repl with a file replica, and a second one named `second`. */
static void
init(struct repl *r, struct cfg_db *db, const char *path, const char *second)
{
	struct cfg_s3 s3;

	cfg_db_defaults(db);
	db->path = (char *)path;
	cfg_db_add_replica(db, NULL, "file:///nowhere", 0);
	if (second != NULL)
		cfg_db_add_replica(db, second, "file:///elsewhere", 0);
	cfg_s3_init(&s3);
	repl_init(r, db, &s3, NULL);
}

/* Publish a shadow position as the database's step would. */
static void
set_pub(struct repl *r, const char *gen, uint32_t index, uint64_t size)
{
	memcpy(r->pub.gen, gen, GEN_ID_LEN + 1);
	r->pub.index = index;
	r->pub.size = size;
}

int
main(void)
{
	static struct repl r[3];
	struct cfg_db db[3];
	struct shipper *a0, *a1;
	char *t;
	double lag;
	const char *p;

	t = render();
	T_CHECK(has_line(t, "litestream_c_databases 0"));
	T_CHECK(has_line(t, "# TYPE litestream_c_s3_requests_total counter"));
	free(t);

	init(&r[0], &db[0], "/data/a.db", "usb");
	init(&r[1], &db[1], "/data/we\"ird\\name\nx.db", NULL);
	init(&r[2], &db[2], "/data/c.db", NULL);
	a0 = &r[0].ships[0];
	a1 = &r[0].ships[1];
	stat_add(&a0->st.wal_bytes, 4152);
	stat_add(&a0->st.wal_frames, 1);
	stat_add(&a1->st.wal_bytes, 99);
	stat_add(&r[0].st.checkpoints[WAL_CKPT_RESTART], 3);
	stat_add(&r[2].ships[0].st.snapshots, 2);
	memcpy(r[0].st.gen, "0123456789abcdef", 17);
	memcpy(a0->gen, "0123456789abcdef", 17);
	set_pub(&r[0], "0123456789abcdef", 7, 8000);
	a0->pos_known = 1;
	a0->pos_index = 7;
	a0->pos_offset = 4152;	/* the replica lacks some: lag keeps running */
	atomic_store(&a0->st.pending_bytes, 8000 - 4152);
	shipper_stats_pending(a0);
	shipper_publish(a0);
	/* a second sighting must not restart the clock */
	atomic_store(&a0->st.pending_since_ns, now_ns() - 2000000000LL);
	shipper_stats_pending(a0);

	t = render();
	T_CHECK(has_line(t, "litestream_c_databases 3"));
	T_CHECK(has_line(t, "# HELP litestream_c_wal_bytes_shipped_total WAL "
	    "bytes uploaded to the replica (before compression)."));
	T_CHECK(has_line(t, "# TYPE litestream_c_wal_bytes_shipped_total counter"));
	T_CHECK(has_line(t, "litestream_c_wal_bytes_shipped_total{db=\"/data/a.db\",replica=\"file\"} 4152"));
	T_CHECK(has_line(t, "litestream_c_wal_frames_shipped_total{db=\"/data/a.db\",replica=\"file\"} 1"));
	T_CHECK(has_line(t, "litestream_c_checkpoints_total{db=\"/data/a.db\","
	    "mode=\"restart\"} 3"));
	T_CHECK(has_line(t, "litestream_c_checkpoints_total{db=\"/data/a.db\","
	    "mode=\"passive\"} 0"));
	T_CHECK(has_line(t, "litestream_c_snapshots_total{db=\"/data/c.db\","
	    "replica=\"file\"} 2"));
	T_CHECK(has_line(t, "litestream_c_generation_info{db=\"/data/a.db\","
	    "generation=\"0123456789abcdef\"} 1"));
	T_CHECK(strstr(t, "generation_info{db=\"/data/c.db\"") == NULL);
	T_CHECK(has_line(t, "litestream_c_replica_wal_index{db=\"/data/a.db\",replica=\"file\"} 7"));
	T_CHECK(has_line(t, "litestream_c_replica_wal_offset_bytes"
	    "{db=\"/data/a.db\",replica=\"file\"} 4152"));
	T_CHECK(has_line(t, "litestream_c_last_sync_timestamp_seconds"
	    "{db=\"/data/c.db\",replica=\"file\"} 0.000"));
	/* quote, backslash and newline escaped in the label value */
	T_CHECK(has_line(t, "litestream_c_sync_errors_total"
	    "{db=\"/data/we\\\"ird\\\\name\\nx.db\",replica=\"file\"} 0"));
	p = strstr(t, "litestream_c_replication_lag_seconds{db=\"/data/a.db\","
	    "replica=\"file\"} ");
	T_CHECK(p != NULL);
	lag = p ? strtod(strchr(p, '}') + 2, NULL) : -1;
	T_CHECK(lag >= 2.0 && lag < 10.0);
	T_CHECK(has_line(t, "litestream_c_replication_lag_seconds{db=\"/data/c.db\","
	    "replica=\"file\"} 0.000"));
	/* each replica of a.db on its own */
	T_CHECK(has_line(t, "litestream_c_wal_bytes_shipped_total{db=\"/data/a.db\","
	    "replica=\"usb\"} 99"));
	T_CHECK(has_line(t, "litestream_c_replication_lag_seconds{db=\"/data/a.db\","
	    "replica=\"usb\"} 0.000"));
	T_CHECK(has_line(t, "litestream_c_replica_pending_bytes{db=\"/data/a.db\","
	    "replica=\"file\"} 3848"));
	T_CHECK(has_line(t, "# TYPE litestream_c_replica_pending_bytes gauge"));
	/* the database's own families have no replica label */
	T_CHECK(has_line(t, "litestream_c_generations_total{db=\"/data/a.db\"} 0"));
	/* every database has both waiting series, 0 until it waits */
	T_CHECK(has_line(t, "# TYPE litestream_c_db_waiting gauge"));
	T_CHECK(has_line(t, "litestream_c_db_waiting{db=\"/data/a.db\","
	    "reason=\"database\"} 0"));
	T_CHECK(has_line(t, "litestream_c_db_waiting{db=\"/data/a.db\","
	    "reason=\"lock\"} 0"));
	free(t);
	atomic_store(&r[0].st.waiting, REPL_WAIT_FILE);
	atomic_store(&r[2].st.waiting, REPL_WAIT_LOCK);
	t = render();
	T_CHECK(has_line(t, "litestream_c_db_waiting{db=\"/data/a.db\","
	    "reason=\"database\"} 1"));
	T_CHECK(has_line(t, "litestream_c_db_waiting{db=\"/data/a.db\","
	    "reason=\"lock\"} 0"));
	T_CHECK(has_line(t, "litestream_c_db_waiting{db=\"/data/c.db\","
	    "reason=\"database\"} 0"));
	T_CHECK(has_line(t, "litestream_c_db_waiting{db=\"/data/c.db\","
	    "reason=\"lock\"} 1"));
	free(t);
	atomic_store(&r[0].st.waiting, REPL_WAIT_NONE);
	atomic_store(&r[2].st.waiting, REPL_WAIT_NONE);

	/* caught up: the lag clock stops */
	a0->pos_offset = 8000;
	shipper_publish(a0);
	t = render();
	T_CHECK(has_line(t, "litestream_c_replication_lag_seconds{db=\"/data/a.db\","
	    "replica=\"file\"} 0.000"));
	free(t);

	/* removal from the middle keeps the others */
	repl_release(&r[1]);
	t = render();
	T_CHECK(has_line(t, "litestream_c_databases 2"));
	T_CHECK(strstr(t, "ird") == NULL);
	T_CHECK(has_line(t, "litestream_c_snapshots_total{db=\"/data/c.db\","
	    "replica=\"file\"} 2"));
	free(t);
	repl_release(&r[2]);
	repl_release(&r[0]);
	t = render();
	T_CHECK(has_line(t, "litestream_c_databases 0"));
	free(t);
	for (int i = 0; i < 3; i++) {
		for (size_t k = 0; k < db[i].nreplicas; k++) {
			free(db[i].replicas[k].name);
			free(db[i].replicas[k].url);
		}
		free(db[i].replicas);
	}
	return t_done();
}
