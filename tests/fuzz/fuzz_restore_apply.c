/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the restore apply engine (restore/apply.c) with a synthetic
 * snapshot and WAL segments, against a model.
 *
 * The input describes a restore; the harness builds the snapshot and
 * each WAL index's byte stream from it, splits the streams into segments
 * and feeds them, in chunks of varying size, to the engine (the database
 * file is a memfd).  The same bytes go through a model: a second, plain
 * implementation of the contract in apply.h (header and page-size
 * checks, salts, the cumulative checksum chain, pages written at commit,
 * frames after the last commit dropped, the file cut to the last
 * commit's size).  Properties: the engine succeeds exactly when the model
 * does; then the file equals the model's image, page for page, with
 * zeros everywhere else; a failure is one line.
 *
 * Input: byte 0 = flags: bit 0 big-endian checksums, bits 1-2 the page
 * size (512 << n%3), bit 3 raw mode, bit 4 a broken snapshot header,
 * bits 5-7 snapshot pages - 1.  Byte 1 seeds the salts.  Then:
 *  - structured mode: ops, one per byte plus arguments: frames (page
 *    number, commit flag, fill byte), bit flips in the next frame, a
 *    segment boundary, a new index (a new header), a torn tail, a
 *    different page size in the next header;
 *  - raw mode: the WAL bytes themselves; "\xfe\xfe" starts a new index
 *    and "\xfe\xfd" a new segment.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "restore/apply.h"
#include "wal/wal_format.h"

#define MAX_INDEXES	8
#define MAX_SEGS	8
#define MAX_STREAM	(1 << 20)

/* ---- building the input ---- */

struct bytes {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};

struct index_in {
	struct bytes	 s;			/* the index's WAL stream */
	size_t		 cut[MAX_SEGS];		/* segment starts after 0 */
	size_t		 ncut;
};

struct restore_in {
	struct bytes	 snap;
	struct index_in	 idx[MAX_INDEXES];
	size_t		 nidx;
	size_t		 chunk;
};

static void
put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > MAX_STREAM)
		return;
	/* Doubling: a realloc per frame made each run quadratic. */
	if (b->len + n + 1 > b->cap) {
		b->cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > b->cap)
			b->cap *= 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

struct cursor {
	const uint8_t	*p;
	size_t		 n;
};

static uint8_t
next(struct cursor *c)
{
	if (c->n == 0)
		return 0;
	c->n--;
	return *c->p++;
}

static void
make_snapshot(struct restore_in *in, uint32_t ps, unsigned pages, int broken)
{
	uint8_t *page = malloc(ps);

	for (unsigned i = 1; i <= pages; i++) {
		memset(page, (int)(0x10 + i), ps);
		if (i == 1) {
			memcpy(page, "SQLite format 3", 16);
			page[16] = (uint8_t)(ps == 65536 ? 0 : ps >> 8);
			page[17] = (uint8_t)(ps == 65536 ? 1 : ps & 0xff);
			if (broken)
				page[16] ^= 0x40;
		}
		put(&in->snap, page, ps);
	}
	free(page);
}

/* A generator of one index's WAL: header, frames with a running chain. */
struct gen {
	struct wal_hdr	 h;
	uint32_t	 s[2];
	int		 flip;		/* flip a bit of the next frame */
	uint32_t	 flip_at;
};

static void
gen_header(struct gen *g, struct index_in *x, int be, uint32_t ps,
    uint32_t salt)
{
	uint8_t hb[WAL_HDR_LEN];

	memset(&g->h, 0, sizeof(g->h));
	g->h.big_endian = be;
	g->h.page_size = ps;
	g->h.salt1 = salt;
	g->h.salt2 = salt * 2654435761u;
	wal_hdr_encode(&g->h, hb);
	g->s[0] = wal_get32(hb + 24);
	g->s[1] = wal_get32(hb + 28);
	put(&x->s, hb, sizeof(hb));
}

static void
gen_frame(struct gen *g, struct index_in *x, uint32_t pgno, uint32_t commit,
    uint8_t fill)
{
	size_t flen = wal_frame_len(g->h.page_size);
	uint8_t *f = malloc(flen), *page = malloc(g->h.page_size);

	memset(page, fill, g->h.page_size);
	wal_put32(page, pgno);
	wal_frame_encode(&g->h, pgno, commit, page, g->s, f);
	if (g->flip) {
		f[g->flip_at % flen] ^= (uint8_t)(1u << (g->flip_at / flen % 8));
		g->flip = 0;
	}
	put(&x->s, f, flen);
	free(f);
	free(page);
}

static void
build_structured(struct restore_in *in, struct cursor *c, int be, uint32_t ps)
{
	struct gen g;
	struct index_in *x = &in->idx[0];
	uint32_t salt = next(c), next_ps = ps;

	memset(&g, 0, sizeof(g));
	in->nidx = 1;
	gen_header(&g, x, be, ps, salt);
	while (c->n > 0) {
		uint8_t op = next(c);

		switch (op % 8) {
		case 0: case 1: case 2: {
			uint32_t pgno = 1 + next(c) % 12;
			uint8_t cm = next(c);

			gen_frame(&g, x, pgno, (cm & 1) ? pgno + cm / 32 : 0, next(c));
			break;
		}
		case 3:
			g.flip = 1;
			g.flip_at = (uint32_t)next(c) << 8 | next(c);
			break;
		case 4:
			if (x->ncut < MAX_SEGS) {
				size_t back = next(c) % 40;

				x->cut[x->ncut++] = x->s.len > back ?
				    x->s.len - back : 0;
			}
			break;
		case 5:
			if (in->nidx == MAX_INDEXES)
				break;
			x = &in->idx[in->nidx++];
			salt += 1 + next(c);
			gen_header(&g, x, be, next_ps, salt);
			next_ps = ps;
			break;
		case 6: {
			/* A torn frame: only part of it arrives. */
			struct bytes tmp = { NULL, 0, 0 };
			struct index_in t = { { NULL, 0, 0 }, { 0 }, 0 };
			size_t keep;

			gen_frame(&g, &t, 1 + next(c) % 12, 0, next(c));
			tmp = t.s;
			keep = tmp.len > 0 ? next(c) % tmp.len : 0;
			put(&x->s, tmp.p, keep);
			free(tmp.p);
			break;
		}
		case 7:
			if (next(c) & 1)
				next_ps = ps == 512 ? 1024 : 512;
			in->chunk = 1 + (size_t)next(c) * 13;
			break;
		}
	}
}

static void
build_raw(struct restore_in *in, struct cursor *c)
{
	struct index_in *x = &in->idx[0];

	in->nidx = 1;
	while (c->n > 0) {
		uint8_t b = next(c);

		if (b == 0xfe && c->n > 0 && (c->p[0] == 0xfe || c->p[0] == 0xfd)) {
			if (next(c) == 0xfe) {
				if (in->nidx < MAX_INDEXES)
					x = &in->idx[in->nidx++];
			} else if (x->ncut < MAX_SEGS) {
				x->cut[x->ncut++] = x->s.len;
			}
			continue;
		}
		put(&x->s, &b, 1);
	}
}

/* ---- the model: a sparse image of whole pages ---- */

struct model {
	uint32_t	 ps;
	uint64_t	 len;		/* file size */
	uint32_t	*pgno;		/* sorted */
	uint8_t		**page;
	size_t		 n;
};

static void
m_write(struct model *m, uint32_t pgno, const uint8_t *data)
{
	size_t i = 0;

	while (i < m->n && m->pgno[i] < pgno)
		i++;
	if (i < m->n && m->pgno[i] == pgno) {
		memcpy(m->page[i], data, m->ps);
	} else {
		m->pgno = realloc(m->pgno, (m->n + 1) * sizeof(*m->pgno));
		m->page = realloc(m->page, (m->n + 1) * sizeof(*m->page));
		memmove(m->pgno + i + 1, m->pgno + i, (m->n - i) * sizeof(*m->pgno));
		memmove(m->page + i + 1, m->page + i, (m->n - i) * sizeof(*m->page));
		m->pgno[i] = pgno;
		m->page[i] = malloc(m->ps);
		memcpy(m->page[i], data, m->ps);
		m->n++;
	}
	if ((uint64_t)pgno * m->ps > m->len)
		m->len = (uint64_t)pgno * m->ps;
}

static void
m_truncate(struct model *m, uint64_t len)
{
	while (m->n > 0 && (uint64_t)m->pgno[m->n - 1] * m->ps > len)
		free(m->page[--m->n]);
	m->len = len;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	    (uint32_t)p[3];
}

static void
m_cksum(int be, const uint8_t *d, size_t n, uint32_t *a, uint32_t *b)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		*a += (be ? be32(d + i) : le32(d + i)) + *b;
		*b += (be ? be32(d + i + 4) : le32(d + i + 4)) + *a;
	}
}

/* Apply one index's stream to the model; 0 ok, -1 the engine must fail. */
static int
m_index(struct model *m, const struct bytes *s)
{
	uint32_t magic, ps, a = 0, b = 0, commit_pages = 0;
	size_t flen, pend_from;
	int be, committed = 0;

	if (s->len == 0)
		return 0;
	if (s->len < WAL_HDR_LEN)
		return -1;
	magic = be32(s->p);
	if (magic != 0x377f0682u && magic != 0x377f0683u)
		return -1;
	be = magic & 1;
	ps = be32(s->p + 8);
	if (ps == 1)
		ps = 65536;
	if (be32(s->p + 4) != 3007000u || ps < 512 || ps > 65536 ||
	    (ps & (ps - 1)) != 0)
		return -1;
	m_cksum(be, s->p, 24, &a, &b);
	if (a != be32(s->p + 24) || b != be32(s->p + 28) || ps != m->ps)
		return -1;
	flen = 24 + (size_t)ps;
	pend_from = WAL_HDR_LEN;
	for (size_t off = WAL_HDR_LEN; off + flen <= s->len; off += flen) {
		const uint8_t *f = s->p + off;

		if (be32(f + 8) != be32(s->p + 16) ||
		    be32(f + 12) != be32(s->p + 20) || be32(f) == 0)
			return -1;
		m_cksum(be, f, 8, &a, &b);
		m_cksum(be, f + 24, ps, &a, &b);
		if (a != be32(f + 16) || b != be32(f + 20))
			return -1;
		if (be32(f + 4) != 0) {
			for (size_t p = pend_from; p <= off; p += flen)
				m_write(m, be32(s->p + p), s->p + p + 24);
			pend_from = off + flen;
			commit_pages = be32(f + 4);
			committed = 1;
		}
	}
	if (committed)
		m_truncate(m, (uint64_t)commit_pages * ps);
	return 0;
}

static int
m_run(struct model *m, const struct restore_in *in)
{
	const uint8_t *h = in->snap.p;
	uint32_t ps;

	if (in->snap.len < 100 || memcmp(h, "SQLite format 3", 16) != 0)
		return -1;
	ps = (uint32_t)h[16] << 8 | h[17];
	if (ps == 1)
		ps = 65536;
	if (ps < 512 || ps > 65536 || (ps & (ps - 1)) != 0 ||
	    in->snap.len % ps != 0)
		return -1;
	m->ps = ps;
	for (uint32_t i = 0; i < in->snap.len / ps; i++)
		m_write(m, i + 1, h + (size_t)i * ps);
	for (size_t i = 0; i < in->nidx; i++)
		if (m_index(m, &in->idx[i].s) != 0)
			return -1;
	return 0;
}

/* ---- the engine ---- */

static void
one_line(const struct lsc_err *e)
{
	if (e->code == LSC_OK || e->msg[0] == '\0')
		abort();
	for (const char *p = e->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static int
feed(struct db_apply *a, int (*fn)(void *, const void *, size_t,
    struct lsc_err *), const uint8_t *p, size_t n, size_t chunk,
    struct lsc_err *e)
{
	int rc = LSC_OK;

	for (size_t off = 0; rc == LSC_OK && off < n; off += chunk)
		rc = fn(a, p + off, n - off < chunk ? n - off : chunk, e);
	return rc;
}

static int
e_run(struct db_apply *a, const struct restore_in *in, struct lsc_err *e)
{
	static const char *const keys[] = { "seg0", "seg1", "seg2", "seg3",
	    "seg4", "seg5", "seg6", "seg7", "seg8" };
	int rc;

	apply_snapshot_begin(a, "snapshot");
	if ((rc = feed(a, apply_snapshot_feed, in->snap.p, in->snap.len,
	    in->chunk, e)) != LSC_OK || (rc = apply_snapshot_end(a, e)) != LSC_OK)
		return rc;
	for (size_t i = 0; i < in->nidx; i++) {
		const struct index_in *x = &in->idx[i];
		size_t from = 0;

		apply_index_begin(a, (uint32_t)i);
		for (size_t k = 0; k <= x->ncut; k++) {
			size_t to = k < x->ncut ? x->cut[k] : x->s.len;

			if (to < from)
				to = from;	/* cuts may go back: keep order */
			/* An empty index has no bytes at all (s.p is NULL). */
			if ((rc = apply_segment_begin(a, keys[k], from, e)) !=
			    LSC_OK || (to > from && (rc = feed(a, apply_wal_feed,
			    x->s.p + from, to - from, in->chunk, e)) != LSC_OK))
				return rc;
			from = to;
		}
		if ((rc = apply_index_end(a, e)) != LSC_OK)
			return rc;
	}
	return LSC_OK;
}

/* The file must be the model's image: its pages, zeros elsewhere. */
static void
compare(int fd, const struct model *m)
{
	struct stat st;
	uint8_t *buf = malloc(m->ps), *zero = calloc(1, m->ps);
	off_t pos = 0;
	size_t j = 0;

	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != m->len)
		abort();
	for (size_t i = 0; i < m->n; i++) {
		if (pread(fd, buf, m->ps, (off_t)(m->pgno[i] - 1) * m->ps) !=
		    (ssize_t)m->ps || memcmp(buf, m->page[i], m->ps) != 0)
			abort();
	}
	/* Every other page that holds data holds zeros. */
	while ((pos = lseek(fd, pos, SEEK_DATA)) >= 0 && pos < st.st_size) {
		uint32_t pgno = (uint32_t)(pos / m->ps) + 1;

		while (j < m->n && m->pgno[j] < pgno)
			j++;
		if ((j == m->n || m->pgno[j] != pgno) &&
		    (pread(fd, buf, m->ps, (off_t)(pgno - 1) * m->ps) !=
		    (ssize_t)m->ps || memcmp(buf, zero, m->ps) != 0))
			abort();
		pos = (off_t)pgno * m->ps;
	}
	free(buf);
	free(zero);
}

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);	/* "ignoring WAL after the last commit" */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct restore_in in;
	struct model m;
	struct cursor c = { data, size };
	struct lsc_err e = { 0 };
	struct db_apply a;
	uint8_t flags;
	uint32_t ps;
	int fd, rc, want;

	if (size < 2 || size > (64 << 10))
		return 0;
	memset(&in, 0, sizeof(in));
	memset(&m, 0, sizeof(m));
	flags = next(&c);
	ps = 512u << ((flags >> 1 & 3) % 3);
	in.chunk = 4096;
	make_snapshot(&in, ps, 1 + (flags >> 5), flags & 16);
	if (flags & 8)
		build_raw(&in, &c);
	else
		build_structured(&in, &c, flags & 1, ps);

	want = m_run(&m, &in);
	if ((fd = memfd_create("fuzz-apply", MFD_CLOEXEC)) < 0)
		abort();
	apply_init(&a, fd, "/tmp", "0123456789abcdef");
	rc = e_run(&a, &in, &e);
	if ((rc == LSC_OK) != (want == 0)) {
		fprintf(stderr, "engine %s, model %s: %s\n",
		    rc == LSC_OK ? "ok" : "failed", want == 0 ? "ok" : "fails",
		    e.msg);
		abort();
	}
	if (rc == LSC_OK)
		compare(fd, &m);
	else
		one_line(&e);
	apply_release(&a);
	close(fd);
	for (size_t i = 0; i < m.n; i++)
		free(m.page[i]);
	free(m.pgno);
	free(m.page);
	free(in.snap.p);
	for (size_t i = 0; i < in.nidx; i++)
		free(in.idx[i].s.p);
	return 0;
}
