/* SPDX-License-Identifier: MIT */
/*
 * The process-wide S3 request table (s3/s3_stats.c): counts by operation
 * and status, unknown operations under "Other", the overflow slot, and no
 * lost counts when four threads count at once.
 */
#include <pthread.h>
#include <stdlib.h>

#include "s3/s3_int.h"
#include "tests/unit/t.h"

/* The count for (op, code) in a fresh read; 0 if absent. */
static uint64_t
count_of(const char *op, int code)
{
	struct s3_stat rows[S3_STATS_MAX];
	size_t n = s3_stats_read(rows, S3_STATS_MAX);

	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].op, op) == 0 && rows[i].code == code)
			return rows[i].n;
	return 0;
}

#define PER_THREAD	20000

static void *
hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		s3_stats_count("PutObject", i % 2 ? 200 : 503);
	return NULL;
}

int
main(void)
{
	struct s3_stat rows[S3_STATS_MAX];
	pthread_t th[4];

	/* empty at start */
	T_EQ_INT(s3_stats_read(rows, S3_STATS_MAX), 0);

	s3_stats_count("GetObject", 200);
	s3_stats_count("GetObject", 200);
	s3_stats_count("GetObject", 404);
	s3_stats_count("HeadObject", S3_STATS_CODE_NONE);
	s3_stats_count("NoSuchOperation", 200);
	T_EQ_INT(count_of("GetObject", 200), 2);
	T_EQ_INT(count_of("GetObject", 404), 1);
	T_EQ_INT(count_of("HeadObject", S3_STATS_CODE_NONE), 1);
	T_EQ_INT(count_of("Other", 200), 1);
	T_EQ_INT(count_of("PutObject", 200), 0);

	/* rows come grouped by operation, in the table's fixed order */
	T_EQ_INT(s3_stats_read(rows, S3_STATS_MAX), 4);
	T_EQ_STR(rows[0].op, "GetObject");
	T_EQ_STR(rows[1].op, "GetObject");
	T_EQ_STR(rows[2].op, "HeadObject");
	T_EQ_STR(rows[3].op, "Other");
	/* a short output array is filled, not overrun */
	T_EQ_INT(s3_stats_read(rows, 2), 2);

	/* 14 distinct statuses fit; later ones go to the overflow slot */
	for (int code = 500; code < 520; code++)
		s3_stats_count("UploadPart", code);
	s3_stats_count("UploadPart", 500);
	s3_stats_count("UploadPart", 519);
	T_EQ_INT(count_of("UploadPart", 500), 2);
	T_EQ_INT(count_of("UploadPart", 513), 1);
	T_EQ_INT(count_of("UploadPart", 514), 0);
	T_EQ_INT(count_of("UploadPart", S3_STATS_CODE_OTHER), 7);
	s3_stats_count("UploadPart", 99999);	/* not an HTTP status */
	T_EQ_INT(count_of("UploadPart", S3_STATS_CODE_OTHER), 8);

	/* concurrent counting loses nothing */
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	T_EQ_INT(count_of("PutObject", 200), 4 * PER_THREAD / 2);
	T_EQ_INT(count_of("PutObject", 503), 4 * PER_THREAD / 2);
	return t_done();
}
