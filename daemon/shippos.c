/* SPDX-License-Identifier: MIT */
/*
 * The local record of what a replica holds (see shippos.h) and the
 * position learnt from it; the daemon's only reader of object contents
 * is the fallback here.  Each replica (struct shipper) has its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/lz4frame.h"
#include "common/xmalloc.h"
#include "daemon/repl.h"

#define RECORD_MAGIC	"litestream-c shipped 1"
#define RECORD_MAX	1024

/* The config's encryption, as the record names it. */
static void
config_enc(const struct shipper *s, char out[AGE_FINGERPRINT_LEN + 1])
{
	const struct cfg_db *cfg = &s->r->cfg;

	if (cfg->nage_recipients == 0)
		snprintf(out, AGE_FINGERPRINT_LEN + 1, "none");
	else
		age_fingerprint((const unsigned char (*)[AGE_KEY_LEN])
		    cfg->age_recipients, cfg->nage_recipients, out);
}

static char *
record_path(const struct shipper *s)
{
	return xasprintf("%s/%s", s->r->meta_dir, s->record);
}

/* Parse the record; 0 ok, -1 not a whole valid one. */
static int
parse(const char *text, struct ship_state *s)
{
	char gen[32], enc[64], idx[16];
	uint64_t off, stored, end;
	const char *p = text;
	int n = 0;

	if (strncmp(p, RECORD_MAGIC "\n", sizeof(RECORD_MAGIC)) != 0)
		return -1;
	p += sizeof(RECORD_MAGIC);
	if (sscanf(p, "generation %17s\nencryption %40s\n%n", gen, enc, &n) != 2 ||
	    n == 0 || !layout_gen_valid(gen) ||
	    (strcmp(enc, "none") != 0 && (strlen(enc) != AGE_FINGERPRINT_LEN ||
	    strncmp(enc, "age:", 4) != 0)))
		return -1;
	p += n;
	memset(&s->last, 0, sizeof(s->last));
	if (*p != '\0') {
		n = 0;
		if (sscanf(p, "segment %8s %" SCNu64 " %" SCNu64 " %" SCNu64 "\n%n",
		    idx, &off, &stored, &end, &n) != 4 || n == 0 || p[n] != '\0' ||
		    strlen(idx) != 8 || strspn(idx, "0123456789abcdef") != 8 ||
		    end <= off)
			return -1;
		memcpy(s->last.gen, gen, GEN_ID_LEN + 1);
		s->last.index = (uint32_t)strtoul(idx, NULL, 16);
		s->last.offset = off;
		s->last.stored = stored;
		s->last.end = end;
	}
	/* Both checked above: 16 hex digits; "none" or the fingerprint. */
	memcpy(s->gen, gen, GEN_ID_LEN + 1);
	memcpy(s->enc, enc, strlen(enc) + 1);
	return 0;
}

/* Read the record once per run; a missing or unreadable one is none. */
static void
load(struct shipper *sh)
{
	struct ship_state *s = &sh->ship;
	char *path, *text = NULL;
	size_t len;

	if (s->loaded)
		return;
	s->loaded = 1;
	path = record_path(sh);
	if (fs_read_small(path, RECORD_MAX, &text, &len, NULL) == LSC_OK &&
	    parse(text, s) != 0) {
		log_db(LOG_WARN, sh->r->path, "ignoring an unreadable "
		    "shipped-segment record\treplica=%s path=%s", sh->name, path);
		s->gen[0] = '\0';
		memset(&s->last, 0, sizeof(s->last));
	}
	free(text);
	free(path);
}

/*
 * Write the record: temp file with the database's mode, then rename.  Not
 * fsynced (shippos.h says why).  A failure is logged, never fatal: the
 * fallback covers a missing record.
 */
static void
save(struct shipper *sh)
{
	struct ship_state *s = &sh->ship;
	mode_t mode = sh->r->file_mode;
	char *path = record_path(sh), *tmp = xasprintf("%s.tmp", path);
	char text[RECORD_MAX];
	int n, fd;

	n = snprintf(text, sizeof(text), RECORD_MAGIC "\ngeneration %s\n"
	    "encryption %s\n", s->gen, s->enc);
	if (s->last.gen[0] != '\0')
		n += snprintf(text + n, sizeof(text) - (size_t)n, "segment %08" PRIx32
		    " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", s->last.index,
		    s->last.offset, s->last.stored, s->last.end);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) != 0 ||
	    write_full(fd, text, (size_t)n) != 0 || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlink(tmp);
		log_db(LOG_WARN, sh->r->path, "cannot write the shipped-segment "
		    "record (a restart may need a new generation)\treplica=%s "
		    "path=%s error=\"%s\"", sh->name, path, strerror(e));
	}
	free(tmp);
	free(path);
}

void
shippos_object(struct shipper *sh)
{
	struct ship_state *s = &sh->ship;
	char enc[AGE_FINGERPRINT_LEN + 1];

	load(sh);
	config_enc(sh, enc);
	if (strcmp(s->gen, sh->gen) == 0 && strcmp(s->enc, enc) == 0)
		return;
	snprintf(s->gen, sizeof(s->gen), "%s", sh->gen);
	snprintf(s->enc, sizeof(s->enc), "%s", enc);
	memset(&s->last, 0, sizeof(s->last));
	save(sh);
}

static void
set_seg(struct ship_seg *g, const char *gen, uint32_t index, uint64_t offset,
    uint64_t stored, uint64_t end)
{
	snprintf(g->gen, sizeof(g->gen), "%s", gen);
	g->index = index;
	g->offset = offset;
	g->stored = stored;
	g->end = end;
}

void
shippos_tried(struct shipper *sh, uint32_t index, uint64_t offset,
    uint64_t stored, uint64_t end)
{
	set_seg(&sh->ship.tried, sh->gen, index, offset, stored, end);
}

void
shippos_shipped(struct shipper *sh, uint32_t index, uint64_t offset,
    uint64_t stored, uint64_t end)
{
	shippos_object(sh);
	set_seg(&sh->ship.last, sh->gen, index, offset, stored, end);
	memset(&sh->ship.tried, 0, sizeof(sh->ship.tried));
	save(sh);
}

int
shippos_check_gen(struct shipper *sh, int shipped, struct lsc_err *err)
{
	struct ship_state *s = &sh->ship;
	char enc[AGE_FINGERPRINT_LEN + 1];

	load(sh);
	config_enc(sh, enc);
	if (strcmp(s->gen, sh->gen) == 0) {
		if (strcmp(s->enc, enc) == 0)
			return LSC_OK;
		return lsc_seterr(err, LSC_ECORRUPT, 0, "%s", strcmp(s->enc,
		    "none") == 0 ? "encryption was turned on (age-recipient)" :
		    strcmp(enc, "none") == 0 ? "encryption was turned off "
		    "(no age-recipient)" : "the age recipients changed");
	}
	/* Nothing of it in the replica: nothing to be consistent with. */
	if (!shipped)
		return LSC_OK;
	/* Shipped before this record existed, so by an older version: plain,
	 * which the fallback in shippos_segment_end checks. */
	if (strcmp(enc, "none") == 0)
		return LSC_OK;
	return lsc_seterr(err, LSC_ECORRUPT, 0, "no local record that "
	    "generation %s is encrypted for these age recipients", sh->gen);
}

static int
seg_matches(const struct ship_seg *g, const char *gen, uint32_t index,
    uint64_t offset, uint64_t stored)
{
	return g->gen[0] != '\0' && strcmp(g->gen, gen) == 0 &&
	    g->index == index && g->offset == offset && g->stored == stored;
}

/* The fallback: read the segment to learn its decompressed length. */
struct reader {
	int		 age;		/* -1 unknown, 0 plain, 1 encrypted */
	struct ager	*ar;
	struct lz4r	*lz;
	struct age_identities ids;
	const struct shipper *s;
	uint64_t	 n;
};

static int
count_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	(void)data;
	(void)err;
	((struct reader *)ctx)->n += len;
	return LSC_OK;
}

static int
lz4_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	return lz4r_feed(((struct reader *)ctx)->lz, data, len, err);
}

static int
read_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct reader *rd = ctx;
	const struct cfg_db *cfg = &rd->s->r->cfg;
	const char *idf = cfg->age_identity_file;

	if (rd->age < 0 && len > 0) {
		rd->age = age_looks_encrypted(data, len);
		/* Mixed with what the config writes: not this generation. */
		if (rd->age != (cfg->nage_recipients > 0))
			return lsc_seterr(err, LSC_ECORRUPT, 0, "the replica's "
			    "last segment is %s, but the config %s",
			    rd->age ? "encrypted" : "plain", rd->age ?
			    "sets no age-recipient" : "encrypts (age-recipient)");
		if (rd->age) {
			struct lsc_err e = { 0 };

			/* Only this way does replicate touch a private key. */
			if (idf == NULL || age_identity_file_load(idf, &rd->ids,
			    &e) != LSC_OK)
				return lsc_seterr(err, LSC_ECORRUPT, 0, "no local "
				    "record matches the replica's last segment, "
				    "which is encrypted and %s", idf == NULL ?
				    "no age-identity-file is set to read it" :
				    e.msg);
			rd->ar = ager_new(&rd->ids, lz4_sink, rd, err);
			if (rd->ar == NULL)
				return err != NULL ? err->code : LSC_EIO;
		}
	}
	return rd->age ? ager_feed(rd->ar, data, len, err) :
	    lz4r_feed(rd->lz, data, len, err);
}

int
shippos_not_ours(struct shipper *s, const char *key, const char *why,
    struct lsc_err *err)
{
	log_db(LOG_WARN, s->r->path, "the replica's last segment of this "
	    "generation is not ours\treplica=%s key=%s reason=\"%s\"", s->name,
	    key, why);
	return lsc_seterr(err, LSC_ECORRUPT, 0, "replica segment '%s' is not "
	    "ours: %s", key, why);
}

static int
read_end(struct shipper *s, const char *key, uint64_t cap, uint64_t *n,
    struct lsc_err *err)
{
	struct reader rd = { .age = -1, .s = s };
	int rc;

	if ((rd.lz = lz4r_new(count_sink, &rd, cap, err)) == NULL)
		return err != NULL ? err->code : LSC_EIO;
	rc = replica_get(s->replica, key, read_sink, &rd, err);
	if (rc == LSC_OK && rd.age == 1)
		rc = ager_finish(rd.ar, err);
	if (rc == LSC_OK)
		rc = lz4r_finish(rd.lz, err);
	if (rc == LSC_OK)
		*n = rd.n;
	else if (lz4r_over_cap(rd.lz)) {
		/* We shipped it from our shadow WAL: it cannot hold more.  A
		 * bomb, or a segment someone else wrote; read no further. */
		char why[128];

		snprintf(why, sizeof(why), "it inflates past the %" PRIu64
		    " bytes our shadow WAL holds from its offset on", cap);
		lsc_err_clear(err);
		rc = shippos_not_ours(s, key, why, err);
	}
	ager_free(rd.ar);
	lz4r_free(rd.lz);
	age_identities_release(&rd.ids);
	return rc;
}

int
shippos_segment_end(struct shipper *sh, const char *key, uint32_t index,
    uint64_t offset, uint64_t stored, uint64_t cap, uint64_t *end,
    struct lsc_err *err)
{
	struct ship_state *s = &sh->ship;
	uint64_t n = 0;
	int rc;

	load(sh);
	if (seg_matches(&s->tried, sh->gen, index, offset, stored)) {
		/* The commit that "failed" took effect after all. */
		*end = s->tried.end;
		shippos_shipped(sh, index, offset, stored, s->tried.end);
		return LSC_OK;
	}
	if (seg_matches(&s->last, sh->gen, index, offset, stored)) {
		*end = s->last.end;
		return LSC_OK;
	}
	log_db(LOG_INFO, sh->r->path, "no local record of the replica's last "
	    "segment: reading it\treplica=%s key=%s", sh->name, key);
	if ((rc = read_end(sh, key, cap, &n, err)) != LSC_OK)
		return rc;
	*end = offset + n;
	shippos_shipped(sh, index, offset, stored, *end);
	return LSC_OK;
}
