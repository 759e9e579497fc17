/* SPDX-License-Identifier: MIT */
/*
 * age keys in their text forms (C2SP age, "The X25519 recipient type"):
 * a recipient is Bech32 with HRP "age" in lower case (age1...), an
 * identity Bech32 with HRP "AGE-SECRET-KEY-" in upper case, each holding
 * 32 bytes.  Identity files are what age-keygen writes.  Secret material
 * is wiped after use and never copied into an error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/age_int.h"
#include "common/bech32.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"

#define RECIPIENT_HRP	"age"
#define IDENTITY_HRP	"AGE-SECRET-KEY-"
#define IDENTITY_FILE_MAX	(64 * 1024)

int
age_recipient_parse(const char *s, unsigned char pk[AGE_KEY_LEN],
    struct lsc_err *err)
{
	char hrp[16];
	unsigned char data[AGE_KEY_LEN + 8];
	size_t n;

	/* A secret key pasted in the wrong place must not reach a log. */
	if (strncasecmp(s, IDENTITY_HRP, strlen(IDENTITY_HRP)) == 0)
		return lsc_seterr(err, LSC_ECONFIG, 0, "a secret key "
		    "(AGE-SECRET-KEY-1...) was given where a recipient belongs: "
		    "give its public key, age1... (age-keygen -y prints it)");
	if (bech32_decode(s, hrp, sizeof(hrp), data, sizeof(data), &n) != 0 ||
	    strcmp(hrp, RECIPIENT_HRP) != 0 || n != AGE_KEY_LEN)
		return lsc_seterr(err, LSC_ECONFIG, 0, "'%.80s' is not an age "
		    "X25519 recipient (age1 and 58 characters, as age-keygen "
		    "prints)", s);
	memcpy(pk, data, AGE_KEY_LEN);
	return LSC_OK;
}

void
age_recipient_format(const unsigned char pk[AGE_KEY_LEN], char *out)
{
	bech32_encode(RECIPIENT_HRP, pk, AGE_KEY_LEN, out,
	    AGE_RECIPIENT_STRLEN + 1);
}

int
age_identity_parse(const char *s, struct age_identity *id,
    struct lsc_err *err)
{
	char hrp[24];
	unsigned char data[AGE_KEY_LEN + 8];
	size_t n = 0;
	int bad = bech32_decode(s, hrp, sizeof(hrp), data, sizeof(data), &n) !=
	    0 || strcmp(hrp, IDENTITY_HRP) != 0 || n != AGE_KEY_LEN;
	int rc;

	if (!bad)
		memcpy(id->secret, data, AGE_KEY_LEN);
	OPENSSL_cleanse(data, sizeof(data));
	if (bad)
		return lsc_seterr(err, LSC_ECONFIG, 0, "not an age X25519 "
		    "identity (AGE-SECRET-KEY-1..., as age-keygen writes)");
	if ((rc = age_x25519_public(id->secret, id->public, err)) != LSC_OK)
		OPENSSL_cleanse(id, sizeof(*id));
	return rc;
}

void
age_identities_release(struct age_identities *ids)
{
	if (ids->v != NULL) {
		OPENSSL_cleanse(ids->v, ids->n * sizeof(*ids->v));
		free(ids->v);
	}
	ids->v = NULL;
	ids->n = 0;
}

/* Read the whole file (checked: regular, private, small) into `buf`. */
static int
read_private(const char *path, char *buf, size_t cap, size_t *len,
    struct lsc_err *err)
{
	struct stat st;
	ssize_t n;
	int fd, rc = LSC_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return lsc_seterr(err, errno == ENOENT ? LSC_ECONFIG : LSC_EIO,
		    errno, "cannot read age identity file '%s': %s", path,
		    strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot stat '%s': %s", path,
		    strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rc = lsc_seterr(err, LSC_ECONFIG, 0, "age identity file '%s' is "
		    "not a regular file", path);
	} else if ((st.st_mode & 077) != 0) {
		/* As a secret in the config: others must not read it. */
		rc = lsc_seterr(err, LSC_ECONFIG, 0, "age identity file '%s' is "
		    "readable by group or others: chmod 600 it", path);
	} else if ((n = read_full(fd, buf, cap)) < 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot read '%s': %s", path,
		    strerror(errno));
	} else if ((size_t)n == cap) {
		rc = lsc_seterr(err, LSC_ECONFIG, 0, "age identity file '%s' is "
		    "larger than %d KiB", path, IDENTITY_FILE_MAX / 1024 - 1);
	} else {
		*len = (size_t)n;
	}
	close(fd);
	return rc;
}

int
age_identity_file_load(const char *path, struct age_identities *out,
    struct lsc_err *err)
{
	char *text = xmalloc(IDENTITY_FILE_MAX);
	struct age_identities ids = { 0 };
	size_t len = 0, pos = 0;
	int rc, lineno = 0;

	rc = read_private(path, text, IDENTITY_FILE_MAX, &len, err);
	while (rc == LSC_OK && pos < len) {
		char *line = text + pos, *lf = memchr(line, '\n', len - pos);
		size_t n = lf != NULL ? (size_t)(lf - line) : len - pos;
		struct age_identity id;
		struct lsc_err e = { 0 };

		pos += n + 1;
		lineno++;
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
		    line[n - 1] == '\r'))
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		line[n] = '\0';
		if (age_identity_parse(line, &id, &e) != LSC_OK) {
			rc = lsc_seterr(err, e.code, 0, "%s:%d: %s", path, lineno,
			    e.msg);
			break;
		}
		ids.v = xreallocarray(ids.v, ids.n + 1, sizeof(*ids.v));
		ids.v[ids.n++] = id;
		OPENSSL_cleanse(&id, sizeof(id));
	}
	if (rc == LSC_OK && ids.n == 0)
		rc = lsc_seterr(err, LSC_ECONFIG, 0, "age identity file '%s' holds "
		    "no AGE-SECRET-KEY-1... line", path);
	OPENSSL_cleanse(text, IDENTITY_FILE_MAX);
	free(text);
	if (rc != LSC_OK) {
		age_identities_release(&ids);
		return rc;
	}
	*out = ids;
	return LSC_OK;
}

static int
cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, AGE_KEY_LEN);
}

void
age_fingerprint(const unsigned char (*pks)[AGE_KEY_LEN], size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char (*sorted)[AGE_KEY_LEN] = xcalloc(n ? n : 1, AGE_KEY_LEN);
	unsigned char md[32];
	unsigned int mdlen = 0;

	memcpy(sorted, pks, n * AGE_KEY_LEN);
	qsort(sorted, n, AGE_KEY_LEN, cmp_key);
	/* SHA-256 cannot fail on memory we own; a zero digest if it did. */
	memset(md, 0, sizeof(md));
	EVP_Digest(sorted, n * AGE_KEY_LEN, md, &mdlen, EVP_sha256(), NULL);
	free(sorted);
	memcpy(out, "age:", 4);
	for (int i = 0; i < 16; i++) {
		out[4 + 2 * i] = hex[md[i] >> 4];
		out[5 + 2 * i] = hex[md[i] & 15];
	}
	out[AGE_FINGERPRINT_LEN] = '\0';
}

int
age_looks_encrypted(const void *data, size_t len)
{
	return len > 0 && *(const unsigned char *)data == AGE_MAGIC[0];
}
