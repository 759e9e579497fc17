/* SPDX-License-Identifier: MIT */
/*
 * The sd_notify protocol for the replicate daemon (see notify.h).
 *
 * The messages go through libsystemd's sd_notify() and the watchdog period
 * comes from sd_watchdog_enabled(): the protocol is small (one datagram to
 * $NOTIFY_SOCKET), but the library already handles abstract sockets,
 * vsock addresses, WATCHDOG_PID and the credentials systemd checks, and
 * libsystemd0 is on every Debian system that has systemd at all.
 *
 * Lag.  The daemon does not yet know when each commit landed, so the lag
 * of a database is approximated from what repl_step() records:
 *   - a database whose last step succeeded shows 0: that step shipped
 *     everything committed before it began, and a commit made since waits
 *     at most until the next step (one sync-interval, or the next WAL event);
 *   - a failing database (or one not synced yet) shows the time since the
 *     start of its last successful step (since start-up before the first):
 *     anything committed before that start is in the replica, so this is an
 *     upper bound on the age of the oldest commit that is not.  It can
 *     overstate: a step that shipped everything and then failed (say, at a
 *     checkpoint) still counts as failing.
 * When the loop learns the time of the first unshipped commit (the WAL
 * event that follows a ship), notify_db_lag_ms() is the one place to use it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "daemon/notify.h"

/* After READY, rescan the databases at most this often for STATUS. */
#define SCAN_PERIOD_MS	1000

/* One STATUS line; a long database path is cut, which is fine for a human. */
#define STATUS_MAX	512

static struct {
	int	 enabled;		/* NOTIFY_SOCKET is set */
	int	 ready_sent;
	int64_t	 wd_interval_ms;	/* 0: no watchdog */
	int64_t	 wd_next_ms;		/* mono_ms() of the next WATCHDOG=1 */
	int64_t	 next_scan_ms;
	char	 status[STATUS_MAX];	/* the last STATUS sent */
} nt;

/* Send one message; a failure is logged at debug and otherwise ignored:
 * systemd going away must not stop the replication. */
static void
send_msg(const char *msg)
{
	int rc;

	if (!nt.enabled)
		return;
	rc = sd_notify(0, msg);
	if (rc < 0)
		log_debug("sd_notify failed\terror=\"%s\" message=\"%.40s\"",
		    strerror(-rc), msg);
}

void
notify_init(void)
{
	uint64_t usec = 0;

	memset(&nt, 0, sizeof(nt));
	nt.enabled = getenv("NOTIFY_SOCKET") != NULL;
	/* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is us. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		/* Half the timeout, as sd_watchdog_enabled(3) advises: one late
		 * wake-up then still arrives in time.  At least 1 ms. */
		nt.wd_interval_ms = (int64_t)(usec / 2000);
		if (nt.wd_interval_ms < 1)
			nt.wd_interval_ms = 1;
		nt.wd_next_ms = 0;	/* due at once */
	}
	if (nt.enabled)
		log_debug("systemd notification on\twatchdog_interval_ms=%" PRId64,
		    nt.wd_interval_ms);
}

int
notify_enabled(void)
{
	return nt.enabled;
}

void
notify_ready(void)
{
	if (nt.ready_sent)
		return;
	nt.ready_sent = 1;
	send_msg("READY=1");
}

void
notify_status(const char *fmt, ...)
{
	char msg[STATUS_MAX + sizeof("STATUS=")];
	va_list ap;

	if (!nt.enabled)
		return;
	va_start(ap, fmt);
	vsnprintf(nt.status, sizeof(nt.status), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "STATUS=%s", nt.status);
	send_msg(msg);
}

void
notify_stopping(void)
{
	/* One datagram, so systemctl status shows why we are still up. */
	send_msg("STOPPING=1\nSTATUS=shutting down: final sync");
}

void
notify_reloading(void)
{
	send_msg("RELOADING=1\nSTATUS=reloading the configuration");
}

void
notify_reloaded(void)
{
	if (!nt.ready_sent)
		return;
	/* Forget the last STATUS, so the next notify_update() sends one. */
	nt.status[0] = '\0';
	nt.next_scan_ms = 0;
	send_msg("READY=1");
}

int64_t
notify_watchdog_interval_ms(void)
{
	return nt.wd_interval_ms;
}

int
notify_watchdog_due(int64_t now_ms)
{
	return nt.wd_interval_ms > 0 && now_ms >= nt.wd_next_ms;
}

void
notify_watchdog(int64_t now_ms)
{
	if (nt.wd_interval_ms == 0)
		return;
	send_msg("WATCHDOG=1");
	/* From now, not from the old deadline: after a stall we owe systemd
	 * one ping, not a burst of them. */
	nt.wd_next_ms = now_ms + nt.wd_interval_ms;
}

int64_t
notify_wake_ms(void)
{
	return nt.wd_interval_ms > 0 ? nt.wd_next_ms : INT64_MAX;
}

int64_t
notify_db_lag_ms(const struct notify_db *db, int64_t now_ms)
{
	/* No database yet, or another process ships it: nothing of ours
	 * is behind. */
	if (db->waiting)
		return 0;
	if (db->synced && !db->failing)
		return 0;
	return now_ms > db->synced_ms ? now_ms - db->synced_ms : 0;
}

void
notify_update(const struct notify_db *dbs, size_t n, int64_t now_ms)
{
	char line[STATUS_MAX], wait[STATUS_MAX / 2] = "";
	const struct notify_db *worst = NULL, *waiter = NULL, *pending = NULL;
	int64_t worst_ms = -1;
	size_t synced = 0, failing = 0, waiting = 0, starting = 0;

	if (!nt.enabled || (nt.ready_sent && now_ms < nt.next_scan_ms))
		return;
	nt.next_scan_ms = now_ms + SCAN_PERIOD_MS;
	for (size_t i = 0; i < n; i++) {
		int64_t lag = notify_db_lag_ms(&dbs[i], now_ms);

		if (dbs[i].waiting) {
			/* Not there yet, or another process's: READY does
			 * not wait for it (daemon/await.c). */
			if (waiting++ == 0)
				waiter = &dbs[i];
			continue;
		}
		synced += dbs[i].synced != 0;
		failing += dbs[i].failing != 0;
		starting += !dbs[i].synced && !dbs[i].failing;
		if (lag > worst_ms) {
			worst_ms = lag;
			worst = &dbs[i];
		}
	}
	if (worst_ms < 0)
		worst_ms = 0;
	if (waiting > 0)
		snprintf(wait, sizeof(wait), ", %zu waiting (%s: %s)", waiting,
		    waiter->path, waiter->waiting == 2 ? "another process "
		    "replicates it" : "no database yet");
	/* A replica that lags towards max-pending (repl.c bound_pending). */
	for (size_t i = 0; i < n; i++)
		if (dbs[i].pending_pct >= 50 &&
		    (pending == NULL || dbs[i].pending_pct > pending->pending_pct))
			pending = &dbs[i];
	if (pending != NULL) {
		size_t len = strlen(wait);

		snprintf(wait + len, sizeof(wait) - len, ", %s: a replica holds "
		    "%d%% of max-pending", pending->path, pending->pending_pct);
	}
	/* Whole seconds, so the line (and a datagram) changes at most once a
	 * second while a database falls behind, and never while all is well. */
	if (synced + waiting < n && !nt.ready_sent) {
		snprintf(line, sizeof(line), "starting: %zu of %zu databases "
		    "synced, worst lag %" PRId64 "s (%s)%s", synced, n,
		    worst_ms / 1000, worst->path, wait);
	} else if (failing > 0 || starting > 0) {
		/* Once READY, never "starting:" again: a database that a
		 * reload added, or that appeared, is counted as starting. */
		char what[64] = "";
		int len = 0;

		if (failing > 0)
			len = snprintf(what, sizeof(what), "%zu failing, ", failing);
		if (starting > 0 && len >= 0 && (size_t)len < sizeof(what))
			snprintf(what + len, sizeof(what) - (size_t)len,
			    "%zu starting, ", starting);
		snprintf(line, sizeof(line), "%zu databases, %sworst lag %" PRId64
		    "s (%s)%s", n, what, worst_ms / 1000, worst->path, wait);
	} else {
		snprintf(line, sizeof(line), "%zu databases, worst lag %" PRId64
		    "s%s", n, worst_ms / 1000, wait);
	}
	if (!nt.ready_sent && synced + waiting == n) {
		/* READY and the first healthy STATUS travel together. */
		char msg[STATUS_MAX + sizeof("READY=1\nSTATUS=")];

		nt.ready_sent = 1;
		snprintf(nt.status, sizeof(nt.status), "%s", line);
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", line);
		send_msg(msg);
		log_info("ready: every database has made its first sync");
		return;
	}
	if (strcmp(line, nt.status) != 0)
		notify_status("%s", line);
}

void
notify_forget_env(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}
