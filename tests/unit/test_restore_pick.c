/* SPDX-License-Identifier: MIT */
/*
 * Choosing among a database's replicas (restore/pick.c), over file
 * replicas in a temp directory whose objects are empty files with chosen
 * names and times (the choice reads listings only), resolved from a
 * config as restore does (restore/target.c): in one generation the
 * replica that reaches further wins whatever the config order; across
 * generations the newest object, then the greater id; ties keep the
 * config order; --generation bounds it; a replica with no backup is
 * skipped; one that cannot be listed is skipped if another answers and
 * is the error (not "no backup") if none does; --replica by name or URL.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "restore/pick.h"
#include "restore/target.h"

#define GA "0000000000000aaa"
#define GB "0000000000000bbb"
#define S(x) ((int64_t)(x) * 1000000000)	/* seconds to ns */

static char dir[] = "/tmp/lsc-t-pick.XXXXXX";

/* An object `key` in replica directory `rep`, with mtime `t`: a few bytes
 * (the catalog leaves out a generation's newest segment listed empty, as
 * one still being written). */
static void
obj(const char *rep, const char *key, int64_t t)
{
	char *path = xasprintf("%s/%s/%s", dir, rep, key), *parent;
	struct timespec ts[2] = { { t / 1000000000, 0 }, { t / 1000000000, 0 } };
	int fd;

	parent = fs_dirname(path);
	T_EQ_INT(fs_mkdir_p(parent, 0700, NULL), LSC_OK);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_CHECK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT((int)write(fd, "lz4", 3), 3);
		T_EQ_INT(futimens(fd, ts), 0);
		close(fd);
	}
	free(parent);
	free(path);
}

static void
snap(const char *rep, const char *gen, unsigned idx, int64_t t)
{
	char k[128];

	snprintf(k, sizeof(k), "generations/%s/snapshots/%08x.snapshot.lz4", gen,
	    idx);
	obj(rep, k, t);
}

static void
seg(const char *rep, const char *gen, unsigned idx, unsigned off, int64_t t)
{
	char k[128];

	snprintf(k, sizeof(k), "generations/%s/wal/%08x_%08x.wal.lz4", gen, idx,
	    off);
	obj(rep, k, t);
}

/*
 * Resolve /x/app.db from a config whose [db] has the replicas `reps`
 * (space-separated directory names under `dir`, each given as
 * replica.NAME), then pick with `gen` (NULL: any).  Returns the chosen
 * name ("" with the error code in *rc on failure).
 */
static const char *
pick(const char *reps, const char *sel, const char *gen, int *rc)
{
	static char chosen[64];
	char *cfg = xasprintf("%s/c.ini", dir), *text, *copy = xstrdup(reps);
	struct plan_opts po = { .generation = gen };
	struct lsc_err err = { 0 };
	struct target t;
	struct pick p = { 0 };
	FILE *f;

	text = xasprintf("[db \"/x/app.db\"]\n");
	for (char *s = copy, *sp; s != NULL; s = sp != NULL ? sp + 1 : NULL) {
		char *more;

		if ((sp = strchr(s, ' ')) != NULL)
			*sp = '\0';
		more = xasprintf("%sreplica.%s = file://%s/%s\n", text, s, dir, s);
		free(text);
		text = more;
	}
	free(copy);
	f = fopen(cfg, "w");
	fputs(text, f);
	fclose(f);
	chosen[0] = '\0';
	*rc = target_resolve("/x/app.db", cfg, sel, &t, &err);
	if (*rc == LSC_OK) {
		*rc = pick_replica(&t, &po, NULL, &p, &err);
		if (*rc == LSC_OK)
			snprintf(chosen, sizeof(chosen), "%s", t.reps[p.index].name);
		pick_release(&p);
		target_release(&t);
	}
	free(text);
	free(cfg);
	return chosen;
}

int
main(void)
{
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	log_set_level(LOG_ERROR);

	/* One generation: "far" has a later segment than "near", in any
	 * config order, even with an older time (stores' clocks differ). */
	snap("near", GA, 0, S(100));
	seg("near", GA, 0, 0, S(100));
	snap("far", GA, 0, S(100));
	seg("far", GA, 0, 0, S(90));
	seg("far", GA, 0, 0x1000, S(95));
	T_EQ_STR(pick("near far", NULL, NULL, &rc), "far");
	T_EQ_STR(pick("far near", NULL, NULL, &rc), "far");
	/* ...and a next index beats any offset of the last. */
	seg("near", GA, 1, 0, S(101));
	T_EQ_STR(pick("far near", NULL, NULL, &rc), "near");

	/* Across generations: the newest object, then the greater id. */
	snap("old", GB, 0, S(50));
	seg("old", GB, 0, 0, S(60));
	snap("new", GA, 0, S(70));
	T_EQ_STR(pick("new old", NULL, NULL, &rc), "new");
	T_EQ_STR(pick("old new", NULL, NULL, &rc), "new");
	snap("tie", GB, 0, S(70));
	T_EQ_STR(pick("new tie", NULL, NULL, &rc), "tie");
	/* A full tie keeps the config's order. */
	snap("twin", GA, 0, S(70));
	T_EQ_STR(pick("new twin", NULL, NULL, &rc), "new");
	T_EQ_STR(pick("twin new", NULL, NULL, &rc), "twin");

	/* --generation: only replicas that have it. */
	T_EQ_STR(pick("tie new", NULL, GA, &rc), "new");

	/* No backup in one: the other; in none: LSC_ENOTFOUND. */
	T_EQ_STR(pick("empty old", NULL, NULL, &rc), "old");
	T_EQ_STR(pick("empty empty2", NULL, NULL, &rc), "");
	T_EQ_INT(rc, LSC_ENOTFOUND);

	/* A replica that cannot be listed (its directory a symbolic link
	 * to itself: ELOOP, which root cannot bypass as it would EACCES):
	 * skipped when another answers; its error, never "no backup", when
	 * none does. */
	{
		char *loop = xasprintf("%s/broken", dir);

		T_EQ_INT(symlink(loop, loop), 0);
		free(loop);
	}
	T_EQ_STR(pick("broken old", NULL, NULL, &rc), "old");
	T_EQ_STR(pick("broken empty", NULL, NULL, &rc), "");
	T_CHECK(rc != LSC_OK && rc != LSC_ENOTFOUND);

	/* --replica by name or URL: that one, even if older. */
	T_EQ_STR(pick("new old", "old", NULL, &rc), "old");
	{
		char *url = xasprintf("file://%s/old", dir);

		T_EQ_STR(pick("new old", url, NULL, &rc), "old");
		free(url);
	}
	T_EQ_STR(pick("new old", "nope", NULL, &rc), "");
	T_EQ_INT(rc, LSC_ECONFIG);

	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			printf("could not remove %s\n", dir);
		free(cmd);
	}
	return t_done();
}
