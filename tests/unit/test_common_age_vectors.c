/* SPDX-License-Identifier: MIT */
/*
 * The age specification's test vectors (C2SP CCTV, tests/data/age-testkit,
 * see its README): every vector is decrypted with its identity, fed both
 * whole and in 7-byte pieces, and must end as it says: "success" with the
 * plaintext's SHA-256, "payload failure" with the SHA-256 of what was
 * released before the failure, or a failure of the header ("header
 * failure", "HMAC failure": LSC_ECORRUPT, an "age header" message) or of
 * the key ("no match": LSC_ECONFIG).  Vectors whose header parses are also
 * written back out by age_header_format, which must give the same text.
 * zlib-compressed vectors are inflated with /usr/bin/python3's zlib.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "t.h"
#include "common/age.h"
#include "common/age_int.h"
#include "common/buf.h"
#include "common/xmalloc.h"

#define PY	"/usr/bin/python3"

/* Find tests/data/age-testkit from the cwd or above the binary. */
static char *
find_dir(void)
{
	char exe[4096], *p;
	ssize_t n;

	if (access("tests/data/age-testkit/x25519", R_OK) == 0)
		return xstrdup("tests/data/age-testkit");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	while ((p = strrchr(exe, '/')) != NULL) {
		char *cand;

		*p = '\0';
		cand = xasprintf("%s/tests/data/age-testkit", exe);
		if (access(cand, R_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

static int
read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char tmp[65536];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(b, tmp, n, NULL);
	fclose(f);
	return 0;
}

/* zlib-inflate bytes [off, end) of `path` through Python's stdlib. */
static int
inflate(const char *path, size_t off, struct buf *out)
{
	char *cmd = xasprintf(PY " -c 'import sys,zlib; d=open(sys.argv[1],"
	    "\"rb\").read()[int(sys.argv[2]):]; sys.stdout.buffer.write("
	    "zlib.decompress(d))' '%s' %zu", path, off);
	FILE *p = popen(cmd, "r");
	char tmp[65536];
	size_t n;
	int rc;

	free(cmd);
	if (p == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), p)) > 0)
		buf_append(out, tmp, n, NULL);
	rc = pclose(p);
	return rc == 0 ? 0 : -1;
}

struct vec {
	char		 expect[32];
	char		 payload[65];	/* hex SHA-256; "" if none */
	char		 identity[128];
	int		 compressed;
	struct buf	 file;		/* the age file */
};

/* Parse the textual header; the age file starts after the empty line. */
static int
load_vec(const char *path, struct vec *v)
{
	struct buf raw;
	size_t pos = 0;
	int rc = -1;

	memset(v, 0, sizeof(*v));
	buf_init(&raw, 1 << 26);
	buf_init(&v->file, 1 << 26);
	if (read_file(path, &raw) != 0)
		goto out;
	for (;;) {
		char *line = (char *)raw.data + pos, *lf;

		if (pos >= raw.len || (lf = memchr(line, '\n', raw.len - pos)) == NULL)
			goto out;
		*lf = '\0';
		pos += (size_t)(lf - line) + 1;
		if (line[0] == '\0')
			break;
		if (strncmp(line, "expect: ", 8) == 0)
			snprintf(v->expect, sizeof(v->expect), "%s", line + 8);
		else if (strncmp(line, "payload: ", 9) == 0)
			snprintf(v->payload, sizeof(v->payload), "%s", line + 9);
		else if (strncmp(line, "identity: ", 10) == 0)
			snprintf(v->identity, sizeof(v->identity), "%s", line + 10);
		else if (strcmp(line, "compressed: zlib") == 0)
			v->compressed = 1;
	}
	if (v->compressed)
		rc = inflate(path, pos, &v->file);
	else
		rc = buf_append(&v->file, raw.data + pos, raw.len - pos, NULL);
out:
	buf_release(&raw);
	return rc;
}

struct hash_sink {
	EVP_MD_CTX	*md;
};

static int
hash_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	(void)err;
	EVP_DigestUpdate(((struct hash_sink *)ctx)->md, data, len);
	return LSC_OK;
}

/* Decrypt `v` in pieces of `step` bytes (0: whole); the hex SHA-256 of
 * the released plaintext goes to `hex`.  Returns the first error code. */
static int
run(const struct vec *v, const struct age_identities *ids, size_t step,
    char hex[65], struct lsc_err *err)
{
	struct hash_sink hs = { EVP_MD_CTX_new() };
	struct ager *r = ager_new(ids, hash_sink, &hs, err);
	unsigned char md[32];
	unsigned int mdlen = 0;
	int rc = LSC_OK;

	EVP_DigestInit_ex(hs.md, EVP_sha256(), NULL);
	for (size_t off = 0; rc == LSC_OK && off < v->file.len;) {
		size_t n = step == 0 || v->file.len - off < step ?
		    v->file.len - off : step;

		rc = ager_feed(r, v->file.data + off, n, err);
		off += n;
	}
	if (rc == LSC_OK)
		rc = ager_finish(r, err);
	ager_free(r);
	EVP_DigestFinal_ex(hs.md, md, &mdlen);
	EVP_MD_CTX_free(hs.md);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return rc;
}

/* The header text of `v->file`: through the LF after "--- ". */
static size_t
header_len(const struct vec *v)
{
	const unsigned char *p = v->file.data;

	for (size_t i = 0; i + 4 <= v->file.len; i++)
		if ((i == 0 || p[i - 1] == '\n') && memcmp(p + i, "--- ", 4) == 0) {
			const unsigned char *lf = memchr(p + i, '\n',
			    v->file.len - i);

			return lf != NULL ? (size_t)(lf - p) + 1 : 0;
		}
	return 0;
}

/* Parse and re-encode the header: the same text, byte for byte. */
static void
check_roundtrip(const char *name, const struct vec *v)
{
	struct age_header h = { 0 };
	struct lsc_err err = { 0 };
	size_t n = header_len(v);
	struct buf out;

	buf_init(&out, AGE_HEADER_MAX);
	T_CHECK(n > 0);
	if (n == 0 || age_header_parse((const char *)v->file.data, n, &h,
	    &err) != LSC_OK) {
		printf("  %s: header does not parse: %s\n", name, err.msg);
		T_CHECK(0);
		return;
	}
	T_EQ_INT(age_header_format(&h, &out, &err), LSC_OK);
	T_EQ_INT(out.len, h.mac_covers);
	T_CHECK(out.len == h.mac_covers &&
	    memcmp(out.data, v->file.data, out.len) == 0);
	age_header_release(&h);
	buf_release(&out);
}

static void
check_vector(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct age_identities ids = { 0 };
	struct lsc_err err = { 0 }, e2 = { 0 };
	struct age_identity id;
	char hex[65], hex2[65];
	struct vec v;
	int rc, rc2, ok;

	if (load_vec(path, &v) != 0) {
		printf("FAIL cannot load vector %s\n", path);
		T_CHECK(0);
		goto out;
	}
	if (v.identity[0] != '\0') {
		T_EQ_INT(age_identity_parse(v.identity, &id, NULL), LSC_OK);
		ids.v = &id;
		ids.n = 1;
	}
	rc = run(&v, &ids, 0, hex, &err);
	rc2 = run(&v, &ids, 7, hex2, &e2);
	/* Piecewise feeding changes nothing. */
	T_EQ_INT(rc, rc2);
	T_EQ_STR(hex, hex2);
	if (strcmp(v.expect, "success") == 0) {
		ok = rc == LSC_OK && strcmp(hex, v.payload) == 0;
		check_roundtrip(name, &v);
	} else if (strcmp(v.expect, "payload failure") == 0) {
		ok = rc == LSC_ECORRUPT && strcmp(hex, v.payload) == 0 &&
		    strstr(err.msg, "age payload") != NULL;
		check_roundtrip(name, &v);
	} else if (strcmp(v.expect, "header failure") == 0) {
		/* Nothing may be released before the header is whole. */
		ok = rc == LSC_ECORRUPT && strstr(err.msg, "age header") != NULL &&
		    strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
		    "a495991b7852b855") == 0;
	} else if (strcmp(v.expect, "HMAC failure") == 0) {
		ok = rc == LSC_ECORRUPT && strstr(err.msg, "MAC does not match");
		check_roundtrip(name, &v);
	} else if (strcmp(v.expect, "no match") == 0) {
		ok = rc == LSC_ECONFIG && strstr(err.msg, "no age identity");
		check_roundtrip(name, &v);
	} else {
		printf("FAIL %s: unknown expectation '%s'\n", name, v.expect);
		ok = 0;
	}
	if (!ok)
		printf("FAIL vector %s: expected %s, got rc=%d \"%s\" "
		    "payload %s\n", name, v.expect, rc, err.msg, hex);
	T_CHECK(ok);
out:
	buf_release(&v.file);
	free(path);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(void)
{
	char *dir = find_dir(), **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (dir == NULL || (d = opendir(dir)) == NULL) {
		printf("FAIL tests/data/age-testkit not found\n");
		T_CHECK(0);
		return t_done();
	}
	if (access(PY, X_OK) != 0) {
		printf("SKIP: %s is missing (zlib-compressed vectors)\n", PY);
		return 77;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	/* All 67 vectors of the checked-in set ran. */
	T_EQ_INT(n, 67);
	for (size_t i = 0; i < n; i++) {
		check_vector(dir, names[i]);
		free(names[i]);
	}
	free(names);
	free(dir);
	return t_done();
}
