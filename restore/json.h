/* SPDX-License-Identifier: MIT */
/*
 * Writing JSON strings for the --json outputs of the read-side commands.
 * The output is always valid UTF-8 JSON, whatever the input bytes: quotes,
 * backslashes and control characters are escaped, and a byte that is not
 * part of a well-formed UTF-8 sequence (text from a restored database can
 * hold anything) is written as U+FFFD, the replacement character.
 */
#ifndef LSC_JSON_H
#define LSC_JSON_H

#include <stdio.h>

/* Write `s` (NUL-terminated) as a JSON string, quotes included. */
void	json_str(FILE *fp, const char *s);
/* json_str, or the JSON literal null when `s` is NULL. */
void	json_str_or_null(FILE *fp, const char *s);

#endif
