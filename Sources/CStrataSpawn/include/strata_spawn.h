#ifndef STRATA_SPAWN_H
#define STRATA_SPAWN_H
#include <sys/types.h>

/// Starts `path argv` under a small supervisor process that leads its own process group and dies, taking the whole
/// group with it, when the calling process dies (even by SIGKILL): the supervisor has PR_SET_PDEATHSIG = SIGTERM,
/// and its SIGTERM handler sends SIGKILL to its group. The command runs in that group with `envp`, in `cwd`, with
/// standard input from /dev/null and standard output and error on `out_fd` and `err_fd`. Returns the supervisor's
/// pid (also the group id), whose exit status is the command's (128 + signal when the command was killed), or -1
/// with errno set. Only async-signal-safe calls run between fork and exec.
pid_t strata_spawn_supervised(const char *path, char *const argv[], char *const envp[], const char *cwd,
                              int out_fd, int err_fd);

/// pipe2(fds, O_CLOEXEC): a pipe whose ends no other child inherits.
int strata_pipe_cloexec(int fds[2]);

#endif
