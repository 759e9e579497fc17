/* SPDX-License-Identifier: MIT */
/*
 * Named crash points, the SQLite way, for recovery tests (issue 11).
 *
 * In a build with -DLSC_CRASHPOINTS (make builds one as
 * build/crash/litestream-c; the shipped binary has none),
 * LSC_CRASHPOINT=name:N kills the process with SIGKILL the N-th time the
 * point `name` is reached, after one line on stderr:
 *
 *	crashpoint <name> hit <N>
 *
 * SIGKILL is a kill -9 at that instant: no cleanup, no final sync, no
 * buffered output.  A test loops N = 1, 2, ... over every point until a
 * run ends without the crash (the point is reached fewer than N times).
 *
 * Points (grep CRASHPOINT for where): capture.batch, capture.carry,
 * newgen.before-name, ship.after-put, upload.chunk, snapshot.after-put,
 * fs.after-rename, file.after-rename, multipart.after-part,
 * checkpoint.handoff, checkpoint.locked, checkpoint.after-reset.
 */
#ifndef LSC_CRASHPOINT_H
#define LSC_CRASHPOINT_H

#ifdef LSC_CRASHPOINTS
void	crashpoint_hit(const char *name);
#define CRASHPOINT(name)	crashpoint_hit(name)
#else
#define CRASHPOINT(name)	((void)0)
#endif

#endif
