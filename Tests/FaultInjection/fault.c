#define _GNU_SOURCE
#include "strata_fault.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long fail_at = -1;
static int count_write = 1, count_fsync = 1, count_rename = 1;
static long calls = 0;

__attribute__((constructor)) static void fault_init(void) {
    const char *at = getenv("STRATA_FAULT_AT");
    fail_at = at ? atol(at) : 0;
    const char *ops = getenv("STRATA_FAULT_OPS");
    if (ops && *ops) {
        count_write = strstr(ops, "write") != NULL;
        count_fsync = strstr(ops, "fsync") != NULL;
        count_rename = strstr(ops, "rename") != NULL;
    }
}

__attribute__((destructor)) static void fault_report(void) {
    const char *f = getenv("STRATA_FAULT_COUNT_FILE");
    if (!f) return;
    static int (*real_open)(const char *, int, ...) = NULL;
    if (!real_open) real_open = dlsym(RTLD_NEXT, "open");
    int fd = real_open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", __atomic_load_n(&calls, __ATOMIC_SEQ_CST));
    static ssize_t (*real_write)(int, const void *, size_t) = NULL;
    if (!real_write) real_write = dlsym(RTLD_NEXT, "write");
    real_write(fd, buf, (size_t)n);
    close(fd);
}

int strata_fault_calls(void) { return (int)__atomic_load_n(&calls, __ATOMIC_SEQ_CST); }

/// True when this call is the one to fail.
static int should_fail(void) {
    long n = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
    return fail_at > 0 && n == fail_at;
}

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*fsync_fn)(int);
typedef int (*rename_fn)(const char *, const char *);
#define REAL(name, type) static type real_##name = NULL; if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write, write_fn);
    if (fd > 2 && count_write && should_fail()) { errno = EIO; return -1; }
    return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite, pwrite_fn);
    if (fd > 2 && count_write && should_fail()) { errno = EIO; return -1; }
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite64, pwrite_fn);
    if (fd > 2 && count_write && should_fail()) { errno = EIO; return -1; }
    return real_pwrite64(fd, buf, n, off);
}

int fsync(int fd) {
    REAL(fsync, fsync_fn);
    if (count_fsync && should_fail()) { errno = EIO; return -1; }
    return real_fsync(fd);
}

int fdatasync(int fd) {
    REAL(fdatasync, fsync_fn);
    if (count_fsync && should_fail()) { errno = EIO; return -1; }
    return real_fdatasync(fd);
}

int rename(const char *a, const char *b) {
    REAL(rename, rename_fn);
    if (count_rename && should_fail()) { errno = EIO; return -1; }
    return real_rename(a, b);
}
