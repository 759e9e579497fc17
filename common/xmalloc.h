/* SPDX-License-Identifier: MIT */
/*
 * Allocation that never returns NULL: on out-of-memory it logs and aborts
 * (systemd restarts the daemon; the shadow WAL keeps the data safe), so no
 * caller has an ENOMEM path to get wrong.
 */
#ifndef LSC_XMALLOC_H
#define LSC_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t n);
void	*xcalloc(size_t nmemb, size_t size);
void	*xrealloc(void *p, size_t n);
void	*xreallocarray(void *p, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
/* The first n bytes of s, or all of it if shorter (strndup(3)). */
char	*xstrndup(const char *s, size_t n);
/* printf into a new string. */
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
