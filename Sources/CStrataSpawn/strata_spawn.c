#define _GNU_SOURCE
#include "strata_spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void kill_group(int sig) {
    (void)sig;
    kill(0, SIGKILL);
    _exit(137);
}

pid_t strata_spawn_supervised(const char *path, char *const argv[], char *const envp[], const char *cwd,
                              int out_fd, int err_fd) {
    pid_t parent = getpid();
    pid_t sup = fork();
    if (sup != 0) {
        if (sup > 0) setpgid(sup, sup); /* also done in the child: whichever runs first */
        return sup;
    }
    /* Supervisor. */
    setpgid(0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = kill_group;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) kill_group(0); /* the parent died before prctl took effect */
    /* Standard streams for the command; every other descriptor of strata (other stages' pipes, the database) is
       closed here, so no pipe stays open longer than its own command. */
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(127);
    syscall(SYS_close_range, 3U, ~0U, 0U);
    pid_t cmd = fork();
    if (cmd < 0) _exit(127);
    if (cmd == 0) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(SIGTERM, &dfl, NULL);
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGHUP, &dfl, NULL);
        sigaction(SIGPIPE, &dfl, NULL);
        if (cwd && chdir(cwd) != 0) _exit(127);
        execve(path, argv, envp);
        _exit(127);
    }
    /* The supervisor keeps none of the command's pipes open, so readers see EOF when the command ends. */
    dup2(0, 1);
    dup2(0, 2);
    int status = 0;
    while (waitpid(cmd, &status, 0) < 0) {
        if (errno != EINTR) _exit(127);
    }
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
    _exit(127);
}

int strata_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
