/* SPDX-License-Identifier: MIT */
/*
 * The age v1 header's text form (C2SP age, "ABNF definition of file
 * header"), parsed and written by hand:
 *
 *	header     = v1-line 1*stanza end
 *	v1-line    = "age-encryption.org/v1" LF
 *	stanza     = arg-line *full-line final-line
 *	arg-line   = "-> " argument *(SP argument) LF     argument = 1*VCHAR
 *	full-line  = 64base64char LF
 *	final-line = *63base64char LF                     (may be empty)
 *	end        = "--- " 43base64char LF
 *
 * A line is recognised by its first three characters.  Base64 is
 * canonical and unpadded (common/base64.h), so the text of a header is
 * determined by its contents: the MAC, computed over the text, then also
 * covers every detail of the encoding.
 */
#include <stdlib.h>
#include <string.h>

#include "common/age_int.h"
#include "common/base64.h"
#include "common/xmalloc.h"

#define HDR_ERR(err, ...) \
	lsc_seterr(err, LSC_ECORRUPT, 0, "age header: " __VA_ARGS__)

void
age_stanza_release(struct age_stanza *s)
{
	for (size_t i = 0; i < s->nargs; i++)
		free(s->args[i]);
	free(s->args);
	free(s->body);
	memset(s, 0, sizeof(*s));
}

void
age_header_release(struct age_header *h)
{
	for (size_t i = 0; i < h->n; i++)
		age_stanza_release(&h->v[i]);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* The next line of `text` from *pos: its start and length without the LF.
 * 0 when no complete line is left. */
static int
next_line(const char *text, size_t len, size_t *pos, const char **line,
    size_t *line_len)
{
	const char *lf;

	if (*pos >= len)
		return 0;
	lf = memchr(text + *pos, '\n', len - *pos);
	if (lf == NULL)
		return 0;
	*line = text + *pos;
	*line_len = (size_t)(lf - *line);
	*pos += *line_len + 1;
	return 1;
}

/* "-> ARG ARG..." into s->args: non-empty arguments of visible ASCII
 * (VCHAR, 0x21-0x7e), separated by exactly one space. */
static int
parse_args(const char *line, size_t n, struct age_stanza *s,
    struct lsc_err *err)
{
	size_t i = 3;

	if (n == 3)
		return HDR_ERR(err, "a stanza has no arguments");
	while (i <= n) {
		size_t start = i;

		while (i < n && line[i] != ' ') {
			if (line[i] < 0x21 || line[i] > 0x7e)
				return HDR_ERR(err, "a stanza argument has a "
				    "byte outside visible ASCII");
			i++;
		}
		if (i == start)
			return HDR_ERR(err, "a stanza has an empty argument");
		s->args = xreallocarray(s->args, s->nargs + 1, sizeof(*s->args));
		s->args[s->nargs++] = xstrndup(line + start, i - start);
		i++;	/* past the space, or past the end */
	}
	return LSC_OK;
}

/* The body lines after an argument line, up to the first short line. */
static int
parse_body(const char *text, size_t len, size_t *pos, struct age_stanza *s,
    struct lsc_err *err)
{
	struct buf b64;
	const char *line;
	size_t n;
	long got;
	int rc = LSC_OK;

	buf_init(&b64, AGE_HEADER_MAX);
	for (;;) {
		if (!next_line(text, len, pos, &line, &n)) {
			rc = HDR_ERR(err, "a stanza body has no final line");
			goto out;
		}
		if (n > AGE_COLUMNS) {
			rc = HDR_ERR(err, "a stanza body line is longer than "
			    "64 columns");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (!b64_is_char((unsigned char)line[i])) {
				rc = HDR_ERR(err, "a stanza body line is not "
				    "base64 (or the body has no final line)");
				goto out;
			}
		if ((rc = buf_append(&b64, line, n, err)) != LSC_OK)
			goto out;
		if (n < AGE_COLUMNS)
			break;
	}
	s->body = xmalloc(b64.len / 4 * 3 + 3);
	got = b64_decode(b64.data != NULL ? (char *)b64.data : "", b64.len,
	    s->body, b64.len / 4 * 3 + 3);
	if (got < 0) {
		rc = HDR_ERR(err, "a stanza body is not canonical base64");
		goto out;
	}
	s->body_len = (size_t)got;
out:
	buf_release(&b64);
	return rc;
}

int
age_header_parse(const char *text, size_t len, struct age_header *out,
    struct lsc_err *err)
{
	struct age_header h = { 0 };
	const char *line;
	size_t n, pos = 0, at;
	int rc;

	if (!next_line(text, len, &pos, &line, &n) ||
	    n < strlen(AGE_MAGIC) || memcmp(line, AGE_MAGIC, strlen(AGE_MAGIC)))
		return HDR_ERR(err, "not an age file");
	if (n != strlen(AGE_VERSION_LINE) ||
	    memcmp(line, AGE_VERSION_LINE, n) != 0)
		return HDR_ERR(err, "unsupported version (only v1 is known)");
	for (;;) {
		at = pos;
		if (!next_line(text, len, &pos, &line, &n)) {
			rc = HDR_ERR(err, "it ends before its MAC line");
			goto fail;
		}
		if (n >= 3 && memcmp(line, "---", 3) == 0)
			break;
		if (n < 3 || memcmp(line, "-> ", 3) != 0) {
			rc = HDR_ERR(err, "a line is neither a stanza nor the MAC");
			goto fail;
		}
		h.v = xreallocarray(h.v, h.n + 1, sizeof(*h.v));
		memset(&h.v[h.n], 0, sizeof(h.v[h.n]));
		h.n++;
		if ((rc = parse_args(line, n, &h.v[h.n - 1], err)) != LSC_OK ||
		    (rc = parse_body(text, len, &pos, &h.v[h.n - 1], err)) != LSC_OK)
			goto fail;
	}
	if (h.n == 0) {
		rc = HDR_ERR(err, "it has no recipient stanza");
		goto fail;
	}
	/* "--- " and exactly 43 canonical base64 characters (32 bytes). */
	if (n != 4 + B64_ENCODED_LEN(AGE_MAC_LEN) || line[3] != ' ' ||
	    b64_decode(line + 4, n - 4, h.mac, sizeof(h.mac)) != AGE_MAC_LEN) {
		rc = HDR_ERR(err, "the MAC line is malformed");
		goto fail;
	}
	if (pos != len) {
		rc = HDR_ERR(err, "text follows the MAC line");
		goto fail;
	}
	h.mac_covers = at + 3;
	*out = h;
	return LSC_OK;
fail:
	age_header_release(&h);
	return rc;
}

int
age_header_format(const struct age_header *h, struct buf *out,
    struct lsc_err *err)
{
	int rc = buf_append(out, AGE_VERSION_LINE "\n",
	    strlen(AGE_VERSION_LINE) + 1, err);

	for (size_t i = 0; rc == LSC_OK && i < h->n; i++) {
		const struct age_stanza *s = &h->v[i];
		char *b64 = xmalloc(B64_ENCODED_LEN(s->body_len) + 1);
		size_t n = b64_encode(s->body, s->body_len, b64), off = 0;

		rc = buf_append(out, "->", 2, err);
		for (size_t a = 0; rc == LSC_OK && a < s->nargs; a++)
			rc = buf_appendf(out, err, " %s", s->args[a]);
		if (rc == LSC_OK)
			rc = buf_append(out, "\n", 1, err);
		/* 64-column lines; the last is shorter, and empty when the
		 * body fills its last line. */
		for (;;) {
			size_t k = n - off < AGE_COLUMNS ? n - off : AGE_COLUMNS;

			if (rc == LSC_OK)
				rc = buf_append(out, b64 + off, k, err);
			if (rc == LSC_OK)
				rc = buf_append(out, "\n", 1, err);
			off += k;
			if (k < AGE_COLUMNS || rc != LSC_OK)
				break;
		}
		free(b64);
	}
	if (rc == LSC_OK)
		rc = buf_append(out, "---", 3, err);
	return rc;
}
