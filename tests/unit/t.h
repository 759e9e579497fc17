/* SPDX-License-Identifier: MIT */
/*
 * A tiny unit-test harness (Redis's testhelp.h in spirit).  Each test
 * binary ends with main() { ...; return t_done(); } and prints the line
 * "N passed, N failed" that CI reads.  A failed check prints where.
 */
#ifndef LSC_T_H
#define LSC_T_H

#include <stdio.h>
#include <string.h>

static int t_passed, t_failed;

#define T_CHECK(cond) do {						\
	if (cond) {							\
		t_passed++;						\
	} else {							\
		t_failed++;						\
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
	}								\
} while (0)

#define T_EQ_INT(a, b) do {						\
	long long t_a_ = (long long)(a), t_b_ = (long long)(b);		\
	if (t_a_ == t_b_) {						\
		t_passed++;						\
	} else {							\
		t_failed++;						\
		printf("FAIL %s:%d: %s == %s (%lld != %lld)\n",		\
		    __FILE__, __LINE__, #a, #b, t_a_, t_b_);		\
	}								\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *t_a_ = (a), *t_b_ = (b);				\
	if (t_a_ != NULL && t_b_ != NULL && strcmp(t_a_, t_b_) == 0) {	\
		t_passed++;						\
	} else {							\
		t_failed++;						\
		printf("FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n",	\
		    __FILE__, __LINE__, #a, #b, t_a_ ? t_a_ : "(null)",	\
		    t_b_ ? t_b_ : "(null)");				\
	}								\
} while (0)

static inline int
t_done(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed == 0 ? 0 : 1;
}

#endif
