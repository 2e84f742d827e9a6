// strata-supervise PROGRAM [ARG...]
//
// The supervisor every stage command runs under (started by strata through swift-subprocess). It leads its own
// process group, runs PROGRAM in that group with stdin from /dev/null, and exits with PROGRAM's status (128 + signal
// when PROGRAM was killed). Its own stdin is a "lifeline" pipe whose other end only strata holds: when strata dies,
// by any means including SIGKILL, the pipe reports end-of-file and the supervisor kills the whole group, so no stage
// process outlives the repro that started it. SIGTERM, SIGINT and SIGHUP (Ctrl-C, a time limit, cancellation) kill
// the group too. Only async-signal-safe calls run in the signal handler.
#define _GNU_SOURCE
#include "strata_spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void kill_group(int sig) {
    (void)sig;
    kill(0, SIGKILL);
    _exit(137);
}

static int status_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 127;
}

int strata_supervise_main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: strata-supervise PROGRAM [ARG...] (started by strata; its stdin is strata's lifeline)\n");
        return 64;
    }
    setpgid(0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = kill_group;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    pid_t cmd = fork();
    if (cmd < 0) { perror("strata-supervise: fork"); return 127; }
    if (cmd == 0) {
        signal(SIGTERM, SIG_DFL); signal(SIGINT, SIG_DFL); signal(SIGHUP, SIG_DFL); signal(SIGPIPE, SIG_DFL);
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0) _exit(127);
        if (in > 0) close(in);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "strata-supervise: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    // Wait for either the command to end (its pidfd becomes readable) or strata to die (the lifeline ends).
    int pidfd = (int)syscall(SYS_pidfd_open, cmd, 0);
    struct pollfd fds[2] = { { .fd = 0, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
    char buf[256];
    for (;;) {
        int status;
        pid_t done = waitpid(cmd, &status, WNOHANG);
        if (done == cmd) return status_of(status);
        int r = poll(fds, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 200);
        if (r < 0 && errno != EINTR) break;
        if (r > 0 && fds[0].revents) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n <= 0) kill_group(0);   // strata is gone: take the whole group with it
        }
    }
    kill_group(0);
    return 137;
}
