/* SPDX-License-Identifier: MIT */
/* WAL format: synthetic WALs in both byte orders, torn and corrupt frames. */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "wal/wal_format.h"
#include "wal/wal_layout.h"

static void
test_header(int big_endian, uint32_t page_size)
{
	struct wal_hdr h = { .page_size = page_size, .ckpt_seq = 7,
	    .salt1 = 0x11223344, .salt2 = 0xdeadbeef, .big_endian = big_endian };
	struct wal_hdr got;
	uint8_t b[WAL_HDR_LEN];
	struct lsc_err err = { 0 };

	wal_hdr_encode(&h, b);
	/* Bytes 8-11 as SQLite writes them: 65536 too, never 1. */
	T_EQ_INT(wal_get32(b + 8), page_size);
	T_EQ_INT(wal_hdr_parse(b, &got, &err), LSC_OK);
	T_EQ_INT(got.page_size, page_size);
	T_EQ_INT(got.big_endian, big_endian);
	T_EQ_INT(got.salt1, 0x11223344);
	/* A flipped bit anywhere in the checked bytes is caught. */
	for (int i = 12; i < 32; i += 5) {
		b[i] ^= 0x10;
		lsc_err_clear(&err);
		T_EQ_INT(wal_hdr_parse(b, &got, &err), LSC_ECORRUPT);
		b[i] ^= 0x10;
	}
}

/* The header of a real WAL of a 64 KiB-page database (SQLite 3.40). */
static void
test_sqlite_64k_header(void)
{
	static const uint8_t real[WAL_HDR_LEN] = {
		0x37, 0x7f, 0x06, 0x82, 0x00, 0x2d, 0xe2, 0x18,
		0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct wal_hdr got;
	uint8_t b[WAL_HDR_LEN], again[WAL_HDR_LEN];

	memcpy(b, real, sizeof(b));
	wal_put32(b + 16, 0x01020304);
	wal_put32(b + 20, 0x05060708);
	got.page_size = 65536;
	got.big_endian = 0;
	got.ckpt_seq = 0;
	got.salt1 = 0x01020304;
	got.salt2 = 0x05060708;
	wal_hdr_encode(&got, again);
	/* Same bytes 0-23 as SQLite's, so the same checksum. */
	T_CHECK(memcmp(again, b, 24) == 0);
	T_EQ_INT(wal_hdr_parse(again, &got, NULL), LSC_OK);
	T_EQ_INT(got.page_size, 65536);
	/* The old spelling 1 is still read. */
	wal_put32(b + 8, 1);
	{
		uint32_t s[2] = { 0, 0 };

		wal_checksum(0, b, 24, s);
		wal_put32(b + 24, s[0]);
		wal_put32(b + 28, s[1]);
	}
	T_EQ_INT(wal_hdr_parse(b, &got, NULL), LSC_OK);
	T_EQ_INT(got.page_size, 65536);
}

static void
test_frames(int big_endian)
{
	struct wal_hdr h = { .page_size = 512, .salt1 = 1, .salt2 = 2,
	    .big_endian = big_endian };
	uint8_t hb[WAL_HDR_LEN], page[512], f1[24 + 512], f2[24 + 512];
	uint32_t s[2], chk[2];
	struct lsc_err err = { 0 };

	wal_hdr_encode(&h, hb);
	T_EQ_INT(wal_hdr_parse(hb, &h, &err), LSC_OK);
	memset(page, 0xab, sizeof(page));
	s[0] = h.cksum1, s[1] = h.cksum2;
	wal_frame_encode(&h, 1, 0, page, s, f1);
	page[0] = 1;
	wal_frame_encode(&h, 2, 2, page, s, f2);

	chk[0] = h.cksum1, chk[1] = h.cksum2;
	T_EQ_INT(wal_frame_check(&h, f1, chk), 1);
	T_EQ_INT(wal_frame_check(&h, f2, chk), 1);
	T_CHECK(chk[0] == s[0] && chk[1] == s[1]);
	/* Out of order: f2 does not follow the header's checksum. */
	chk[0] = h.cksum1, chk[1] = h.cksum2;
	T_EQ_INT(wal_frame_check(&h, f2, chk), 0);
	/* A torn page (last byte differs) breaks the chain. */
	chk[0] = h.cksum1, chk[1] = h.cksum2;
	f1[sizeof(f1) - 1] ^= 1;
	T_EQ_INT(wal_frame_check(&h, f1, chk), 0);
	f1[sizeof(f1) - 1] ^= 1;
	/* Another salt (a later WAL cycle) is not ours. */
	f1[11] ^= 1;
	T_EQ_INT(wal_frame_check(&h, f1, chk), 0);
}

static void
test_layout(void)
{
	char key[LAYOUT_KEY_MAX];
	struct layout_key k;

	layout_wal_key("0123456789abcdef", 1, 0x4080, key, sizeof(key));
	T_EQ_STR(key, "generations/0123456789abcdef/wal/00000001_00004080.wal.lz4");
	T_EQ_INT(layout_parse(key, &k), 0);
	T_EQ_INT(k.kind, LAYOUT_WAL);
	T_EQ_INT(k.index, 1);
	T_EQ_INT(k.offset, 0x4080);
	layout_snapshot_key("0123456789abcdef", 0x1f, key, sizeof(key));
	T_EQ_STR(key, "generations/0123456789abcdef/snapshots/0000001f.snapshot.lz4");
	T_EQ_INT(layout_parse(key, &k), 0);
	T_EQ_INT(k.kind, LAYOUT_SNAPSHOT);
	T_EQ_INT(k.index, 0x1f);
	/* 9..16 offset digits are read (Litestream v0.5 writes them). */
	T_EQ_INT(layout_parse("generations/0123456789abcdef/wal/00000001_100000000.wal.lz4", &k), 0);
	T_EQ_INT(k.offset, 0x100000000ULL);
	T_EQ_INT(layout_parse("generations/0123456789abcdef/wal/00000001_0000000000000020.wal.lz4", &k), 0);
	T_EQ_INT(k.offset, 0x20);
	/* Everything else is not ours. */
	T_EQ_INT(layout_parse("generations/0123456789abcdef/wal/00000001_00000000000000020.wal.lz4", &k), -1);
	T_EQ_INT(layout_parse("generations/0123456789ABCDEF/wal/00000001_00000020.wal.lz4", &k), -1);
	T_EQ_INT(layout_parse("generations/0123456789abcdef/wal/0000001_00000020.wal.lz4", &k), -1);
	T_EQ_INT(layout_parse("generations/0123456789abcdef/wal/00000001_00000020.wal.lz4.tmp", &k), -1);
	T_EQ_INT(layout_parse("generations/0123456789abcdef/snapshots/00000001.snapshot.lz4.123.tmp", &k), -1);
	T_EQ_INT(layout_parse("generations/0123456789abcdef/snapshots/7fffffff.snapshot.lz4", &k), -1);
	T_EQ_INT(layout_parse("generations/../../etc/passwd", &k), -1);
	T_EQ_INT(layout_parse("generations/0123456789abcde/wal/00000001_00000020.wal.lz4", &k), -1);
	T_CHECK(layout_gen_valid("0123456789abcdef"));
	T_CHECK(!layout_gen_valid("0123456789abcdeg"));
	T_CHECK(!layout_gen_valid("0123456789abcdef0"));
}

/*
 * Known answers for SQLite's checksum (walChecksumBytes), computed apart
 * (Python struct, '<II' and '>II' words) over bytes (7i + 3) mod 256,
 * whole and at an odd address, so the two byte orders cannot be swapped
 * or mixed without notice; 64 bytes (whole rounds of two pairs) and 72
 * (one pair more).
 */
static void
test_checksum_vectors(void)
{
	uint8_t buf[72 + 1];
	uint32_t s[2];

	for (int off = 0; off <= 1; off++) {
		for (int i = 0; i < 72; i++)
			buf[off + i] = (uint8_t)(i * 7 + 3);
		s[0] = s[1] = 0;
		wal_checksum(0, buf + off, 72, s);
		T_EQ_INT(s[0], 0x7cbe11d4u);
		T_EQ_INT(s[1], 0x4194044cu);
		s[0] = s[1] = 0;
		wal_checksum(1, buf + off, 72, s);
		T_EQ_INT(s[0], 0x26e59fb8u);
		T_EQ_INT(s[1], 0xad5b0128u);
		s[0] = s[1] = 0;
		wal_checksum(0, buf + off, 64, s);
		T_EQ_INT(s[0], 0xd4043b78u);
		T_EQ_INT(s[1], 0xcfe80b99u);
		s[0] = s[1] = 0;
		wal_checksum(1, buf + off, 64, s);
		T_EQ_INT(s[0], 0xbc8c5a64u);
		T_EQ_INT(s[1], 0xa68e737cu);
	}
}

int
main(void)
{
	for (uint32_t ps = 512; ps <= 65536; ps *= 2) {
		test_header(0, ps);
		test_header(1, ps);
	}
	test_sqlite_64k_header();
	test_frames(0);
	test_frames(1);
	test_layout();
	test_checksum_vectors();
	T_EQ_INT(wal_align(4096, 31), 0);
	T_EQ_INT(wal_align(4096, 32 + 4120 * 3 + 100), 32 + 4120 * 3);
	return t_done();
}
