/* SPDX-License-Identifier: MIT */
/* Logging in logfmt on stderr: see log.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
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

/* A bounded line being built; appends past the end are dropped. */
struct line {
	char	*p;
	size_t	 len, cap;	/* cap includes the final NUL */
	size_t	 good;		/* fields: length that ends a whole pair */
	int	 cut;		/* something did not fit */
};

static void
add(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - 1 - l->len) {
		n = l->cap - 1 - l->len;
		l->cut = 1;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

static int
needs_quotes(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '=' || *s == '"' ||
		    *s == '\\' || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * Append `s` as one logfmt value: bare when it can be, else in double
 * quotes with " and \ escaped and control characters (a newline could
 * forge a log line) turned into spaces.  Room for the closing quote is
 * kept, so a value cut at the end of the line is still well-formed.
 */
static void
add_value(struct line *l, const char *s)
{
	if (!needs_quotes(s)) {
		add(l, s, strlen(s));
		return;
	}
	if (l->len + 3 > l->cap)	/* no room for "" and the NUL */
		return;
	add(l, "\"", 1);
	/* Each step adds at most 2 bytes and leaves room for '"' and NUL. */
	for (; *s && l->len + 4 <= l->cap; s++) {
		if (*s == '"' || *s == '\\')
			add(l, "\\", 1);
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			add(l, " ", 1);
		else
			add(l, s, 1);
	}
	add(l, "\"", 1);
}

/*
 * One printf conversion starting at fmt ('%'), with its argument from
 * *ap, appended to `l`; returns the first character after it.  A string
 * in the fields part (`as_value`) goes through add_value; everything else
 * through snprintf.  Only what our callers use is understood (flags,
 * width, precision, hh h l ll z j t, d i u o x X c s p f g e); anything
 * else is copied as text, which -Wformat has already flagged at the call.
 */
static const char *
add_conversion(struct line *l, const char *fmt, va_list *ap, int as_value)
{
	char spec[32], out[64];
	const char *p = fmt + 1;
	int lng = 0;		/* count of 'l' */
	char size = 0;		/* h, z, j or t */
	size_t n;

	if (*p == '%') {
		add(l, "%", 1);
		return p + 1;
	}
	p += strspn(p, "-+ #0");
	p += strspn(p, "0123456789");
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	for (; *p == 'l' || *p == 'h' || *p == 'z' || *p == 'j' || *p == 't';
	    p++) {
		if (*p == 'l')
			lng++;
		else
			size = *p;
	}
	n = (size_t)(p - fmt) + 1;
	if (*p == '\0' || n >= sizeof(spec)) {
		add(l, fmt, strlen(fmt));
		return fmt + strlen(fmt);
	}
	memcpy(spec, fmt, n);
	spec[n] = '\0';
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	switch (*p) {
	case 's': {
		const char *s = va_arg(*ap, const char *);

		if (s == NULL)
			s = "(null)";
		if (as_value) {
			add_value(l, s);
		} else {
			char big[1024];

			snprintf(big, sizeof(big), spec, s);
			add(l, big, strlen(big));
		}
		return p + 1;
	}
	case 'd': case 'i': case 'c':
		if (size == 'z')
			snprintf(out, sizeof(out), spec, va_arg(*ap, ssize_t));
		else if (size == 'j')
			snprintf(out, sizeof(out), spec, va_arg(*ap, intmax_t));
		else if (size == 't')
			snprintf(out, sizeof(out), spec, va_arg(*ap, ptrdiff_t));
		else if (lng >= 2)
			snprintf(out, sizeof(out), spec, va_arg(*ap, long long));
		else if (lng == 1)
			snprintf(out, sizeof(out), spec, va_arg(*ap, long));
		else
			snprintf(out, sizeof(out), spec, va_arg(*ap, int));
		break;
	case 'u': case 'o': case 'x': case 'X':
		if (size == 'z')
			snprintf(out, sizeof(out), spec, va_arg(*ap, size_t));
		else if (size == 'j')
			snprintf(out, sizeof(out), spec, va_arg(*ap, uintmax_t));
		else if (size == 't')
			snprintf(out, sizeof(out), spec, va_arg(*ap, ptrdiff_t));
		else if (lng >= 2)
			snprintf(out, sizeof(out), spec,
			    va_arg(*ap, unsigned long long));
		else if (lng == 1)
			snprintf(out, sizeof(out), spec, va_arg(*ap, unsigned long));
		else
			snprintf(out, sizeof(out), spec, va_arg(*ap, unsigned));
		break;
	case 'f': case 'F': case 'g': case 'G': case 'e': case 'E':
		snprintf(out, sizeof(out), spec, va_arg(*ap, double));
		break;
	case 'p':
		snprintf(out, sizeof(out), spec, va_arg(*ap, void *));
		break;
	default:
		add(l, fmt, n);
		return p + 1;
	}
#pragma GCC diagnostic pop
	add(l, out, strlen(out));
	return p + 1;
}

/*
 * Format `fmt` into the message (before the first TAB) and the fields
 * (after it).  The fields are formatted here, not by vsnprintf, so that
 * every %s in them becomes a well-formed logfmt value whatever it holds:
 * error text can come from an S3 server, paths can hold spaces, quotes or
 * '='.  The quotes of a `key=\"%s\"` in the format are dropped, since the
 * value brings its own when it needs them.  Formats are ours: only the
 * arguments are untrusted.
 */
static void
format(struct line *msg, struct line *fields, const char *fmt, va_list *ap)
{
	struct line *l = msg;
	const char *p = fmt;

	while (*p != '\0') {
		if (*p == '\t' && l == msg) {
			l = fields;
			p++;
			continue;
		}
		/* Before the space that starts a field, every pair is whole. */
		if (l == fields && *p == ' ' && !l->cut)
			l->good = l->len;
		if (l == fields && strncmp(p, "\"%s\"", 4) == 0)
			p = add_conversion(l, p + 1, ap, 1) + 1;
		else if (*p == '%')
			p = add_conversion(l, p, ap, l == fields);
		else
			add(l, p++, 1);
	}
	if (!fields->cut)
		fields->good = fields->len;
	/* Too long: end at the last whole pair rather than mid-key. */
	fields->len = fields->good;
	fields->p[fields->len] = '\0';
}

/* Append `s` to f as a logfmt value. */
static void
put_value(FILE *f, const char *s)
{
	char buf[4096];
	struct line l = { buf, 0, sizeof(buf), 0, 0 };

	buf[0] = '\0';
	add_value(&l, s);
	fputs(buf, f);
}

static void
vlog(enum log_level level, const char *db, const char *fmt, va_list ap)
{
	char text[2048], fields[2048], stamp[40];
	struct line m = { text, 0, sizeof(text), 0, 0 };
	struct line fl = { fields, 0, sizeof(fields), 0, 0 };
	struct timespec ts;
	struct tm tm;
	FILE *f = stderr;
	va_list aq;

	text[0] = fields[0] = '\0';
	va_copy(aq, ap);
	format(&m, &fl, fmt, &aq);
	va_end(aq);

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
	if (fields[0] != '\0') {
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
