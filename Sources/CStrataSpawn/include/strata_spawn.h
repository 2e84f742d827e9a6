#ifndef STRATA_SPAWN_H
#define STRATA_SPAWN_H

/// pipe2(fds, O_CLOEXEC): a pipe whose ends no other child inherits (the supervisor's lifeline).
int strata_pipe_cloexec(int fds[2]);

/// The stage supervisor (`strata-supervise PROGRAM [ARG...]`, or `strata __supervise PROGRAM [ARG...]` when the
/// supervisor executable is not installed): leads its own process group, runs PROGRAM in it with stdin from /dev/null,
/// exits with PROGRAM's status (128 + signal when killed), and kills the whole group when its stdin (a lifeline pipe
/// only strata holds) ends or when it gets SIGTERM, SIGINT or SIGHUP. argv[0] is ignored.
int strata_supervise_main(int argc, char **argv);

#endif
