#define _GNU_SOURCE
#include "strata_spawn.h"
#include <fcntl.h>
#include <unistd.h>

int strata_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
