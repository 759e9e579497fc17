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

	if (err == NULL || err->code != LSC_OK)
		return code;
	err->code = code;
	err->sys = sys;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/*
	 * An error is one line of text: a stray newline would split a log
	 * event or forge a line on a terminal, and an escape sequence could
	 * rewrite one.  Messages quote what a config, a URL or a server said
	 * (object keys, XML text), so line breaks and tabs become spaces and
	 * other control characters '?'.
	 */
	for (char *p = err->msg; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
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
