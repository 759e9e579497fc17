/* SPDX-License-Identifier: MIT */
/* Named crash points: see crashpoint.h.  Compiled to nothing unless
 * LSC_CRASHPOINTS is defined. */
#include "common/crashpoint.h"

#ifdef LSC_CRASHPOINTS
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char armed[64];			/* "" when no point is armed */
static unsigned long target;
static atomic_ulong hits;

static void
parse_env(void)
{
	const char *env = getenv("LSC_CRASHPOINT"), *colon;

	if (env == NULL || (colon = strrchr(env, ':')) == NULL ||
	    (size_t)(colon - env) >= sizeof(armed))
		return;
	memcpy(armed, env, (size_t)(colon - env));
	armed[colon - env] = '\0';
	target = strtoul(colon + 1, NULL, 10);
}

void
crashpoint_hit(const char *name)
{
	char line[128];
	unsigned long n;
	int len;

	pthread_once(&once, parse_env);
	if (armed[0] == '\0' || strcmp(name, armed) != 0)
		return;
	n = atomic_fetch_add(&hits, 1) + 1;
	if (n != target)
		return;
	len = snprintf(line, sizeof(line), "crashpoint %s hit %lu\n", name, n);
	if (write(STDERR_FILENO, line, (size_t)len) < 0) {
		/* nothing to do: we are about to die anyway */
	}
	kill(getpid(), SIGKILL);
	pause();
}
#else
/* ISO C wants something in a translation unit. */
typedef int crashpoint_unused;
#endif
