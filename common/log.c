/* SPDX-License-Identifier: MIT */
/* Logging in logfmt on stderr: see log.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

static enum log_level threshold = LOG_INFO;
/* Upload workers log too: keep each line whole. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "debug", "info", "warn", "error" };
/* sd-daemon(3) priorities: debug 7, info 6, warning 4, err 3. */
static const int journal_prio[] = { 7, 6, 4, 3 };

int
log_set_level_name(const char *name)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			threshold = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "warning") == 0) {
		threshold = LOG_WARN;
		return 0;
	}
	return -1;
}

void
log_set_level(enum log_level level)
{
	threshold = level;
}

enum log_level
log_get_level(void)
{
	return threshold;
}

int
log_enabled(enum log_level level)
{
	return level >= threshold;
}

/* Append `s` as a logfmt value, quoted when it needs to be. */
static void
put_value(FILE *f, const char *s)
{
	int quote = *s == '\0' || strpbrk(s, " =\"\\\t") != NULL;

	if (!quote) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s == '\n' || *s == '\t' ? ' ' : *s, f);
	}
	fputc('"', f);
}

static void
vlog(enum log_level level, const char *db, const char *fmt, va_list ap)
{
	char text[2048], stamp[40];
	char *fields, *p;
	struct timespec ts;
	struct tm tm;
	FILE *f = stderr;

	vsnprintf(text, sizeof(text), fmt, ap);
	for (p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fields = strchr(text, '\t');
	if (fields != NULL)
		*fields++ = '\0';

	pthread_mutex_lock(&log_lock);
	if (getenv("JOURNAL_STREAM") != NULL) {
		fprintf(f, "<%d>", journal_prio[level]);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(f, "time=%s.%03ldZ ", stamp, ts.tv_nsec / 1000000);
	}
	fprintf(f, "level=%s", level_names[level]);
	if (db != NULL) {
		fputs(" db=", f);
		put_value(f, db);
	}
	fputs(" msg=", f);
	put_value(f, text);
	if (fields != NULL && *fields != '\0') {
		fputc(' ', f);
		fputs(fields, f);
	}
	fputc('\n', f);
	fflush(f);
	pthread_mutex_unlock(&log_lock);
}

void
log_db(enum log_level level, const char *db, const char *fmt, ...)
{
	va_list ap;

	if (level < threshold)
		return;
	va_start(ap, fmt);
	vlog(level, db, fmt, ap);
	va_end(ap);
}

void
fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(status);
}
