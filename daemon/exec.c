/* SPDX-License-Identifier: MIT */
/*
 * Starting the --exec child (see exec.h).
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <sys/syscall.h>

#include "daemon/exec.h"

pid_t
exec_start(const char *cmd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* Child: undo what the daemon set up for itself.  The loop blocks
	 * the signals it reads from a signalfd and ignores SIGPIPE; an app
	 * expects neither. */
	sigset_t none;

	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Our database, WAL, inotify, epoll and socket descriptors are not
	 * the app's business (and a held WAL fd would confuse its locks). */
	syscall(SYS_close_range, 3U, ~0U, 0U);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

int
exec_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}
