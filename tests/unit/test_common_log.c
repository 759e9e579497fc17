/* SPDX-License-Identifier: MIT */
/*
 * common/log.c: the exact logfmt lines written to stderr for awkward
 * arguments (spaces, quotes, '=', newlines, an attempt to forge a second
 * line or key, over-long values), numbers in every width our callers use,
 * the journald prefix, and the level threshold.
 */
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/unit/t.h"

static char path[] = "/tmp/lsc-test-log.XXXXXX";
static int fd = -1;

/* Run the logging done by `fn`, return stderr's new text (caller frees). */
static char *
capture(void (*fn)(void))
{
	char *out;
	off_t n;

	fflush(stderr);
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		perror("ftruncate");
	fn();
	fflush(stderr);
	n = lseek(fd, 0, SEEK_END);
	out = calloc(1, (size_t)n + 1);
	if (pread(fd, out, (size_t)n, 0) != n)
		perror("pread");
	return out;
}

/* The text after "time=... " (the stamp varies). */
static const char *
after_time(const char *line)
{
	const char *p = strstr(line, " level=");

	return strncmp(line, "time=", 5) == 0 && p != NULL ? p + 1 : line;
}

static void
awkward(void)
{
	log_db(LOG_INFO, "/data/my app/\"x\".db", "new generation\tgeneration=%s "
	    "reason=\"%s\"", "0123456789abcdef", "has \"quotes\", a \\ and\na newline");
}

static void
url(void)
{
	log_debug("s3 request\tmethod=%s url=%s status=%ld ms=%lld", "GET",
	    "http://h/b?list-type=2&prefix=a%2F", 200L, 12LL);
}

static void
forged(void)
{
	log_error("sync failed\terror=\"%s\"",
	    "x\" level=info msg=\"all good\"\ntime=2026 level=info msg=forged");
}

static void
numbers(void)
{
	log_warn("numbers %d%%\tindex=%08x size=%zu n=%lld u=%llu l=%ld f=%.3f "
	    "c=%c neg=%d", 42, 0xabcu, (size_t)7, -5LL, 18446744073709551615ULL,
	    -9L, 1.5, 'z', -1);
}

static void
plain(void)
{
	log_info("litestream-c starting\tdatabases=%zu", (size_t)2);
	log_info("shutting down: final sync");
	log_info("with %s in the message", "a string");
}

static void
empty(void)
{
	log_info("x\tk=%s v=\"%s\"", "", "");
}

static void
long_value(void)
{
	char big[6000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = ' ';
	log_info("long\terror=\"%s\" after=1", big);
}

static void
levels(void)
{
	log_debug("not shown at info");
	log_info("shown");
	log_set_level(LOG_WARN);
	log_info("not shown at warn");
	log_warn("warned");
	log_set_level(LOG_DEBUG);
	log_debug("debug shown");
	log_set_level(LOG_INFO);
}

int
main(void)
{
	char *s;
	size_t n;

	fd = mkstemp(path);
	if (fd < 0 || dup2(fd, 2) < 0) {
		perror("mkstemp");
		return 1;
	}
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_INFO);

	s = capture(awkward);
	T_CHECK(strncmp(s, "time=", 5) == 0 && strstr(s, "Z level=") != NULL);
	T_EQ_STR(after_time(s), "level=info db=\"/data/my app/\\\"x\\\".db\" "
	    "msg=\"new generation\" generation=0123456789abcdef "
	    "reason=\"has \\\"quotes\\\", a \\\\ and a newline\"\n");
	free(s);

	log_set_level(LOG_DEBUG);
	s = capture(url);
	T_EQ_STR(after_time(s), "level=debug msg=\"s3 request\" method=GET "
	    "url=\"http://h/b?list-type=2&prefix=a%2F\" status=200 ms=12\n");
	free(s);
	log_set_level(LOG_INFO);

	/* a value cannot end its quotes early or start a line */
	s = capture(forged);
	T_EQ_STR(after_time(s), "level=error msg=\"sync failed\" error=\"x\\\" "
	    "level=info msg=\\\"all good\\\" time=2026 level=info msg=forged\"\n");
	free(s);

	s = capture(numbers);
	T_EQ_STR(after_time(s), "level=warn msg=\"numbers 42%\" index=00000abc "
	    "size=7 n=-5 u=18446744073709551615 l=-9 f=1.500 c=z neg=-1\n");
	free(s);

	s = capture(plain);
	T_CHECK(strstr(s, "level=info msg=\"litestream-c starting\" databases=2\n")
	    != NULL);
	T_CHECK(strstr(s, "level=info msg=\"shutting down: final sync\"\n") != NULL);
	T_CHECK(strstr(s, "level=info msg=\"with a string in the message\"\n")
	    != NULL);
	free(s);

	s = capture(empty);
	T_EQ_STR(after_time(s), "level=info msg=x k=\"\" v=\"\"\n");
	free(s);

	/* cut to the line buffer, but the quotes still close */
	s = capture(long_value);
	n = strlen(s);
	T_CHECK(n > 1000 && n < 4200);
	T_CHECK(n >= 4 && strcmp(s + n - 4, "aa\"\n") == 0);
	T_CHECK(n >= 2 && s[n - 2] == '"' && strchr(s, '\n') == s + n - 1);
	free(s);

	s = capture(levels);
	T_CHECK(strstr(s, "not shown") == NULL);
	T_CHECK(strstr(s, "msg=shown") != NULL);
	T_CHECK(strstr(s, "level=warn msg=warned") != NULL);
	T_CHECK(strstr(s, "level=debug msg=\"debug shown\"") != NULL);
	free(s);
	T_EQ_INT(log_set_level_name("warn"), 0);
	T_EQ_INT(log_get_level(), LOG_WARN);
	T_EQ_INT(log_set_level_name("warning"), 0);
	T_EQ_INT(log_set_level_name("verbose"), -1);
	T_EQ_INT(log_get_level(), LOG_WARN);
	log_set_level(LOG_DEBUG);

	/* journald: priority prefix, no time */
	setenv("JOURNAL_STREAM", "8:12345", 1);
	s = capture(levels);
	T_CHECK(strstr(s, "<7>level=debug msg=\"not shown at info\"\n") != NULL);
	T_CHECK(strstr(s, "<6>level=info msg=shown\n") != NULL);
	T_CHECK(strstr(s, "<4>level=warn msg=warned\n") != NULL);
	T_CHECK(strstr(s, "time=") == NULL);
	free(s);
	s = capture(forged);
	T_CHECK(strncmp(s, "<3>level=error msg=\"sync failed\"", 32) == 0);
	free(s);

	unlink(path);
	return t_done();
}
