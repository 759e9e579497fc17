/* SPDX-License-Identifier: MIT */
/*
 * Retention, per replica: every `retention-check-interval`, list its
 * generations/ tree once, plan (daemon/retention.h has the rules), and
 * delete what the plan says, in its order.  Old generations, snapshots
 * and WAL segments go; the newest snapshot and its whole chain to the
 * current position always stay, as do the current generation's newest
 * snapshot and every segment after it.
 *
 * The grace period (`retention-grace`, default 1h): an object is deleted
 * only once it has been unneeded for at least that long, i.e. once the
 * rules, applied to the replica as it was `grace` ago, would already have
 * deleted it.  A restore that lists the replica picks a chain the rules
 * keep at that moment, so it has `grace` to download the chain before any
 * of it can disappear: a restore never fails half-way because we deleted
 * what it was reading, unless it takes longer than `grace`.  The default
 * of 1h covers a restore of tens of GiB over a slow link and any sane
 * clock skew between this host and the store (object times are the
 * store's, "now" is ours; S3 LastModified also drops the fraction of a
 * second, which makes objects look up to 1 s older); it costs only one
 * superseded chain kept an hour longer.
 *
 * Steady state issues no LIST: this runs only from shipper_step() when
 * next_retention_ms is due, which it then moves one interval ahead.
 */
#include <inttypes.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "daemon/repl.h"
#include "daemon/retention.h"
#include "wal/wal_layout.h"

int64_t
repl_retention_interval_ms(const struct cfg_db *cfg)
{
	/* 0 means "as often as the retention itself" (never 0: no busy loop). */
	if (cfg->retention_check_interval_ms > 0)
		return cfg->retention_check_interval_ms;
	return cfg->retention_ms > 0 ? cfg->retention_ms : 1000;
}

int
shipper_retention(struct shipper *s, struct lsc_err *err)
{
	struct repl *r = s->r;
	struct replica_list l = { 0 };
	struct ret_opts o;
	struct ret_plan p;
	int64_t t0 = mono_ms();
	const char *const *k;
	size_t part[3];
	int rc, snap = 0;

	/* "now" before the listing: every listed object is older than it. */
	o.now_ns = now_ns();
	o.retention_ns = r->cfg.retention_ms * 1000000;
	o.grace_ns = r->cfg.retention_grace_ms * 1000000;
	o.current_gen = layout_gen_valid(s->gen) ? s->gen : NULL;
	if ((rc = replica_list(s->replica, "generations/", &l, err)) != LSC_OK)
		return rc;
	ret_plan_make(&l, &o, &p);
	if (p.snapshot_needed && o.current_gen != NULL) {
		/* It supersedes the old chain, which then waits out the grace. */
		if ((rc = ship_snapshot(s, err)) != LSC_OK)
			goto out;
		snap = 1;
	}
	/* Separate calls keep the order even across S3 batches of 1000. */
	part[0] = p.nsnap_keys;
	part[1] = p.nseg_tail_keys;
	part[2] = p.nkeys - p.nsnap_keys - p.nseg_tail_keys;
	k = p.keys;
	for (int i = 0; i < 3 && rc == LSC_OK; i++) {
		if (part[i] > 0)
			rc = replica_delete(s->replica, k, part[i], err);
		k += part[i];
	}
	if (rc != LSC_OK)
		goto out;
	log_db(LOG_INFO, r->path, "retention\treplica=%s generations_deleted=%zu "
	    "snapshots_deleted=%zu segments_deleted=%zu deferred=%zu "
	    "snapshots_kept=%zu segments_kept=%zu snapshot_taken=%d ms=%" PRId64,
	    s->name, p.gens_deleted, p.snapshots_deleted, p.segments_deleted, p.deferred,
	    p.snapshots_kept, p.segments_kept, snap, mono_ms() - t0);
out:
	ret_plan_release(&p);
	replica_list_free(&l);
	return rc;
}
