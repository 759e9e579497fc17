/* SPDX-License-Identifier: MIT */
/* Replica object keys: see wal_layout.h. */
#include <stdio.h>
#include <string.h>

#include "wal/wal_layout.h"

static int
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Parse exactly `min`..`max` lowercase hex digits ending at a non-hex char. */
static const char *
parse_hex(const char *s, int min, int max, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (is_lower_hex(s[n])) {
		if (n == max)
			return NULL;
		v = v << 4 | (uint64_t)(s[n] <= '9' ? s[n] - '0' : s[n] - 'a' + 10);
		n++;
	}
	if (n < min)
		return NULL;
	*out = v;
	return s + n;
}

int
layout_gen_valid(const char *s)
{
	for (int i = 0; i < GEN_ID_LEN; i++)
		if (!is_lower_hex(s[i]))
			return 0;
	return s[GEN_ID_LEN] == '\0';
}

void
layout_gen_prefix(const char *gen, char *out, size_t n)
{
	snprintf(out, n, "generations/%s/", gen);
}

void
layout_snapshot_key(const char *gen, uint32_t index, char *out, size_t n)
{
	snprintf(out, n, "generations/%s/snapshots/%08x.snapshot.lz4", gen, index);
}

void
layout_wal_key(const char *gen, uint32_t index, uint64_t offset, char *out,
    size_t n)
{
	snprintf(out, n, "generations/%s/wal/%08x_%08llx.wal.lz4", gen, index,
	    (unsigned long long)offset);
}

int
layout_parse(const char *key, struct layout_key *out)
{
	struct layout_key k;
	const char *p = key;
	uint64_t v;

	memset(&k, 0, sizeof(k));
	if (strncmp(p, "generations/", 12) != 0)
		return -1;
	p += 12;
	for (int i = 0; i < GEN_ID_LEN; i++)
		if (!is_lower_hex(p[i]))
			return -1;
	if (p[GEN_ID_LEN] != '/')
		return -1;
	memcpy(k.gen, p, GEN_ID_LEN);
	p += GEN_ID_LEN + 1;
	if (strncmp(p, "snapshots/", 10) == 0) {
		p = parse_hex(p + 10, 8, 8, &v);
		if (p == NULL || strcmp(p, ".snapshot.lz4") != 0 || v >= INDEX_MAX)
			return -1;
		k.kind = LAYOUT_SNAPSHOT;
		k.index = (uint32_t)v;
	} else if (strncmp(p, "wal/", 4) == 0) {
		p = parse_hex(p + 4, 8, 8, &v);
		if (p == NULL || *p != '_' || v >= INDEX_MAX)
			return -1;
		k.index = (uint32_t)v;
		p = parse_hex(p + 1, 8, 16, &v);
		if (p == NULL || strcmp(p, ".wal.lz4") != 0)
			return -1;
		k.kind = LAYOUT_WAL;
		k.offset = v;
	} else {
		return -1;
	}
	*out = k;
	return 0;
}
