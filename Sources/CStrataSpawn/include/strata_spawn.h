#ifndef STRATA_SPAWN_H
#define STRATA_SPAWN_H

/// pipe2(fds, O_CLOEXEC): a pipe whose ends no other child inherits (the supervisor's lifeline).
int strata_pipe_cloexec(int fds[2]);

#endif
