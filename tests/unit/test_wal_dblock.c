/* SPDX-License-Identifier: MIT */
/*
 * wal/dblock.c: the lock file lands in the shadow WAL's directory (or
 * meta-path), one holder at a time (two opens in one process conflict as
 * two processes do), the holder's pid and hostname are readable by the
 * loser, the lock goes with its holder's exit, the descriptor is
 * close-on-exec, and failures name the path.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "tests/unit/t.h"
#include "wal/dblock.h"

static char tmp[] = "/tmp/lsc-dblock.XXXXXX";

static char *
slurp(const char *path)
{
	char *s = NULL;
	size_t n;

	if (fs_read_small(path, 4096, &s, &n, NULL) != LSC_OK)
		return xstrdup("");
	return s;
}

static void
test_lock_and_holder(void)
{
	struct dblock a, b;
	struct dblock_holder h;
	struct lsc_err err = { 0 };
	char *db = xasprintf("%s/app.db", tmp);
	char *want = xasprintf("%s/.app.db-litestream/lock", tmp);
	char host[256], line[400], *text, desc[300];

	dblock_init(&a);
	dblock_init(&b);
	T_CHECK(dblock_path(&a) == NULL);
	/* The database itself need not exist: only its directory. */
	T_EQ_INT(dblock_try(&a, db, NULL, NULL, &err), LSC_OK);
	T_EQ_INT(a.held, 1);
	T_EQ_STR(dblock_path(&a), want);
	T_CHECK(fcntl(a.fd, F_GETFD) & FD_CLOEXEC);
	gethostname(host, sizeof(host));
	snprintf(line, sizeof(line), "%ld %s\n", (long)getpid(), host);
	text = slurp(want);
	T_EQ_STR(text, line);
	free(text);
	/* Again while held: a no-op. */
	T_EQ_INT(dblock_try(&a, db, NULL, NULL, &err), LSC_OK);

	/* A second open file in the same process loses, and learns who won. */
	memset(&h, 0, sizeof(h));
	T_EQ_INT(dblock_try(&b, db, NULL, &h, &err), LSC_EBUSY);
	T_EQ_INT(b.held, 0);
	T_EQ_INT(err.code, LSC_OK);	/* busy is not an error to record */
	T_EQ_INT(h.pid, getpid());
	T_EQ_STR(h.host, host);
	T_CHECK(dblock_holder_is_self(&h));
	snprintf(line, sizeof(line), "pid %ld on host %s", (long)getpid(), host);
	T_EQ_STR(dblock_holder_str(&h, desc, sizeof(desc)), line);

	/* Released: the waiter gets it, and the text is the new holder's. */
	dblock_release(&a);
	T_EQ_INT(a.fd, -1);
	T_CHECK(dblock_path(&a) == NULL);
	dblock_release(&a);		/* twice: harmless */
	T_EQ_INT(dblock_try(&b, db, NULL, NULL, &err), LSC_OK);
	T_EQ_INT(b.held, 1);
	dblock_release(&b);
	/* The file stays (see dblock.h), emptied of its last holder. */
	text = slurp(want);
	T_EQ_STR(text, "");
	free(text);
	free(db);
	free(want);
}

static void
test_meta_dir(void)
{
	struct dblock a;
	struct lsc_err err = { 0 };
	char *meta = xasprintf("%s/meta/deeper", tmp);
	char *want = xasprintf("%s/lock", meta);
	struct stat st;

	dblock_init(&a);
	T_EQ_INT(dblock_try(&a, "/nonexistent/x.db", meta, NULL, &err), LSC_OK);
	T_EQ_STR(dblock_path(&a), want);
	T_CHECK(stat(want, &st) == 0 && S_ISREG(st.st_mode));
	dblock_release(&a);
	free(meta);
	free(want);
}

/* Another process holds it; its exit (here without any cleanup) frees it. */
static void
test_other_process(void)
{
	struct dblock a;
	struct dblock_holder h;
	struct lsc_err err = { 0 };
	char *db = xasprintf("%s/other.db", tmp);
	int go[2], ready[2], st;
	char c = 0;
	pid_t pid;

	if (pipe(go) != 0 || pipe(ready) != 0) {
		T_CHECK(!"pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct dblock l;

		dblock_init(&l);
		if (dblock_try(&l, db, NULL, NULL, NULL) != LSC_OK)
			_exit(1);
		(void)!write(ready[1], "r", 1);
		(void)!read(go[0], &c, 1);
		_exit(0);	/* no dblock_release: the kernel's job */
	}
	T_EQ_INT(read(ready[0], &c, 1), 1);
	dblock_init(&a);
	memset(&h, 0, sizeof(h));
	T_EQ_INT(dblock_try(&a, db, NULL, &h, &err), LSC_EBUSY);
	T_EQ_INT(h.pid, pid);
	T_CHECK(!dblock_holder_is_self(&h));
	(void)!write(go[1], "g", 1);
	waitpid(pid, &st, 0);
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_EQ_INT(dblock_try(&a, db, NULL, NULL, &err), LSC_OK);
	dblock_release(&a);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	free(db);
}

static void
test_unknown_holder(void)
{
	struct dblock a, b;
	struct dblock_holder h;
	char *db = xasprintf("%s/junk.db", tmp);
	char desc[300];

	dblock_init(&a);
	dblock_init(&b);
	T_EQ_INT(dblock_try(&a, db, NULL, NULL, NULL), LSC_OK);
	/* What an older holder, or a torn write, might leave. */
	T_EQ_INT(ftruncate(a.fd, 0), 0);
	T_EQ_INT(pwrite(a.fd, "garbage", 7, 0), 7);
	h.pid = 99;
	T_EQ_INT(dblock_try(&b, db, NULL, &h, NULL), LSC_EBUSY);
	T_EQ_INT(h.pid, 0);
	T_EQ_STR(dblock_holder_str(&h, desc, sizeof(desc)), "an unknown process");
	h.pid = 7;
	h.host[0] = '\0';
	T_EQ_STR(dblock_holder_str(&h, desc, sizeof(desc)), "pid 7");
	dblock_release(&b);
	dblock_release(&a);
	free(db);
}

static void
test_errors(void)
{
	struct dblock a;
	struct lsc_err err = { 0 };
	char *file = xasprintf("%s/plain", tmp);
	char *meta = xasprintf("%s/plain/meta", tmp);
	int fd = open(file, O_CREAT | O_WRONLY, 0644);

	close(fd);
	dblock_init(&a);
	/* The meta directory cannot be made below a regular file. */
	T_EQ_INT(dblock_try(&a, "/x/y.db", meta, NULL, &err), LSC_EIO);
	T_CHECK(strstr(err.msg, meta) != NULL);
	T_EQ_INT(a.held, 0);
	dblock_release(&a);
	free(file);
	free(meta);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_lock_and_holder();
	test_meta_dir();
	test_other_process();
	test_unknown_holder();
	test_errors();
	cmd = xasprintf("rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		printf("warning: could not remove %s\n", tmp);
	free(cmd);
	return t_done();
}
