/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the config parser (common/config.c) through cfg_load_string, the
 * same code cfg_load runs on a file's text, and its value parsers.
 *
 * Input: byte 0 picks what to parse, the rest is the text.  Properties:
 *  - an INI either loads (and frees) or fails with LSC_ECONFIG and one
 *    line "fuzz.ini:LINE: ..." without control characters;
 *  - a loaded config has absolute database paths, a replica for each,
 *    and no negative intervals;
 *  - durations and sizes are never negative, and formatting a parsed
 *    duration in ms and parsing that back gives the same value;
 *  - a host:port has a port in 1..65535 and a host that fits.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("LSC_FUZZ", "/tmp/fuzz", 1);
	setenv("LSC_FUZZ_EMPTY", "", 1);
	unsetenv("LSC_FUZZ_UNSET");
	return 0;
}

static void
check_config(const struct lsc_config *c)
{
	for (size_t i = 0; i < c->ndb; i++) {
		const struct cfg_db *db = &c->dbs[i];

		if (db->path == NULL || db->path[0] != '/' ||
		    db->replica == NULL || db->sync_interval_ms < 0 ||
		    db->snapshot_interval_ms < 0 || db->retention_ms < 0 ||
		    db->checkpoint_interval_ms < 0 ||
		    db->min_checkpoint_page_count < 0 ||
		    db->max_checkpoint_page_count < 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lsc_err e = { 0 };
	struct lsc_config *cfg = NULL;
	char *s;
	int64_t ms, ms2;
	uint64_t bytes;
	uint16_t port;
	char host[256], back[64];

	if (size < 1 || size > (64 << 10))
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
	case 1:
		if (cfg_load_string(s, "fuzz.ini", &cfg, &e) == LSC_OK) {
			check_config(cfg);
			cfg_free(cfg);
		} else {
			if (e.code != LSC_ECONFIG ||
			    strncmp(e.msg, "fuzz.ini:", 9) != 0)
				abort();
			for (const char *p = e.msg; *p; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					abort();
		}
		break;
	case 2:
		if (cfg_parse_duration(s, &ms) == 0) {
			if (ms < 0)
				abort();
			snprintf(back, sizeof(back), "%" PRId64 "ms", ms);
			if (cfg_parse_duration(back, &ms2) != 0 || ms2 != ms)
				abort();
		}
		break;
	case 3:
		(void)cfg_parse_size(s, &bytes);
		(void)cfg_parse_bool(s);
		break;
	case 4:
		if (cfg_parse_hostport(s, host, sizeof(host), &port) == 0) {
			if (port == 0 || memchr(host, 0, sizeof(host)) == NULL ||
			    host[0] == '\0')
				abort();
		}
		break;
	}
	free(s);
	return 0;
}
