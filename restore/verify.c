/* SPDX-License-Identifier: MIT */
/* Verifying snapshots and WAL indexes without writing (see verify.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "restore/apply.h"
#include "restore/restore.h"
#include "restore/verify.h"

int
verify_snapshot(struct replica *r, struct objread *rd, const char *gen,
    const struct cat_obj *snap,
    volatile sig_atomic_t *stop, uint32_t *page_size, struct verify_stats *st,
    struct lsc_err *err)
{
	struct db_apply a;
	char why[LSC_ERRLEN];
	int rc;

	apply_init(&a, -1, NULL, gen);
	a.stop = stop;
	apply_snapshot_begin(&a, snap->key);
	if ((rc = objread_fetch(rd, r, snap->key,
	    objread_object_cap(snap->size, why, sizeof(why)), why,
	    apply_snapshot_feed, &a, err)) == LSC_OK)
		rc = apply_snapshot_end(&a, err);
	if (rc == LSC_OK) {
		*page_size = a.page_size;
		if (st != NULL)
			st->bytes += a.snap_len;
	}
	apply_release(&a);
	return rc;
}

int
verify_index(struct replica *r, struct objread *rd, const char *gen,
    const struct cat_obj *segs,
    size_t n, uint32_t page_size, volatile sig_atomic_t *stop,
    struct verify_stats *st, const char **culprit, struct lsc_err *err)
{
	struct db_apply a;
	const char *at = n > 0 ? segs[0].key : NULL;
	char why[LSC_ERRLEN];
	int rc = LSC_OK;

	apply_init(&a, -1, NULL, gen);
	a.stop = stop;
	apply_use_page_size(&a, page_size);
	apply_index_begin(&a, n > 0 ? segs[0].index : 0);
	for (size_t i = 0; rc == LSC_OK && i < n; i++) {
		at = segs[i].key;
		if ((rc = apply_segment_begin(&a, segs[i].key, segs[i].offset,
		    err)) == LSC_OK)
			rc = objread_fetch(rd, r, segs[i].key,
			    objread_segment_cap(&segs[i], segs + n, why,
			    sizeof(why)), why, apply_wal_feed, &a, err);
	}
	if (rc == LSC_OK)
		rc = apply_index_end(&a, err);
	if (rc == LSC_OK && (a.dropped_frames > 0 || a.dropped_bytes > 0)) {
		at = a.dropped_key;
		rc = lsc_seterr(err, LSC_ECORRUPT, 0, "WAL index %08" PRIx32
		    " of generation %s ends with %" PRIu64 " frames and %" PRIu64
		    " bytes after its last commit, in '%s': a transaction "
		    "without its commit frame", a.index, gen, a.dropped_frames,
		    a.dropped_bytes, a.dropped_key);
	}
	if (rc == LSC_OK && st != NULL) {
		st->bytes += a.pos;
		st->frames += a.frames;
		st->commits += a.commits;
	} else if (rc != LSC_OK && culprit != NULL) {
		*culprit = at;
	}
	apply_release(&a);
	return rc;
}
