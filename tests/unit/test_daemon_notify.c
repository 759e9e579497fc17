/* SPDX-License-Identifier: MIT */
/*
 * daemon/notify.c against a real datagram socket standing in for systemd's:
 * no socket means silence, the watchdog period and its WATCHDOG_PID check,
 * READY=1 only once every database synced and only once, STATUS= lines
 * (lag, failing, rate limit, no repeats), STOPPING=1, reload, and the
 * environment a --exec child gets.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/notify.h"
#include "daemon/repl.h"
#include "tests/unit/t.h"

static int sock = -1;
static char sock_path[108];

static void
listen_socket(void)
{
	struct sockaddr_un sa;

	snprintf(sock_path, sizeof(sock_path), "/tmp/lsc-notify-%d.sock",
	    (int)getpid());
	unlink(sock_path);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		printf("FAIL: cannot bind %s: %s\n", sock_path, strerror(errno));
		exit(1);
	}
}

/* The next datagram, or "" when none is waiting. */
static const char *
next_msg(void)
{
	static char buf[1024];
	ssize_t n = recv(sock, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
test_silent_without_socket(void)
{
	struct notify_db r[1];

	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "400000", 1);
	notify_init();
	T_EQ_INT(notify_enabled(), 0);
	memset(r, 0, sizeof(r));
	r[0].path = "/a.db";
	r[0].synced = 1;
	notify_update(r, 1, 1000);
	notify_ready();
	notify_stopping();
	/* The watchdog still follows WATCHDOG_USEC; sending is the no-op. */
	T_EQ_INT(notify_watchdog_interval_ms(), 200);
	T_EQ_STR(next_msg(), "");
}

static void
test_watchdog(void)
{
	setenv("NOTIFY_SOCKET", sock_path, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	notify_init();
	T_EQ_INT(notify_enabled(), 1);
	T_EQ_INT(notify_watchdog_interval_ms(), 0);
	T_EQ_INT(notify_watchdog_due(1000000), 0);
	T_CHECK(notify_wake_ms() == INT64_MAX);

	setenv("WATCHDOG_USEC", "400000", 1);
	notify_init();
	T_EQ_INT(notify_watchdog_interval_ms(), 200);
	T_EQ_INT(notify_watchdog_due(0), 1);	/* the first one at once */
	notify_watchdog(1000);
	T_EQ_STR(next_msg(), "WATCHDOG=1");
	T_EQ_INT(notify_wake_ms(), 1200);
	T_EQ_INT(notify_watchdog_due(1199), 0);
	T_EQ_INT(notify_watchdog_due(1200), 1);
	/* Late: the next one is a period after this send, not a burst. */
	notify_watchdog(5000);
	T_EQ_INT(notify_wake_ms(), 5200);
	T_EQ_STR(next_msg(), "WATCHDOG=1");

	setenv("WATCHDOG_USEC", "1", 1);	/* 1 us: at least 1 ms */
	notify_init();
	T_EQ_INT(notify_watchdog_interval_ms(), 1);

	/* A watchdog meant for another process (WATCHDOG_PID) is not ours. */
	setenv("WATCHDOG_USEC", "400000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	notify_init();
	T_EQ_INT(notify_watchdog_interval_ms(), 0);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
}

static void
test_ready_and_status(void)
{
	struct notify_db r[2];

	setenv("NOTIFY_SOCKET", sock_path, 1);
	notify_init();
	memset(r, 0, sizeof(r));
	r[0].path = "/data/a.db";
	r[1].path = "/data/b.db";
	r[0].synced = 1;
	r[0].synced_ms = 4000;
	r[1].synced_ms = 2000;		/* repl_init's time: never synced */
	r[1].failing = 1;

	notify_update(r, 2, 5000);
	T_EQ_STR(next_msg(), "STATUS=starting: 1 of 2 databases synced, "
	    "worst lag 3s (/data/b.db)");
	/* Before READY every call scans; the same text is not sent again. */
	notify_update(r, 2, 5100);
	T_EQ_STR(next_msg(), "");
	notify_update(r, 2, 6000);
	T_EQ_STR(next_msg(), "STATUS=starting: 1 of 2 databases synced, "
	    "worst lag 4s (/data/b.db)");

	r[1].synced = 1;
	r[1].failing = 0;
	r[1].synced_ms = 6100;
	notify_update(r, 2, 6200);
	T_EQ_STR(next_msg(), "READY=1\nSTATUS=2 databases, worst lag 0s");
	notify_ready();			/* once only */
	T_EQ_STR(next_msg(), "");

	/* A failure shows at the next scan, at most once a second. */
	r[0].failing = 1;
	notify_update(r, 2, 6500);
	T_EQ_STR(next_msg(), "");
	notify_update(r, 2, 7200);
	T_EQ_STR(next_msg(), "STATUS=2 databases, 1 failing, worst lag 3s "
	    "(/data/a.db)");
	notify_update(r, 2, 7300);	/* rate limit */
	T_EQ_STR(next_msg(), "");
	r[0].failing = 0;
	notify_update(r, 2, 8300);
	T_EQ_STR(next_msg(), "STATUS=2 databases, worst lag 0s");
	notify_update(r, 2, 9400);	/* unchanged: nothing sent */
	T_EQ_STR(next_msg(), "");
	T_EQ_STR(next_msg(), "");
	/* A replica lagging towards max-pending shows from 50% on. */
	r[1].pending_pct = 40;
	notify_update(r, 2, 10500);
	T_EQ_STR(next_msg(), "");
	r[1].pending_pct = 92;
	notify_update(r, 2, 11600);
	T_EQ_STR(next_msg(), "STATUS=2 databases, worst lag 0s, /data/b.db: a "
	    "replica holds 92% of max-pending");
	r[1].pending_pct = 0;
	notify_update(r, 2, 12700);
	T_EQ_STR(next_msg(), "STATUS=2 databases, worst lag 0s");

	T_EQ_INT(notify_db_lag_ms(&r[0], 9000), 0);
	r[0].failing = 1;
	T_EQ_INT(notify_db_lag_ms(&r[0], 9000), 5000);
	T_EQ_INT(notify_db_lag_ms(&r[0], 3000), 0);	/* never negative */

	/* A reload: RELOADING=1, then READY=1 and a fresh STATUS. */
	notify_reloading();
	T_EQ_STR(next_msg(), "RELOADING=1\nSTATUS=reloading the configuration");
	notify_reloaded();
	T_EQ_STR(next_msg(), "READY=1");
	notify_update(r, 2, 9500);
	T_EQ_STR(next_msg(), "STATUS=2 databases, 1 failing, worst lag 5s "
	    "(/data/a.db)");

	notify_stopping();
	T_EQ_STR(next_msg(), "STOPPING=1\nSTATUS=shutting down: final sync");
}

/* Databases waited for (daemon/await.c): no database file yet, or
 * another process's.  They hold neither READY back nor show a lag. */
static void
test_waiting(void)
{
	struct notify_db r[3];

	setenv("NOTIFY_SOCKET", sock_path, 1);
	notify_init();
	memset(r, 0, sizeof(r));
	r[0].path = "/data/a.db";
	r[1].path = "/data/new.db";
	r[2].path = "/data/held.db";
	r[1].waiting = 1;
	r[1].synced_ms = 1000;		/* long ago: still no lag */
	notify_update(r, 2, 5000);
	T_EQ_STR(next_msg(), "STATUS=starting: 0 of 2 databases synced, "
	    "worst lag 5s (/data/a.db), 1 waiting (/data/new.db: no database "
	    "yet)");
	T_EQ_INT(notify_db_lag_ms(&r[1], 5000), 0);
	r[0].synced = 1;
	r[0].synced_ms = 5000;
	notify_update(r, 2, 5100);
	T_EQ_STR(next_msg(), "READY=1\nSTATUS=2 databases, worst lag 0s, "
	    "1 waiting (/data/new.db: no database yet)");
	/* It appears: not synced yet, and still no going back on READY. */
	r[1].waiting = 0;
	r[1].synced_ms = 6000;
	notify_update(r, 2, 6200);
	T_EQ_STR(next_msg(), "STATUS=2 databases, 1 starting, worst lag 0s "
	    "(/data/new.db)");
	T_EQ_STR(next_msg(), "");
	r[1].synced = 1;
	notify_update(r, 2, 7300);
	T_EQ_STR(next_msg(), "STATUS=2 databases, worst lag 0s");
	/* Failing and starting at once, after READY. */
	r[1].synced = 0;
	r[0].failing = 1;
	notify_update(r, 2, 8400);
	T_EQ_STR(next_msg(), "STATUS=2 databases, 1 failing, 1 starting, "
	    "worst lag 3s (/data/a.db)");
	r[0].failing = 0;

	/* Every database waited for: ready at once, no worst to name. */
	notify_init();
	r[0].waiting = 2;
	r[1].waiting = 1;
	r[2].waiting = 2;
	notify_update(r, 3, 7000);
	T_EQ_STR(next_msg(), "READY=1\nSTATUS=3 databases, worst lag 0s, "
	    "3 waiting (/data/a.db: another process replicates it)");
}

static void
test_edge_cases(void)
{
	setenv("NOTIFY_SOCKET", sock_path, 1);
	notify_init();
	/* A reload before READY does not claim readiness. */
	notify_reloaded();
	T_EQ_STR(next_msg(), "");
	/* No databases: ready at once (and no NULL worst database). */
	notify_update(NULL, 0, 100);
	T_EQ_STR(next_msg(), "READY=1\nSTATUS=0 databases, worst lag 0s");

	/* What a --exec child keeps of all this: nothing. */
	setenv("WATCHDOG_USEC", "400000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	notify_forget_env();
	T_CHECK(getenv("NOTIFY_SOCKET") == NULL);
	T_CHECK(getenv("WATCHDOG_USEC") == NULL);
	T_CHECK(getenv("WATCHDOG_PID") == NULL);
}

int
main(void)
{
	listen_socket();
	test_silent_without_socket();
	test_watchdog();
	test_ready_and_status();
	test_waiting();
	test_edge_cases();
	close(sock);
	unlink(sock_path);
	return t_done();
}
