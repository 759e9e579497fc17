/* SPDX-License-Identifier: MIT */
/*
 * Issue 11 defect 6: a snapshot is never taken without a read pin.  A real
 * repl on a temp database and file replica: after a step, both of our
 * connections are made to drop their pins (as when a hand-off and the
 * re-pin after it both fail); a snapshot (ship_snapshot) must refuse (LSC_EBUSY, no
 * object written), and the next step must hold a pin again before it
 * ships, checkpoints or snapshots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/repl.h"
#include "tests/unit/t.h"

static int
count_snapshots(const char *rep)
{
	char *cmd = xasprintf("find '%s' -name '*.snapshot.lz4' | wc -l", rep);
	FILE *f = popen(cmd, "r");
	int n = -1;

	if (f != NULL) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	free(cmd);
	return n;
}

int
main(void)
{
	char tmpl[] = "/tmp/lsc-t-pin.XXXXXX";
	char *dir = mkdtemp(tmpl), *path, *rep, *url, *cmd;
	static struct repl r;
	struct cfg_db db;
	struct cfg_s3 s3;
	struct lsc_err err = { 0 };
	sqlite3 *app;
	int before;

	log_set_level(LOG_ERROR);
	path = xasprintf("%s/app.db", dir);
	rep = xasprintf("%s/rep", dir);
	url = xasprintf("file://%s", rep);
	T_EQ_INT(sqlite3_open(path, &app), SQLITE_OK);
	T_EQ_INT(sqlite3_exec(app, "PRAGMA journal_mode=wal; CREATE TABLE t(x);"
	    "INSERT INTO t VALUES (1);", NULL, NULL, NULL), SQLITE_OK);

	cfg_db_defaults(&db);
	db.path = path;
	cfg_db_add_replica(&db, NULL, url, 0);
	cfg_s3_init(&s3);
	wal_db_global_init();
	repl_init(&r, &db, &s3, NULL);
	T_EQ_INT(repl_sync(&r), LSC_OK);
	T_CHECK(r.db != NULL && wal_db_pinned(r.db, WAL_CONN_A));
	before = count_snapshots(rep);
	T_EQ_INT(before, 1);

	/* No pin on either connection: no snapshot. */
	wal_db_unpin(r.db, WAL_CONN_A);
	wal_db_unpin(r.db, WAL_CONN_B);
	repl_publish(&r);
	T_EQ_INT(ship_snapshot(&r.ships[0], &err), LSC_EBUSY);
	T_CHECK(err.msg[0] != '\0');
	T_EQ_INT(count_snapshots(rep), before);

	/* The next step pins before anything else, even while the app holds
	 * the write lock (so the hand-off's own write cannot run), and a
	 * snapshot then goes through. */
	T_EQ_INT(sqlite3_exec(app, "INSERT INTO t VALUES (2); BEGIN IMMEDIATE;",
	    NULL, NULL, NULL), SQLITE_OK);
	wal_db_unpin(r.db, WAL_CONN_A);
	wal_db_unpin(r.db, WAL_CONN_B);
	T_EQ_INT(repl_sync(&r), LSC_OK);
	T_CHECK(wal_db_pinned(r.db, WAL_CONN_A) || wal_db_pinned(r.db, WAL_CONN_B));
	T_EQ_INT(sqlite3_exec(app, "COMMIT;", NULL, NULL, NULL), SQLITE_OK);
	lsc_err_clear(&err);
	T_EQ_INT(ship_snapshot(&r.ships[0], &err), LSC_OK);

	T_EQ_INT(repl_final(&r), 0);
	T_EQ_INT(shipper_final(&r.ships[0]), 0);
	repl_final_end(&r);
	repl_release(&r);
	free(db.replicas[0].name);
	free(db.replicas[0].url);
	free(db.replicas);
	cfg_s3_release(&s3);
	sqlite3_close(app);
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	free(cmd);
	free(path);
	free(rep);
	free(url);
	return t_done();
}
