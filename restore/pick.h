/* SPDX-License-Identifier: MIT */
/*
 * Choosing the replica to restore from, when a database has several:
 * each is listed and planned with the same bounds, and the plan with the
 * newest data wins.  Within one generation that is the plan that reaches
 * further (WAL index, then offset): object times from two stores are not
 * comparable to the second (S3 keeps whole seconds, a file replica
 * nanoseconds), positions are.  Across generations, the newest object the
 * plan uses, then the greater generation id (ids are time-ordered).
 * Ties keep the config's order.
 *
 * A replica that cannot be listed is skipped with a warning when another
 * one has a plan; when none has, its error is the answer, not "no
 * backup": --if-replica-exists must never start an empty database while
 * a store that is down may hold one.
 */
#ifndef LSC_PICK_H
#define LSC_PICK_H

#include <signal.h>

#include "replica/replica.h"
#include "restore/catalog.h"
#include "restore/plan.h"
#include "restore/target.h"

struct pick {
	size_t		 index;		/* into t->reps */
	int		 planned;	/* on failure: listing worked, the
					 * planner refused (LSC_ENOTFOUND or
					 * LSC_ECORRUPT from plan_make) */
	struct replica	*replica;	/* open; owned */
	struct catalog	 cat;		/* its listing; owned */
	struct restore_plan plan;	/* borrows cat */
};

/*
 * Plan `o` on every replica of `t` and keep the best; with one replica,
 * that one.  Says which in a log line when there were several.  Replicas
 * get `stop`.  On success `out` owns its parts (pick_release); errors are
 * plan_make's (LSC_ENOTFOUND: no replica has a matching backup; then
 * out->planned is 1) or the first listing failure.
 */
int	pick_replica(const struct target *t, const struct plan_opts *o,
	    volatile sig_atomic_t *stop, struct pick *out, struct lsc_err *err);
void	pick_release(struct pick *p);

#endif
