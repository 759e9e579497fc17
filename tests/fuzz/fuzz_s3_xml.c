/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the S3 reply parsers (s3/s3_xml.c): ListBucketResult, Error,
 * InitiateMultipartUploadResult, CompleteMultipartUploadResult (with its
 * 200-carrying-<Error> case) and DeleteResult, plus the ISO 8601 and HTTP
 * date parsers.
 *
 * Input: byte 0 picks the parser, the rest is the body.  Properties:
 *  - every error message is one line (no control characters);
 *  - a listing hands out only non-empty keys, leaves no continuation
 *    token after a failure, and a truncated page that succeeds has one;
 *  - an <Error> document is never taken as a completed upload, and a
 *    completed upload's reply is never an <Error> document;
 *  - a successful initiate gives a non-empty UploadId;
 *  - error fields are NUL-terminated within their arrays;
 *  - parsed dates round-trip through gmtime where they are in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3/s3_int.h"

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
on_key(void *ctx, const char *key, uint64_t size, int64_t mtime_ns,
    struct lsc_err *err)
{
	(void)size;
	(void)mtime_ns;
	(void)err;
	if (key[0] == '\0')
		abort();
	(*(size_t *)ctx)++;
	return LSC_OK;
}

static void
on_delerr(void *ctx, const char *key, const char *code, const char *msg)
{
	if (key == NULL || code == NULL || msg == NULL)
		abort();
	(*(size_t *)ctx)++;
}

static void
fields_ok(const struct s3_error_info *e)
{
	if (memchr(e->code, 0, sizeof(e->code)) == NULL ||
	    memchr(e->message, 0, sizeof(e->message)) == NULL ||
	    memchr(e->region, 0, sizeof(e->region)) == NULL ||
	    memchr(e->request_time, 0, sizeof(e->request_time)) == NULL ||
	    memchr(e->server_time, 0, sizeof(e->server_time)) == NULL ||
	    memchr(e->endpoint, 0, sizeof(e->endpoint)) == NULL)
		abort();
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lsc_err e = { 0 };
	struct s3_error_info ei;
	const char *body;
	char *str;
	size_t len, n = 0;
	int rc, is_err;

	if (size < 1 || size > (1 << 20))
		return 0;
	body = (const char *)data + 1;
	len = size - 1;
	switch (data[0] % 6) {
	case 0: {
		struct s3_list_page page;

		rc = s3_xml_list(body, len, on_key, &n, &page, &e);
		if (rc != LSC_OK) {
			one_line(&e);
			if (page.next_token != NULL)
				abort();
		} else if (page.truncated && (page.next_token == NULL ||
		    page.next_token[0] == '\0')) {
			abort();
		}
		free(page.next_token);
		break;
	}
	case 1:
		rc = s3_xml_error(body, len, &ei);
		if (rc < -1 || rc > 1)
			abort();
		fields_ok(&ei);
		break;
	case 2: {
		char *id = NULL;

		rc = s3_xml_initiate(body, len, &id, &e);
		if (rc == LSC_OK) {
			if (id == NULL || id[0] == '\0')
				abort();
			free(id);
		} else {
			one_line(&e);
		}
		break;
	}
	case 3:
		rc = s3_xml_complete(body, len, &ei, &e);
		fields_ok(&ei);
		is_err = s3_xml_error(body, len, &ei);
		if (rc == LSC_OK && is_err == 1)
			abort();	/* an <Error> taken for success */
		if (rc != LSC_OK)
			one_line(&e);
		break;
	case 4:
		rc = s3_xml_delete_result(body, len, on_delerr, &n, &e);
		if (rc != LSC_OK)
			one_line(&e);
		break;
	case 5: {
		int64_t ns, sec;

		str = malloc(len + 1);
		memcpy(str, body, len);
		str[len] = '\0';
		if (s3_parse_iso8601(str, &ns) == 0 && ns >= 0 &&
		    ns < (int64_t)4102444800 * 1000000000) {
			time_t t = (time_t)(ns / 1000000000);
			struct tm tm;

			if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 70)
				abort();
		}
		(void)s3_parse_http_date(str, &sec);
		free(str);
		break;
	}
	}
	return 0;
}
