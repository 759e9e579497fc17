/* SPDX-License-Identifier: MIT */
/*
 * Prometheus metrics over HTTP: `metrics = host:port` in [daemon] serves
 * GET /metrics in the text exposition format 0.0.4 (every other path is a
 * 404).  libmicrohttpd runs the server in a thread of its own, so a slow
 * scraper never delays capture; that thread reads each database's
 * struct repl_stats (atomics and a locked copy, see repl.h) and the S3
 * request table (s3_stats_read), and nothing else.
 *
 * Every struct repl registers itself here between repl_init and
 * repl_release (whether or not a server runs), so databases added or
 * removed at run time appear and vanish without the daemon's help.  The
 * metric names are listed in litestream-c.ini.
 */
#ifndef LSC_METRICS_H
#define LSC_METRICS_H

#include "common/buf.h"
#include "common/err.h"

struct repl;

/*
 * Listen on `addr` ("127.0.0.1:9090", "[::1]:9090", "localhost:9090") and
 * serve from libmicrohttpd's own thread, which blocks every signal.  Binds
 * only to the address given.  Fails with LSC_ECONFIG for an address that
 * cannot be parsed or resolved and LSC_EIO when it cannot be bound (in
 * use, not ours), the message naming the address.  At most one server.
 */
int	metrics_start(const char *addr, struct lsc_err *err);
/* Stop the server and close its socket; waits for a scrape in progress.
 * A no-op when none runs. */
void	metrics_stop(void);

/* Include / exclude `r` in scrapes (repl.c).  r must stay at the same
 * address in between; metrics_remove waits for a scrape in progress. */
void	metrics_add(struct repl *r);
void	metrics_remove(struct repl *r);

/* Append the whole exposition text to `out` (what GET /metrics returns).
 * Fails only when `out` reaches its cap. */
int	metrics_render(struct buf *out, struct lsc_err *err);

#endif
