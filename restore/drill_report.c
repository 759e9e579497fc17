/* SPDX-License-Identifier: MIT */
/*
 * The drill's outputs: text (one line per check, sub-lines for pitr
 * targets, queries and chain problems, then a summary line), one JSON
 * object (field names documented in README.md, "Disaster-recovery
 * drills"; every check always has name, status, reason, object and
 * elapsed_s, so a consumer needs no special cases), and Prometheus text
 * for node_exporter's textfile collector.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "restore/drill.h"
#include "restore/json.h"

static const char *const status_names[] = { "pass", "fail", "skip" };

/* ---- text ---- */

/* Bytes for people: 512 B, 4.0 KiB, 1.2 MiB, 3.4 GiB. */
static void
human(uint64_t n, char *out, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		snprintf(out, len, "%" PRIu64 " B", n);
		return;
	}
	for (v /= 1024; v >= 1024 && u + 1 < 4; u++)
		v /= 1024;
	snprintf(out, len, "%.1f %s", v, units[u]);
}

/* "s" unless n is 1. */
static const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* The object's last path element, for pass lines (failures show it all). */
static const char *
base(const char *key)
{
	const char *s = key != NULL ? strrchr(key, '/') : NULL;

	return s != NULL ? s + 1 : key != NULL ? key : "-";
}

/* "fail  reason", with the object first unless the reason names it. */
static void
text_why(const struct drill_check *ck, FILE *fp)
{
	const char *why = ck->reason != NULL ? ck->reason : "";

	if (ck->object != NULL && strstr(why, ck->object) == NULL)
		fprintf(fp, "%s: %s\n", ck->object, why);
	else
		fprintf(fp, "%s\n", why);
}

static void
text_head(const struct drill_check *ck, int sub, FILE *fp)
{
	if (sub)
		fprintf(fp, "  %-6s%s  ", ck->name, status_names[ck->status]);
	else
		fprintf(fp, "%-8s%s  ", ck->name, status_names[ck->status]);
}

static void
text_restore(const struct drill_restore *rs, FILE *fp)
{
	char b[32];

	human(rs->db_bytes, b, sizeof(b));
	fprintf(fp, "generation %s, snapshot %s + %" PRIu64 " WAL segment%s: %"
	    PRIu64 " commit%s, %s", rs->gen, base(rs->snapshot), rs->segments,
	    plural(rs->segments), rs->commits, plural(rs->commits), b);
}

static void
text_chain(const struct drill_chain *c, FILE *fp)
{
	char b[32], r[32];

	text_head(&c->ck, 0, fp);
	if (c->generations == 0 && c->ck.status == DRILL_FAIL) {
		text_why(&c->ck, fp);
		return;
	}
	human(c->bytes, b, sizeof(b));
	human(c->bytes_read, r, sizeof(r));
	fprintf(fp, "%" PRIu64 " generation%s, %" PRIu64 " snapshots, %" PRIu64
	    " WAL segments, %s (%s read by this check, the rest by the "
	    "restores)", c->generations, c->generations == 1 ? "" : "s",
	    c->snapshots, c->segments, b, r);
	if (c->unreachable > 0)
		fprintf(fp, "; %" PRIu64 " segments below the oldest snapshots "
		    "ignored", c->unreachable);
	if (c->no_snapshot > 0)
		fprintf(fp, "; %" PRIu64 " generations without a snapshot",
		    c->no_snapshot);
	if (c->nproblem > 0)
		fprintf(fp, "; %" PRIu64 " problem%s:\n", c->nproblem + c->more,
		    c->nproblem + c->more == 1 ? "" : "s");
	else if (c->ck.status != DRILL_PASS)
		fprintf(fp, "; %s\n", c->ck.reason);
	else
		fputc('\n', fp);
	for (size_t i = 0; i < c->nproblem; i++) {
		struct drill_check p = { .name = "chain", .status = DRILL_FAIL,
		    .reason = c->problems[i].msg, .object = c->problems[i].key };

		text_head(&p, 1, fp);
		text_why(&p, fp);
	}
	if (c->more > 0)
		fprintf(fp, "  chain fail  and %" PRIu64 " more problems\n", c->more);
}

static void
text_latest(const struct drill_latest *l, FILE *fp)
{
	text_head(&l->ck, 0, fp);
	if (l->ck.status == DRILL_FAIL && l->rto_ms < 0) {
		text_why(&l->ck, fp);
		return;
	}
	text_restore(&l->rs, fp);
	fprintf(fp, ", integrity ok; RTO %.2fs, RPO %.1fs", l->rto_ms / 1000.0,
	    l->rpo_ms / 1000.0);
	if (l->ck.status == DRILL_FAIL) {
		fputs("; ", fp);
		text_why(&l->ck, fp);
	} else {
		fputc('\n', fp);
	}
}

static void
text_replay(const struct drill_replay *rp, FILE *fp)
{
	text_head(&rp->ck, 0, fp);
	if (rp->ck.status == DRILL_PASS)
		fprintf(fp, "snapshot %s + %" PRIu64 " WAL segments: %" PRIu64
		    " pages, identical to the latest restore (from %s)\n",
		    base(rp->rs.snapshot), rp->rs.segments, rp->pages,
		    base(rp->against));
	else
		text_why(&rp->ck, fp);
}

static void
text_pitr(const struct drill_pitr *pt, FILE *fp)
{
	char ts[64];

	text_head(&pt->ck, 0, fp);
	if (pt->ck.status == DRILL_PASS)
		fprintf(fp, "%zu point%s in time\n", pt->n, pt->n == 1 ? "" : "s");
	else
		text_why(&pt->ck, fp);
	for (size_t i = 0; i < pt->n; i++) {
		const struct drill_target *tg = &pt->v[i];

		text_head(&tg->ck, 1, fp);
		fmt_rfc3339(tg->ts_ns, 1, ts, sizeof(ts));
		fprintf(fp, "%s: ", ts);
		if (tg->ck.status == DRILL_PASS) {
			text_restore(&tg->rs, fp);
			fputs(", integrity ok\n", fp);
		} else {
			text_why(&tg->ck, fp);
		}
	}
}

static void
text_sql(const struct drill_sql *s, FILE *fp)
{
	text_head(&s->ck, 0, fp);
	if (s->ck.status == DRILL_PASS)
		fprintf(fp, "%zu quer%s\n", s->n, s->n == 1 ? "y" : "ies");
	else
		text_why(&s->ck, fp);
	for (size_t i = 0; i < s->n; i++) {
		const struct drill_query *q = &s->v[i];

		text_head(&q->ck, 1, fp);
		/* Long texts are cut here; --json has them whole. */
		fprintf(fp, "%.100s%s -> %.100s%s", q->sql,
		    strlen(q->sql) > 100 ? "..." : "",
		    q->result ? q->result : "NULL",
		    q->result && strlen(q->result) > 100 ? "..." : "");
		if (q->ck.status == DRILL_PASS) {
			fputc('\n', fp);
		} else {
			fputs(": ", fp);
			text_why(&q->ck, fp);
		}
	}
}

void
drill_print_text(const struct drill_report *rep, FILE *fp)
{
	text_chain(&rep->chain, fp);
	text_latest(&rep->latest, fp);
	text_replay(&rep->replay, fp);
	text_pitr(&rep->pitr, fp);
	text_sql(&rep->sql, fp);
	fprintf(fp, "drill: %s in %.1fs: chain %s, latest %s, replay %s, "
	    "pitr %s, sql %s", status_names[rep->status], rep->ms / 1000.0,
	    status_names[rep->chain.ck.status],
	    status_names[rep->latest.ck.status],
	    status_names[rep->replay.ck.status],
	    status_names[rep->pitr.ck.status], status_names[rep->sql.ck.status]);
	if (rep->latest.rto_ms >= 0)
		fprintf(fp, "; RTO %.2fs, RPO %.1fs", rep->latest.rto_ms / 1000.0,
		    rep->latest.rpo_ms / 1000.0);
	fputc('\n', fp);
}

/* ---- JSON ---- */

static void
json_time(FILE *fp, const char *name, int64_t ns)
{
	char ts[64];

	fmt_rfc3339(ns, 1, ts, sizeof(ts));
	fprintf(fp, ",\"%s\":\"%s\"", name, ts);
}

static void
json_secs(FILE *fp, const char *name, int64_t ms)
{
	if (ms < 0)
		fprintf(fp, ",\"%s\":null", name);
	else
		fprintf(fp, ",\"%s\":%.3f", name, ms / 1000.0);
}

/* Opens the object: the fields every check, target and query has. */
static void
json_check(FILE *fp, const struct drill_check *ck)
{
	fprintf(fp, "{\"name\":\"%s\",\"status\":\"%s\",\"reason\":", ck->name,
	    status_names[ck->status]);
	json_str_or_null(fp, ck->reason);
	fputs(",\"object\":", fp);
	json_str_or_null(fp, ck->object);
	json_secs(fp, "elapsed_s", ck->ms);
}

static void
json_restore(FILE *fp, const struct drill_restore *rs)
{
	fputs(",\"generation\":", fp);
	json_str_or_null(fp, rs->gen[0] ? rs->gen : NULL);
	fputs(",\"snapshot\":", fp);
	json_str_or_null(fp, rs->snapshot);
	fprintf(fp, ",\"segments\":%" PRIu64 ",\"commits\":%" PRIu64
	    ",\"db_bytes\":%" PRIu64, rs->segments, rs->commits, rs->db_bytes);
	if (rs->snapshot != NULL)
		json_time(fp, "state_time", rs->state_ns);
	else
		fputs(",\"state_time\":null", fp);
}

static void
json_chain(FILE *fp, const struct drill_chain *c)
{
	json_check(fp, &c->ck);
	fprintf(fp, ",\"generations\":%" PRIu64 ",\"snapshots\":%" PRIu64
	    ",\"segments\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"bytes_read\":%"
	    PRIu64 ",\"unreachable\":%" PRIu64 ",\"no_snapshot\":%" PRIu64
	    ",\"problems\":[", c->generations, c->snapshots, c->segments,
	    c->bytes, c->bytes_read, c->unreachable, c->no_snapshot);
	for (size_t i = 0; i < c->nproblem; i++) {
		fputs(i ? ",{\"object\":" : "{\"object\":", fp);
		json_str_or_null(fp, c->problems[i].key);
		fputs(",\"reason\":", fp);
		json_str(fp, c->problems[i].msg);
		fputc('}', fp);
	}
	fprintf(fp, "],\"more_problems\":%" PRIu64 "}", c->more);
}

static void
json_latest(FILE *fp, const struct drill_latest *l)
{
	json_check(fp, &l->ck);
	json_restore(fp, &l->rs);
	json_secs(fp, "rto_s", l->rto_ms);
	json_secs(fp, "rpo_s", l->rpo_ms);
	fputc('}', fp);
}

static void
json_replay(FILE *fp, const struct drill_replay *rp)
{
	json_check(fp, &rp->ck);
	json_restore(fp, &rp->rs);
	fputs(",\"against\":", fp);
	json_str_or_null(fp, rp->against);
	fprintf(fp, ",\"pages\":%" PRIu64 ",\"differing_pages\":%" PRIu64
	    ",\"first_differing_page\":", rp->pages, rp->differ);
	if (rp->differ > 0)
		fprintf(fp, "%" PRIu64 "}", rp->first_differ);
	else
		fputs("null}", fp);
}

static void
json_pitr(FILE *fp, const struct drill_pitr *pt)
{
	json_check(fp, &pt->ck);
	if (pt->n > 0) {
		json_time(fp, "window_start", pt->from_ns);
		json_time(fp, "window_end", pt->to_ns);
	} else {
		fputs(",\"window_start\":null,\"window_end\":null", fp);
	}
	fputs(",\"targets\":[", fp);
	for (size_t i = 0; i < pt->n; i++) {
		if (i > 0)
			fputc(',', fp);
		json_check(fp, &pt->v[i].ck);
		json_time(fp, "timestamp", pt->v[i].ts_ns);
		json_restore(fp, &pt->v[i].rs);
		fputc('}', fp);
	}
	fputs("]}", fp);
}

static void
json_sql(FILE *fp, const struct drill_sql *s)
{
	json_check(fp, &s->ck);
	fputs(",\"queries\":[", fp);
	for (size_t i = 0; i < s->n; i++) {
		if (i > 0)
			fputc(',', fp);
		json_check(fp, &s->v[i].ck);
		fputs(",\"sql\":", fp);
		json_str(fp, s->v[i].sql);
		fputs(",\"result\":", fp);
		json_str_or_null(fp, s->v[i].result);
		fputc('}', fp);
	}
	fputs("]}", fp);
}

void
drill_print_json(const struct drill_report *rep, FILE *fp)
{
	fprintf(fp, "{\"status\":\"%s\",\"replica\":", status_names[rep->status]);
	json_str(fp, rep->replica);
	fputs(",\"db\":", fp);
	json_str_or_null(fp, rep->db);
	fputs(",\"generation\":", fp);
	json_str_or_null(fp, rep->latest.rs.gen[0] ? rep->latest.rs.gen : NULL);
	json_time(fp, "started", rep->started_ns);
	json_secs(fp, "elapsed_s", rep->ms);
	json_secs(fp, "rto_s", rep->latest.rto_ms);
	json_secs(fp, "rpo_s", rep->latest.rpo_ms);
	json_secs(fp, "max_lag_s", rep->max_lag_ms);
	fputs(",\"checks\":[\n", fp);
	json_chain(fp, &rep->chain);
	fputs(",\n", fp);
	json_latest(fp, &rep->latest);
	fputs(",\n", fp);
	json_replay(fp, &rep->replay);
	fputs(",\n", fp);
	json_pitr(fp, &rep->pitr);
	fputs(",\n", fp);
	json_sql(fp, &rep->sql);
	fputs("\n]}\n", fp);
}

/* ---- Prometheus text ---- */

/* A label value: backslash, quote and newline escaped (format 0.0.4). */
static void
prom_value(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_appendf(b, NULL, "\\%c", *s);
		else if (*s == '\n')
			buf_appendf(b, NULL, "\\n");
		else
			buf_append(b, s, 1, NULL);
	}
}

static void
prom_labels(struct buf *b, const struct drill_report *rep, const char *check)
{
	buf_appendf(b, NULL, "{");
	if (rep->db != NULL) {
		buf_appendf(b, NULL, "db=\"");
		prom_value(b, rep->db);
		buf_appendf(b, NULL, "\",");
	}
	buf_appendf(b, NULL, "replica=\"");
	prom_value(b, rep->replica);
	buf_appendf(b, NULL, "\"");
	if (check != NULL)
		buf_appendf(b, NULL, ",check=\"%s\"", check);
	buf_appendf(b, NULL, "}");
}

static void
prom_gauge(struct buf *b, const struct drill_report *rep, const char *name,
    const char *help, double v)
{
	buf_appendf(b, NULL, "# HELP litestream_c_drill_%s %s\n"
	    "# TYPE litestream_c_drill_%s gauge\nlitestream_c_drill_%s", name,
	    help, name, name);
	prom_labels(b, rep, NULL);
	/* Seconds to the millisecond, as measured; 0 and 1 as such. */
	if (v == (double)(int64_t)v)
		buf_appendf(b, NULL, " %" PRId64 "\n", (int64_t)v);
	else
		buf_appendf(b, NULL, " %.3f\n", v);
}

int
drill_write_prom(const struct drill_report *rep, const char *path,
    struct lsc_err *err)
{
	const struct drill_check *all[] = { &rep->chain.ck, &rep->latest.ck,
	    &rep->replay.ck, &rep->pitr.ck, &rep->sql.ck };
	struct buf b;
	int rc;

	buf_init(&b, 1 << 20);
	prom_gauge(&b, rep, "success", "1 if the last drill passed, 0 if it "
	    "failed.", rep->status == DRILL_PASS);
	prom_gauge(&b, rep, "timestamp_seconds", "Unix time the last drill "
	    "ended.", (double)(rep->started_ns / 1000000 + rep->ms) / 1000.0);
	prom_gauge(&b, rep, "duration_seconds", "Wall time of the last drill.",
	    rep->ms / 1000.0);
	if (rep->latest.rto_ms >= 0) {
		prom_gauge(&b, rep, "rto_seconds", "Listing plus restore time of "
		    "the latest state in the last drill.",
		    rep->latest.rto_ms / 1000.0);
		prom_gauge(&b, rep, "rpo_seconds", "Age of the newest restorable "
		    "object at the last drill.", rep->latest.rpo_ms / 1000.0);
	}
	buf_appendf(&b, NULL, "# HELP litestream_c_drill_check_success 1 if "
	    "the check passed, 0 if it failed (skipped checks are left out).\n"
	    "# TYPE litestream_c_drill_check_success gauge\n");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i]->status == DRILL_SKIP)
			continue;
		buf_appendf(&b, NULL, "litestream_c_drill_check_success");
		prom_labels(&b, rep, all[i]->name);
		buf_appendf(&b, NULL, " %d\n", all[i]->status == DRILL_PASS);
	}
	rc = fs_write_atomic(path, b.data, b.len, 0644, err);
	buf_release(&b);
	return rc;
}
