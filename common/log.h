/* SPDX-License-Identifier: MIT */
/*
 * Logging: one line per event on stderr, in logfmt:
 *
 *	time=2026-11-24T12:00:00.123Z level=info db=/data/app.db msg="..." k=v
 *
 * The format string makes the message; a TAB in it separates the message
 * from trailing logfmt fields, so
 *	log_db(LOG_INFO, path, "new generation\tgeneration=%s", id)
 * prints `msg="new generation" generation=0123...`.  Each %s after the TAB
 * is written as a proper logfmt value (quoted, with " and \ escaped, when
 * it holds a space, '=', a quote or a control character), so an argument
 * can never break the line's shape or forge a key or a line; write it as
 * key=%s or key=\"%s\" alike.  A line too long for the 2 KiB buffer ends
 * at its last whole field.  When systemd connects
 * stderr to the journal (JOURNAL_STREAM is set) each line gets an sd-daemon
 * priority prefix (<3> error .. <7> debug) and no time, which journald adds.
 *
 * Libraries (wal/, s3/) log at debug only; programs decide what is worth
 * an info line.  Nothing secret is ever passed here.
 */
#ifndef LSC_LOG_H
#define LSC_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set the threshold; the name is debug, info, warn or error. -1 if bad. */
int	log_set_level_name(const char *name);
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);
int	log_enabled(enum log_level level);

void	log_db(enum log_level level, const char *db, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
#define log_debug(...)	log_db(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...)	log_db(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...)	log_db(LOG_WARN, NULL, __VA_ARGS__)
#define log_error(...)	log_db(LOG_ERROR, NULL, __VA_ARGS__)

/* Log at error and exit(status): for start-up failures in programs only. */
void	fatal(int status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#endif
