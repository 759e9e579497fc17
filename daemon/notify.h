/* SPDX-License-Identifier: MIT */
/*
 * systemd's service notification protocol (sd_notify(3)) for the replicate
 * daemon, run as a Type=notify unit (systemd/litestream-c.service):
 *
 *	READY=1		once every database has made its first successful sync
 *	STATUS=...	a human line with the worst replication lag
 *	WATCHDOG=1	from the main loop, every half of WatchdogSec=
 *	STOPPING=1	when shutdown (the final sync) begins
 *
 * Every call is a cheap no-op when NOTIFY_SOCKET is unset (the daemon was
 * not started by systemd as Type=notify), so callers need no conditions.
 * State is process-wide and meant for the loop's thread only: call these
 * between steps, never from a worker that runs one.
 *
 * The loop's side, in order:
 *	notify_init();				once, before the loop
 *	notify_update(repls, n, now);		after steps: READY and STATUS
 *	if (notify_watchdog_due(now))		every pass, and between steps
 *		notify_watchdog(now);
 *	wake = min(wake, notify_wake_ms());	so the poll comes back in time
 *	notify_reloading(); notify_reloaded();	around a SIGHUP reload
 *	notify_stopping();			when shutdown starts
 */
#ifndef LSC_NOTIFY_H
#define LSC_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* What notify_update() needs of one database: a copy the loop's thread
 * owns (workers write struct repl's own fields while a step runs). */
struct notify_db {
	const char	*path;
	int		 synced;	/* a step has succeeded once */
	int		 failing;	/* the last step failed */
	int64_t		 synced_ms;	/* mono_ms() at the start of the last
					 * successful step (or of the first) */
	int		 pending_pct;	/* the most of max-pending a replica
					 * holds back, in percent */
	int		 waiting;	/* enum repl_wait: 1 no database file
					 * yet, 2 another process's; neither
					 * holds READY back, and its lag is 0 */
};

/* Read NOTIFY_SOCKET and WATCHDOG_USEC (honouring WATCHDOG_PID) once. */
void	notify_init(void);

/* 1 when NOTIFY_SOCKET is set, i.e. messages go somewhere. */
int	notify_enabled(void);

/* The raw messages.  notify_ready() sends READY=1 at most once. */
void	notify_ready(void);
void	notify_status(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	notify_stopping(void);

/*
 * SIGHUP: notify_reloading() when the reload starts (RELOADING=1: systemctl
 * reload then waits), notify_reloaded() when the new config is in force
 * (READY=1 again, if READY=1 had been sent; else the first READY=1 is still
 * notify_update()'s to send).  Not wired in yet: SIGHUP comes with the
 * event loop.
 */
void	notify_reloading(void);
void	notify_reloaded(void);

/*
 * The watchdog: half of WATCHDOG_USEC in ms (0 when systemd set no
 * WatchdogSec=), whether a WATCHDOG=1 is due at `now_ms` (mono_ms()), and
 * the send itself, which schedules the next one.  notify_wake_ms() is the
 * mono_ms() by which the loop must call again (INT64_MAX: never).
 */
int64_t	notify_watchdog_interval_ms(void);
int	notify_watchdog_due(int64_t now_ms);
void	notify_watchdog(int64_t now_ms);
int64_t	notify_wake_ms(void);

/*
 * Look at every database after a round of steps: send READY=1 when the
 * last of them has made its first sync (`synced`), and a
 * STATUS= line when its text changed, e.g.
 *	STATUS=3 databases, worst lag 0s
 *	STATUS=starting: 1 of 2 databases synced, worst lag 4s (/var/lib/app/b.db)
 *	STATUS=2 databases, worst lag 0s, 1 waiting (/var/lib/app/c.db: no database yet)
 *	STATUS=3 databases, 1 starting, worst lag 0s (/var/lib/app/c.db)
 * A database waited for (no file yet, or another process's) counts as
 * ready and shows no lag; once READY is sent the line never says
 * "starting:" again, and a database that appears or is added later is
 * counted as "starting" until its first sync.
 * After READY the scan runs at most once a second (the lag is shown in
 * whole seconds), so a busy loop over many databases pays little.
 */
void	notify_update(const struct notify_db *dbs, size_t n, int64_t now_ms);

/*
 * The replication lag of one database in ms at `now_ms`: an upper bound on
 * the age of its oldest commit not yet in the replica.  See notify.c for
 * how it is approximated.
 */
int64_t	notify_db_lag_ms(const struct notify_db *db, int64_t now_ms);

/*
 * In a child process between fork() and exec() (replicate --exec): drop
 * NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment, so
 * the app neither speaks for the unit nor thinks it has a watchdog.
 */
void	notify_forget_env(void);

#endif
