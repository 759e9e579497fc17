/* SPDX-License-Identifier: MIT */
/*
 * Errors: every function that can fail returns an int (LSC_OK or an LSC_E*
 * code) and takes a `struct lsc_err *` last, which may be NULL.  The
 * function that detects a failure fills the struct and returns the code in
 * one step.  The first failure recorded wins (curl's failf), so callers
 * pass codes up unchanged and add context only when they log.
 */
#ifndef LSC_ERR_H
#define LSC_ERR_H

#define LSC_ERRLEN 256

enum lsc_code {
	LSC_OK = 0,
	LSC_EIO,	/* local file system */
	LSC_ESQLITE,	/* sys = sqlite result code */
	LSC_ENET,	/* connection, timeout, short body: retryable */
	LSC_ES3,	/* sys = HTTP status; S3 said no */
	LSC_ENOTFOUND,	/* object, file or database missing */
	LSC_ECORRUPT,	/* bytes fail a checksum, size or format check */
	LSC_ECONFIG,	/* bad configuration or usage */
	LSC_EBUSY,	/* a lock could not be had in the bounded wait */
	LSC_EEXIST,	/* refusing to overwrite */
	LSC_ESTOP	/* interrupted by shutdown */
};

struct lsc_err {
	enum lsc_code	code;		/* LSC_OK until the first failure */
	int		sys;		/* errno, sqlite rc, CURLcode or status */
	char		msg[LSC_ERRLEN];	/* one line, no control characters */
};

/*
 * Record a failure in `err` (unless one is already recorded or err is NULL)
 * and return `code`, so that `return lsc_seterr(err, ...)` is one step.
 * The message is made one line: newlines and tabs become spaces, other
 * control characters '?' (it may quote a hostile key or server reply).
 */
int	lsc_seterr(struct lsc_err *err, enum lsc_code code, int sys,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Forget any recorded failure. */
void	lsc_err_clear(struct lsc_err *err);

/* A short name for a code, for logs and metrics ("io", "s3", ...). */
const char *lsc_code_name(enum lsc_code code);

#endif
