/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the replica object-key parser (wal/wal_layout.c).
 *
 * Input: the key (bytes up to the first NUL, as a listing would give it).
 * Property: a key that parses formats back to itself, offset width aside
 * (we read 8 to 16 offset digits, so a wider spelling of the same offset
 * is accepted and formats to its canonical 8 digits); the parsed index
 * is below INDEX_MAX; the generation is valid; the key has no "..", no
 * leading '/', and fits LAYOUT_KEY_MAX; parsing the canonical form gives
 * the same fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wal/wal_layout.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct layout_key k, k2;
	char *key, canon[LAYOUT_KEY_MAX], want[LAYOUT_KEY_MAX];

	if (size > 4096)
		return 0;
	key = malloc(size + 1);
	memcpy(key, data, size);
	key[size] = '\0';
	if (layout_parse(key, &k) != 0) {
		free(key);
		return 0;
	}
	if (!layout_gen_valid(k.gen) || k.index >= INDEX_MAX ||
	    strstr(key, "..") != NULL || key[0] == '/' ||
	    strlen(key) >= LAYOUT_KEY_MAX)
		abort();
	if (k.kind == LAYOUT_SNAPSHOT) {
		layout_snapshot_key(k.gen, k.index, canon, sizeof(canon));
		if (strcmp(canon, key) != 0)
			abort();
	} else if (k.kind == LAYOUT_WAL) {
		const char *us = strrchr(key, '_');
		size_t digits;

		layout_wal_key(k.gen, k.index, k.offset, canon, sizeof(canon));
		if (us == NULL)
			abort();
		digits = strlen(us + 1) - strlen(".wal.lz4");
		if (digits < 8 || digits > 16)
			abort();
		/* The key as it would be written with the input's width. */
		snprintf(want, sizeof(want), "generations/%s/wal/%08x_%0*llx.wal.lz4",
		    k.gen, k.index, (int)digits, (unsigned long long)k.offset);
		if (strcmp(want, key) != 0)
			abort();
		if (digits == 8 && strcmp(canon, key) != 0)
			abort();
	} else {
		abort();
	}
	if (layout_parse(canon, &k2) != 0 || k2.kind != k.kind ||
	    k2.index != k.index || k2.offset != k.offset ||
	    strcmp(k2.gen, k.gen) != 0)
		abort();
	free(key);
	return 0;
}
