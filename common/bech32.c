/* SPDX-License-Identifier: MIT */
/* Bech32 (BIP 173) without its length limit: see bech32.h. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "common/bech32.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* BIP 173's checksum: a BCH code over GF(32), fed 5-bit values. */
static uint32_t
polymod_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
	    0x3d4233dd, 0x2a1462b3 };
	uint32_t top = chk >> 25;

	chk = (chk & 0x1ffffff) << 5 ^ v;
	for (int i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

/* The checksum state after the expanded (lower-case) HRP. */
static uint32_t
polymod_hrp(const char *hrp, size_t n)
{
	uint32_t chk = 1;

	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned)tolower((unsigned char)hrp[i]) >> 5);
	chk = polymod_step(chk, 0);
	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned)tolower((unsigned char)hrp[i]) & 31);
	return chk;
}

int
bech32_decode(const char *s, char *hrp, size_t hrp_cap, unsigned char *data,
    size_t data_cap, size_t *data_len)
{
	size_t len = strlen(s), sep, o = 0;
	int lower = 0, upper = 0, bits = 0;
	uint32_t chk, acc = 0;
	const char *p;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126)
			return -1;
		lower |= islower(c) != 0;
		upper |= isupper(c) != 0;
	}
	if (lower && upper)
		return -1;
	if ((p = strrchr(s, '1')) == NULL)
		return -1;
	sep = (size_t)(p - s);
	/* A non-empty HRP and at least the 6 checksum characters. */
	if (sep < 1 || sep + 7 > len || sep >= hrp_cap)
		return -1;
	memcpy(hrp, s, sep);
	hrp[sep] = '\0';
	chk = polymod_hrp(s, sep);
	for (size_t i = sep + 1; i < len; i++) {
		const char *q = strchr(charset, tolower((unsigned char)s[i]));
		unsigned v;

		if (q == NULL)
			return -1;
		v = (unsigned)(q - charset);
		chk = polymod_step(chk, v);
		if (i >= len - 6)
			continue;	/* checksum characters carry no data */
		/* 5-bit groups to bytes. */
		acc = (acc << 5 | v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o == data_cap)
				return -1;
			data[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (chk != 1)
		return -1;
	/* Padding: fewer than 5 bits, all zero. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*data_len = o;
	return 0;
}

int
bech32_encode(const char *hrp, const unsigned char *data, size_t len,
    char *out, size_t cap)
{
	size_t hn = strlen(hrp), o = 0, groups = (len * 8 + 4) / 5;
	int upper = hn > 0 && isupper((unsigned char)hrp[0]);
	uint32_t chk = polymod_hrp(hrp, hn), acc = 0;
	int bits = 0;

	if (hn + 1 + groups + 6 + 1 > cap)
		return -1;
	memcpy(out, hrp, hn);
	o = hn;
	out[o++] = '1';
	for (size_t i = 0; i <= len; i++) {
		if (i < len) {
			acc = (acc << 8 | data[i]) & 0xfff;
			bits += 8;
		} else if (bits > 0) {
			/* Zero padding to a whole group. */
			acc <<= 5 - bits;
			bits = 5;
		}
		while (bits >= 5) {
			unsigned v = (acc >> (bits - 5)) & 31;

			bits -= 5;
			chk = polymod_step(chk, v);
			out[o++] = upper ? (char)toupper((unsigned char)charset[v]) :
			    charset[v];
		}
	}
	for (int i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (int i = 0; i < 6; i++) {
		unsigned v = (chk >> (5 * (5 - i))) & 31;

		out[o++] = upper ? (char)toupper((unsigned char)charset[v]) :
		    charset[v];
	}
	out[o] = '\0';
	return 0;
}
