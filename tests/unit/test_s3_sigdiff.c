/* SPDX-License-Identifier: MIT */
/*
 * Differential SigV4 test: SIGDIFF_CASES (default 1200) generated requests
 * are built and signed by our client code (s3_prepare: addressing, key
 * and query encoding, headers, signature) and re-signed from their raw
 * parts by botocore (tests/tools/sigv4_diff.py run with /usr/bin/python3,
 * which sees Debian's python3-botocore).  Each case that agrees is one
 * passed check.  Without botocore the test prints "SKIP: ..." and passes
 * nothing.
 *
 * Generated: keys with space + @ $ ~ % ! ' ( ) * = & ? # :, UTF-8, '/'
 * runs; continuation tokens with = / +; session tokens; empty bodies,
 * bodies up to 16 MiB and UNSIGNED-PAYLOAD; path and virtual-hosted
 * style; endpoints with and without (default) ports; many regions; dates
 * from 2000 to 2037.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "s3/s3_int.h"
#include "t.h"

static uint64_t rs = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 2685821657736338717ULL;
}

static size_t
pick(size_t n)
{
	return (size_t)(rnd() % n);
}

static void
hexout(FILE *f, const char *s, size_t n)
{
	if (n == 0) {
		fputc('-', f);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", (unsigned char)s[i]);
}

static void
hexs(FILE *f, const char *s)
{
	hexout(f, s, strlen(s));
}

/* A random string from pieces that have broken other clients' signers. */
static char *
rand_key(int allow_slash)
{
	static const char *const pieces[] = {
		"a", "Z", "9", "-", "_", ".", "~", " ", "+", "@", "$", "%", "!",
		"'", "(", ")", "*", "=", "&", "?", "#", ":", ",", ";", "[", "]",
		"\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80",
		"0000000000000001", "generations/", "wal/", "..", "%20", "%2F",
		"\t", "\"", "<", ">", "^", "`", "{", "|", "}", "\\",
	};
	struct buf b;
	size_t n = 1 + pick(12);

	buf_init(&b, 4096);
	buf_append(&b, "", 0, NULL);
	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[pick(sizeof(pieces) / sizeof(pieces[0]))];

		if (allow_slash && pick(5) == 0)
			p = pick(4) == 0 ? "//" : "/";
		buf_append(&b, p, strlen(p), NULL);
	}
	return (char *)buf_detach(&b, NULL);
}

static char *
rand_token(void)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	size_t n = 8 + pick(120);
	char *s = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = a[pick(sizeof(a) - 1)];
	s[n] = '\0';
	return s;
}

static const char *const regions[] = {
	"us-east-1", "eu-west-1", "ap-southeast-2", "auto", "us-west-004",
	"fr-par", "local",
};
static const char *const endpoints[] = {
	NULL, "http://127.0.0.1:4568", "https://minio.internal:9000",
	"https://s3.example.com:443", "http://Storage.Example.COM:80",
	"https://s3.eu-central-003.backblazeb2.com", "localhost:9443",
	"http://[::1]:9000",
};

/* Body byte i of a generated body: both sides compute it. */
static unsigned char *
gen_body(size_t n, unsigned seed)
{
	unsigned char *b = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 7 + seed) & 0xff);
	return b;
}

static void
emit_case(FILE *f, int id)
{
	struct s3_config cfg;
	struct s3_client *c;
	struct s3_prepared prep;
	struct s3_reqspec spec;
	struct s3_param params[6];
	struct s3_hdr extra[3];
	char *owned[16];
	int nowned = 0;
	const char *method;
	char *key = NULL, *bucket, *ak, *sk, *token = NULL;
	char md5[25], hash[65], range[40], nbuf[16];
	size_t body_len = 0, np = 0, nx = 0;
	unsigned seed = (unsigned)pick(256);
	int unsigned_payload = 0, kind = (int)pick(8);
	time_t now = (time_t)(946684800 + pick(2000000000ULL - 946684800));
	struct lsc_err err = { 0 };
	static const char bchars[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	memset(&cfg, 0, sizeof(cfg));
	bucket = xmalloc(24);
	{
		size_t bl = 3 + pick(18);

		for (size_t i = 0; i < bl; i++)
			bucket[i] = bchars[pick(sizeof(bchars) - 1)];
		if (bl > 4 && pick(3) == 0)
			bucket[1 + pick(bl - 2)] = '-';
		bucket[bl] = '\0';
	}
	ak = rand_token();
	sk = rand_token();
	if (pick(3) == 0)
		token = rand_token();
	cfg.bucket = bucket;
	cfg.region = regions[pick(sizeof(regions) / sizeof(regions[0]))];
	cfg.endpoint = endpoints[pick(sizeof(endpoints) / sizeof(endpoints[0]))];
	cfg.path_style = (int)pick(2);
	cfg.access_key_id = ak;
	cfg.secret_access_key = sk;
	cfg.session_token = token;
	cfg.max_retries = 0;
	c = s3_client_new(&cfg, &err);
	if (c == NULL) {
		printf("cannot make a client: %s\n", err.msg);
		exit(1);
	}

	memset(&spec, 0, sizeof(spec));
	switch (kind) {
	case 0:		/* PutObject */
	case 1:
		method = "PUT";
		key = rand_key(1);
		body_len = pick(10) == 0 ? 0 : pick(4097);
		if (id % 150 == 7)
			body_len = 1024 * 1024 + pick(15 * 1024 * 1024);
		break;
	case 2:		/* GetObject, maybe resumed */
		method = "GET";
		key = rand_key(1);
		if (pick(2)) {
			snprintf(range, sizeof(range), "bytes=%zu-", pick(1 << 30));
			extra[nx++] = (struct s3_hdr){ "range", range };
		}
		break;
	case 3:		/* ListObjectsV2 */
		method = "GET";
		params[np++] = (struct s3_param){ "list-type", "2" };
		params[np++] = (struct s3_param){ "encoding-type", "url" };
		if (pick(4)) {
			owned[nowned] = rand_key(1);
			params[np++] = (struct s3_param){ "prefix", owned[nowned++] };
		}
		if (pick(2)) {
			owned[nowned] = rand_token();
			params[np++] = (struct s3_param){ "continuation-token",
			    owned[nowned++] };
		}
		break;
	case 4:		/* UploadPart */
		method = "PUT";
		key = rand_key(1);
		snprintf(nbuf, sizeof(nbuf), "%zu", 1 + pick(10000));
		owned[nowned] = rand_token();
		params[np++] = (struct s3_param){ "uploadId", owned[nowned++] };
		params[np++] = (struct s3_param){ "partNumber", nbuf };
		body_len = pick(8193);
		break;
	case 5:		/* DeleteObjects or CreateMultipartUpload */
		method = "POST";
		if (pick(2)) {
			params[np++] = (struct s3_param){ "delete", "" };
			body_len = 1 + pick(3000);
		} else {
			key = rand_key(1);
			params[np++] = (struct s3_param){ "uploads", NULL };
		}
		break;
	case 6:		/* HEAD / DELETE with odd query */
		method = pick(2) ? "HEAD" : "DELETE";
		key = rand_key(1);
		if (pick(2)) {
			owned[nowned] = rand_key(1);
			params[np++] = (struct s3_param){ "uploadId", owned[nowned++] };
		}
		break;
	default:	/* anything: random params, unsigned payload */
		method = pick(2) ? "GET" : "PUT";
		key = pick(3) ? rand_key(1) : NULL;
		for (size_t i = 0, n = 1 + pick(4); i < n; i++) {
			owned[nowned] = rand_key(0);
			owned[nowned + 1] = pick(3) ? rand_key(1) : xstrdup("");
			params[np++] = (struct s3_param){ owned[nowned],
			    owned[nowned + 1] };
			nowned += 2;
		}
		if (strcmp(method, "PUT") == 0)
			body_len = pick(2048);
		unsigned_payload = pick(2) == 0;
		if (pick(3) == 0)
			extra[nx++] = (struct s3_hdr){ "x-amz-meta-note",
			    "  two  spaces\tand a tab  " };
		break;
	}
	{
		unsigned char *body = gen_body(body_len, seed);

		s3_sha256_hex(body, body_len, hash);
		if (body_len > 0 && strcmp(method, "GET") != 0) {
			s3_md5_base64(body, body_len, md5);
			extra[nx++] = (struct s3_hdr){ "content-md5", md5 };
		}
		free(body);
	}
	spec.method = method;
	spec.key = key;
	spec.params = params;
	spec.nparams = np;
	spec.extra = extra;
	spec.nextra = nx;
	spec.payload_hash = unsigned_payload ? "UNSIGNED-PAYLOAD" : hash;
	s3_prepare(c, &spec, now, &prep);

	/* id method endpoint path_style bucket key region ak sk token date
	 * body_len seed unsigned extras params url authz payload_hash */
	fprintf(f, "%d\t%s\t", id, method);
	if (cfg.endpoint)
		hexs(f, cfg.endpoint);
	else
		fputc('-', f);
	fprintf(f, "\t%d\t%s\t", c->path_style, bucket);
	if (key)
		hexs(f, key);
	else
		fputc('-', f);
	fprintf(f, "\t%s\t", cfg.region);
	hexs(f, ak);
	fputc('\t', f);
	hexs(f, sk);
	fputc('\t', f);
	if (token)
		hexs(f, token);
	else
		fputc('-', f);
	{
		char d[17];

		s3_amz_date(now, d);
		fprintf(f, "\t%s\t%zu\t%u\t%d\t", d, body_len, seed,
		    unsigned_payload);
	}
	for (size_t i = 0; i < nx; i++) {
		if (i)
			fputc(',', f);
		hexs(f, extra[i].name);
		fputc(':', f);
		hexs(f, extra[i].value);
	}
	if (nx == 0)
		fputc('-', f);
	fputc('\t', f);
	for (size_t i = 0; i < np; i++) {
		if (i)
			fputc(',', f);
		hexs(f, params[i].name);
		fputc(':', f);
		hexs(f, params[i].value ? params[i].value : "");
	}
	if (np == 0)
		fputc('-', f);
	fputc('\t', f);
	hexs(f, prep.url);
	fputc('\t', f);
	for (int i = 0; i < prep.nheaders; i++)
		if (strncmp(prep.headers[i], "Authorization: ", 15) == 0)
			hexs(f, prep.headers[i] + 15);
	fprintf(f, "\t%s\n", spec.payload_hash);

	s3_prepared_release(&prep);
	s3_client_free(c);
	for (int i = 0; i < nowned; i++)
		free(owned[i]);
	free(key);
	free(bucket);
	free(ak);
	free(sk);
	free(token);
}

/* Find tests/tools/sigv4_diff.py from the cwd or above the binary. */
static char *
find_tool(const char *argv0)
{
	char exe[4096], *p;
	ssize_t n;

	if (access("tests/tools/sigv4_diff.py", R_OK) == 0)
		return xstrdup("tests/tools/sigv4_diff.py");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(exe, sizeof(exe), "%s", argv0);
		n = (ssize_t)strlen(exe);
	}
	exe[n] = '\0';
	while ((p = strrchr(exe, '/')) != NULL) {
		char *cand;

		*p = '\0';
		cand = xasprintf("%s/tests/tools/sigv4_diff.py", exe);
		if (access(cand, R_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *py = "/usr/bin/python3";
	int ncases = getenv("SIGDIFF_CASES") ? atoi(getenv("SIGDIFF_CASES")) :
	    1200;
	char tmpl[] = "/tmp/lsc-sigdiff.XXXXXX", line[8192];
	char *tool, *cmd;
	FILE *f, *p;
	int fd, shown = 0, seen = 0;

	(void)argc;
	if (argc > 1 && strcmp(argv[1], "--emit") == 0) {
		for (int i = 0; i < ncases; i++)
			emit_case(stdout, i);
		return 0;
	}
	if (access(py, X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import botocore' 2>/dev/null") != 0) {
		printf("SKIP: /usr/bin/python3 cannot import botocore "
		    "(apt-get install python3-botocore)\n");
		return t_done();
	}
	if ((tool = find_tool(argv[0])) == NULL) {
		printf("FAIL: tests/tools/sigv4_diff.py not found\n");
		return 1;
	}
	fd = mkstemp(tmpl);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		printf("FAIL: cannot create %s\n", tmpl);
		return 1;
	}
	for (int i = 0; i < ncases; i++)
		emit_case(f, i);
	fclose(f);
	cmd = xasprintf("%s %s %s", py, tool, tmpl);
	p = popen(cmd, "r");
	while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
		if (strncmp(line, "OK ", 3) == 0) {
			t_passed++;
			seen++;
		} else if (strncmp(line, "DIFF ", 5) == 0) {
			t_failed++;
			seen++;
			if (shown++ < 10)
				printf("FAIL %s", line);
		} else if (strncmp(line, "SUMMARY", 7) == 0) {
			printf("%s", line);
		} else if (shown++ < 10) {
			printf("oracle: %s", line);
		}
	}
	if (p == NULL || pclose(p) != 0 || seen != ncases) {
		printf("FAIL: the oracle answered %d of %d cases\n", seen, ncases);
		t_failed++;
	}
	unlink(tmpl);
	free(cmd);
	free(tool);
	return t_done();
}
