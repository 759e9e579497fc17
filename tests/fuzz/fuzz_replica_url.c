/* SPDX-License-Identifier: MIT */
/*
 * Fuzz replica URL parsing (replica/replica.c, replica_s3.c, and the S3
 * client's bucket, endpoint and region checks behind them).
 *
 * Input: the URL (up to the first NUL).  Properties:
 *  - replica_s3_parse_url gives a non-empty bucket without '/' or '?',
 *    and a prefix with no leading, trailing or doubled '/';
 *  - replica_open either opens a replica whose URL is the input (no
 *    request is made: opening does no I/O) or fails with LSC_ECONFIG and
 *    one line without control characters;
 *  - a file:// replica opens exactly when the path is absolute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replica/replica.h"
#include "replica/replica_s3.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Credentials, so that the client's own checks are reached. */
	setenv("AWS_ACCESS_KEY_ID", "AKIDFUZZ", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "fuzz-secret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	return 0;
}

static void
one_line(const struct lsc_err *e)
{
	if (e->code != LSC_ECONFIG || e->msg[0] == '\0')
		abort();
	for (const char *p = e->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lsc_err e = { 0 };
	struct replica *r = NULL;
	char *url;
	int rc;

	if (size > 4096)
		return 0;
	url = malloc(size + 1);
	memcpy(url, data, size);
	url[size] = '\0';
	if (strncmp(url, "s3://", 5) == 0) {
		struct replica_s3_url u;
		size_t pl;

		if (replica_s3_parse_url(url, &u, &e) == LSC_OK) {
			pl = strlen(u.prefix);
			if (u.bucket == NULL || u.bucket[0] == '\0' ||
			    strpbrk(u.bucket, "/?") != NULL ||
			    (pl > 0 && (u.prefix[0] == '/' ||
			    u.prefix[pl - 1] == '/')) ||
			    strstr(u.prefix, "//") != NULL ||
			    u.path_style < -1 || u.path_style > 1)
				abort();
		} else {
			one_line(&e);
		}
		replica_s3_url_release(&u);
		lsc_err_clear(&e);
	}
	rc = replica_open(url, NULL, 0, &r, &e);
	if (rc == LSC_OK) {
		if (r == NULL || (strncmp(url, "s3://", 5) == 0 &&
		    strcmp(r->url, url) != 0))
			abort();
		if (strncmp(url, "file://", 7) == 0 && url[7] != '/')
			abort();
		replica_free(r);
	} else {
		one_line(&e);
		if (strncmp(url, "file://", 7) == 0 && url[7] == '/')
			abort();	/* opening a directory does no I/O */
	}
	free(url);
	return 0;
}
