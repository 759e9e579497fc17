/* SPDX-License-Identifier: MIT */
/*
 * Retry policy.  What may be retried (AWS's error best practices, botocore's
 * standard mode, and what third-party stores send): transport failures and
 * short bodies (LSC_ENET), HTTP 5xx, 408, 429, 409 OperationAborted,
 * MinIO's 499, and the S3 codes RequestTimeout, SlowDown, Throttling,
 * InternalError and friends whatever the status.  Everything else (403,
 * 404, 400 other than RequestTimeout, 301) is a refusal that waiting will
 * not cure.
 *
 * Back-off is AWS's "full jitter": sleep uniform in [0, min(cap, base*2^n)],
 * which spreads a herd of retrying clients better than equal jitter.
 */
#include <stdio.h>
#include <string.h>

#include "s3/s3_int.h"

static const char *const retry_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "SlowDown", "Throttling",
	"ThrottlingException", "RequestLimitExceeded", "InternalError",
	"ServiceUnavailable", "OperationAborted", "PriorRequestNotComplete",
	"RequestCanceled", "ClientDisconnected", "TooManyRequestsException",
	NULL
};

int
s3_retryable(int code, int http_status, const char *s3_code)
{
	if (code == LSC_ENET)
		return 1;
	if (code != LSC_ES3)
		return 0;
	if (s3_code != NULL && s3_code[0] != '\0') {
		for (int i = 0; retry_codes[i] != NULL; i++)
			if (strcmp(s3_code, retry_codes[i]) == 0)
				return 1;
	}
	return http_status >= 500 || http_status == 408 || http_status == 429 ||
	    http_status == 499;
}

int64_t
s3_backoff_ms(int attempt, uint64_t rnd)
{
	int64_t ceiling = S3_BACKOFF_BASE_MS;

	for (int i = 0; i < attempt && ceiling < S3_BACKOFF_CAP_MS; i++)
		ceiling *= 2;
	if (ceiling > S3_BACKOFF_CAP_MS)
		ceiling = S3_BACKOFF_CAP_MS;
	return (int64_t)(rnd % (uint64_t)(ceiling + 1));
}
