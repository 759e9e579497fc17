/* SPDX-License-Identifier: MIT */
/*
 * Process-wide counts of S3 requests by operation and HTTP status, for
 * the daemon's metrics.  There is one table for the whole process, not
 * one per client: the replica layer hides its clients, and a scrape wants
 * the totals anyway.  It is the one piece of global state in s3/ (which
 * otherwise has none): s3/ only adds to it and never reads it back.
 *
 * The table is fixed, so counting never allocates: one row per operation
 * (the names s3_call uses, plus "Other") and STATUS_SLOTS status slots per
 * row, each claimed by the first request that returns that status.  A
 * row with no free slot left counts the rest under S3_STATS_CODE_OTHER.
 * One mutex guards it all: a request takes milliseconds, so an
 * uncontended lock per request costs nothing measurable, and readers get
 * a consistent copy without the subtleties of lock-free slot claiming.
 */
#include <pthread.h>
#include <string.h>

#include "s3/s3_int.h"

/* Index = row; the last row takes any name not in the list. */
static const char *const op_names[] = {
	"PutObject", "GetObject", "HeadObject", "ListObjectsV2",
	"DeleteObjects", "CreateMultipartUpload", "UploadPart",
	"CompleteMultipartUpload", "AbortMultipartUpload", "Other",
};
#define NOPS		(sizeof(op_names) / sizeof(op_names[0]))
/* Statuses seen per operation in practice: 200, 204, 206, 304, 400, 403,
 * 404, 409, 500, 503, "no reply"; the last slot is kept for overflow. */
#define STATUS_SLOTS	15

struct slot {
	int		 code;		/* 0 is a real value here (no reply) */
	int		 used;
	uint64_t	 n;
};

_Static_assert(NOPS * STATUS_SLOTS <= S3_STATS_MAX,
    "S3_STATS_MAX in s3.h must hold the whole table");

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot table[NOPS][STATUS_SLOTS];

static size_t
op_row(const char *op)
{
	for (size_t i = 0; i < NOPS - 1; i++)
		if (strcmp(op, op_names[i]) == 0)
			return i;
	return NOPS - 1;
}

void
s3_stats_count(const char *op, long status)
{
	struct slot *row = table[op_row(op)];
	int code = status < 0 || status > 999 ? S3_STATS_CODE_OTHER : (int)status;
	size_t i;

	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < STATUS_SLOTS - 1; i++) {
		if (!row[i].used) {
			row[i].used = 1;
			row[i].code = code;
		}
		if (row[i].code == code)
			break;
	}
	if (i == STATUS_SLOTS - 1) {
		/* Every slot holds another status: the overflow bucket. */
		row[i].used = 1;
		row[i].code = S3_STATS_CODE_OTHER;
	}
	row[i].n++;
	pthread_mutex_unlock(&stats_lock);
}

size_t
s3_stats_read(struct s3_stat *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&stats_lock);
	for (size_t op = 0; op < NOPS; op++) {
		for (size_t i = 0; i < STATUS_SLOTS && n < max; i++) {
			if (!table[op][i].used)
				break;
			out[n].op = op_names[op];
			out[n].code = table[op][i].code;
			out[n].n = table[op][i].n;
			n++;
		}
	}
	pthread_mutex_unlock(&stats_lock);
	return n;
}
