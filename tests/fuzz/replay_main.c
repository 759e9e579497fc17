/* SPDX-License-Identifier: MIT */
/*
 * Corpus replay without libFuzzer: a main() that feeds every file of a
 * corpus directory to the harness's LLVMFuzzerTestOneInput, so that
 * `make test` (gcc, no clang needed) runs each checked-in input, the
 * regression inputs of past findings among them, through the same
 * harness code the fuzzer runs.  No new inputs are made.
 *
 *	replay_<name> [DIR|FILE...]
 *
 * Without arguments the corpus is FUZZ_CORPUS_ROOT/<name>, <name> being
 * this program's name after "replay_".  A harness reports a broken
 * property by aborting, which kills the run; the line naming the input
 * is printed before each one, so the failure shows which.  Ends with
 * "N passed, N failed" (tests/unit/run.sh reads it): one pass per input.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_CORPUS_ROOT
#define FUZZ_CORPUS_ROOT "tests/fuzz/corpus"
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int passed, failed;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;

	if (fp == NULL) {
		printf("FAIL cannot open '%s': %s\n", path, strerror(errno));
		failed++;
		return;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((data = realloc(data, cap)) == NULL)
				abort();
		}
		n = fread(data + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp)) {
		printf("FAIL cannot read '%s'\n", path);
		failed++;
	} else {
		printf("replay %s (%zu bytes)\n", path, len);
		fflush(stdout);
		/* A copy of exactly `len` bytes, so ASan sees overreads. */
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL)
			abort();
		memcpy(exact, data, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
		passed++;
	}
	free(data);
	fclose(fp);
}

static void
run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (stat(path, &st) != 0) {
		printf("FAIL cannot stat '%s': %s\n", path, strerror(errno));
		failed++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	if ((d = opendir(path)) == NULL) {
		printf("FAIL cannot open '%s': %s\n", path, strerror(errno));
		failed++;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((names = realloc(names, cap * sizeof(*names))) == NULL)
				abort();
		}
		if ((names[n] = malloc(strlen(path) + strlen(de->d_name) + 2)) == NULL)
			abort();
		snprintf(names[n], strlen(path) + strlen(de->d_name) + 2, "%s/%s",
		    path, de->d_name);
		n++;
	}
	closedir(d);
	/* Sorted, so that a run is the same run every time. */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	if (n == 0) {
		printf("FAIL empty corpus '%s'\n", path);
		failed++;
	}
	for (size_t i = 0; i < n; i++) {
		run_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		const char *base = strrchr(argv[0], '/');
		const char *name;
		char dir[4096];

		base = base ? base + 1 : argv[0];
		name = strncmp(base, "replay_", 7) == 0 ? base + 7 : base;
		snprintf(dir, sizeof(dir), "%s/%s", FUZZ_CORPUS_ROOT, name);
		run_path(dir);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
