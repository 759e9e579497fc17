/* SPDX-License-Identifier: MIT */
/*
 * Bech32 (BIP 173) as age uses it for its keys: `age1...` recipients and
 * `AGE-SECRET-KEY-1...` identities.  Unlike BIP 173 there is no 90-character
 * limit (C2SP age, "Conventions"); like it, a string is all lower or all
 * upper case, and the checksum is computed over the lower-case form.  The
 * data part is 8-bit bytes packed into 5-bit groups; the decoder refuses
 * padding of 5 bits or more, and padding bits that are not zero, so each
 * byte string has one encoding per case.
 */
#ifndef LSC_BECH32_H
#define LSC_BECH32_H

#include <stddef.h>

/*
 * Decode `s`.  The human-readable part (everything before the last '1')
 * is copied to `hrp` (capacity `hrp_cap`, NUL-terminated) exactly as
 * written, upper case included; the data bytes go to `data` (capacity
 * `data_cap`) and their number to *data_len.  Returns 0, or -1 for mixed
 * case, a character outside the alphabet, a bad checksum, bad padding or
 * output that does not fit; the outputs are then unspecified.
 */
int	bech32_decode(const char *s, char *hrp, size_t hrp_cap,
	    unsigned char *data, size_t data_cap, size_t *data_len);

/*
 * Encode `len` bytes under `hrp` (lower case, or upper case throughout:
 * the result follows the HRP's case) into `out` of capacity `cap`.
 * Returns 0, or -1 when `out` is too small.
 */
int	bech32_encode(const char *hrp, const unsigned char *data, size_t len,
	    char *out, size_t cap);

#endif
