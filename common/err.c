/* SPDX-License-Identifier: MIT */
/* Errors: see err.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

int
lsc_seterr(struct lsc_err *err, enum lsc_code code, int sys,
    const char *fmt, ...)
{
	va_list ap;
	char *nl;

	if (err == NULL || err->code != LSC_OK)
		return code;
	err->code = code;
	err->sys = sys;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* An error is one line: a stray newline would split a log event. */
	while ((nl = strpbrk(err->msg, "\r\n")) != NULL)
		*nl = ' ';
	return code;
}

void
lsc_err_clear(struct lsc_err *err)
{
	if (err == NULL)
		return;
	err->code = LSC_OK;
	err->sys = 0;
	err->msg[0] = '\0';
}

const char *
lsc_code_name(enum lsc_code code)
{
	switch (code) {
	case LSC_OK:		return "ok";
	case LSC_EIO:		return "io";
	case LSC_ESQLITE:	return "sqlite";
	case LSC_ENET:		return "network";
	case LSC_ES3:		return "s3";
	case LSC_ENOTFOUND:	return "not-found";
	case LSC_ECORRUPT:	return "corrupt";
	case LSC_ECONFIG:	return "config";
	case LSC_EBUSY:		return "busy";
	case LSC_EEXIST:	return "exists";
	case LSC_ESTOP:		return "stopped";
	}
	return "unknown";
}
