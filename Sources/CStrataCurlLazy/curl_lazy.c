// libcurl, loaded when the process first makes an HTTP request rather than at every start.
//
// FoundationNetworking (URLSession, used by the S3, HTTP and lineage transports and by the MCP SDK) calls these 23
// libcurl functions. Linked normally, libcurl and the 27 shared libraries it adds (GnuTLS, Kerberos, LDAP, ...) are
// loaded and relocated by every `strata` process: 8.4 ms of wall time on each start, measured on a Swift program that
// only links URLSession (12.7 ms against 5.2 ms with these). Defined here, with hidden visibility, they resolve the
// static FoundationNetworking's references; each looks its function up in libcurl.so.4 on first use, which it
// dlopens then. The release build drops `-lcurl` from the link (`dist/release-flags.sh`); a build that keeps it
// still works and loads libcurl at start, as before. A build that links FoundationNetworking dynamically never
// calls these (libFoundationNetworking.so binds to libcurl itself).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata_curl_lazy.h"

#define HIDDEN __attribute__((visibility("hidden")))

static void *curl_handle;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_load(void) {
    curl_handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!curl_handle) {
        // Exit status 1 (a failure not listed otherwise, docs/reference/exit-codes.md).
        fprintf(stderr,
                "strata: error: an HTTP request needs libcurl (libcurl.so.4), which could not be loaded: %s\n"
                "  next: install it (Debian and Ubuntu: apt-get install libcurl4)\n",
                dlerror());
        exit(1);
    }
}

static void *curl_symbol(const char *name) {
    pthread_once(&curl_once, curl_load);
    void *f = dlsym(curl_handle, name);
    if (!f) {
        fprintf(stderr, "strata: error: libcurl.so.4 lacks %s\n  next: install libcurl 7.62 or later\n", name);
        exit(1);
    }
    return f;
}

// Each function keeps the address it found (a benign race: every thread finds the same one).
#define LAZY(ret, name, params, args)                                                   \
    HIDDEN ret name params {                                                            \
        static ret(*_Atomic real) params;                                               \
        if (!real) real = (ret(*) params)curl_symbol(#name);                            \
        return real args;                                                               \
    }
#define LAZY_VOID(name, params, args)                                                   \
    HIDDEN void name params {                                                           \
        static void(*_Atomic real) params;                                              \
        if (!real) real = (void(*) params)curl_symbol(#name);                           \
        real args;                                                                      \
    }
// The three variadic functions take exactly one argument after the option: a long, a pointer, a function pointer or
// a curl_off_t. All are passed in one integer register on x86-64 and AArch64, so it goes on as one such word.
#define LAZY_OPTION(name)                                                               \
    HIDDEN int name(void *handle, int option, ...) {                                    \
        static int (*_Atomic real)(void *, int, ...);                                   \
        if (!real) real = (int (*)(void *, int, ...))curl_symbol(#name);                \
        va_list ap;                                                                     \
        va_start(ap, option);                                                           \
        void *argument = va_arg(ap, void *);                                            \
        va_end(ap);                                                                     \
        return real(handle, option, argument);                                          \
    }

LAZY(int, curl_global_init, (long flags), (flags))
LAZY(char *, curl_version, (void), ())
LAZY(void *, curl_version_info, (int age), (age))
LAZY(void *, curl_easy_init, (void), ())
LAZY_VOID(curl_easy_cleanup, (void *handle), (handle))
LAZY(int, curl_easy_pause, (void *handle, int mask), (handle, mask))
LAZY(const char *, curl_easy_strerror, (int code), (code))
LAZY_OPTION(curl_easy_setopt)
LAZY_OPTION(curl_easy_getinfo)
LAZY_VOID(curl_free, (void *p), (p))
LAZY(void *, curl_multi_init, (void), ())
LAZY(int, curl_multi_cleanup, (void *multi), (multi))
LAZY_OPTION(curl_multi_setopt)
LAZY(int, curl_multi_add_handle, (void *multi, void *easy), (multi, easy))
LAZY(int, curl_multi_remove_handle, (void *multi, void *easy), (multi, easy))
LAZY(int, curl_multi_assign, (void *multi, int socket, void *p), (multi, socket, p))
LAZY(void *, curl_multi_info_read, (void *multi, int *left), (multi, left))
LAZY(int, curl_multi_socket_action, (void *multi, int socket, int mask, int *running), (multi, socket, mask, running))
LAZY(void *, curl_slist_append, (void *list, const char *s), (list, s))
LAZY_VOID(curl_slist_free_all, (void *list), (list))
LAZY(void *, curl_url, (void), ())
LAZY(int, curl_url_get, (void *url, int what, char **part, unsigned int flags), (url, what, part, flags))
LAZY(int, curl_url_set, (void *url, int what, const char *part, unsigned int flags), (url, what, part, flags))

// The stubs, called as FoundationNetworking calls them, with every kind of argument the variadic three forward: a
// pointer set and read back (CURLOPT_PRIVATE, CURLINFO_PRIVATE), a long (CURLOPT_TIMEOUT, CURLMOPT_MAXCONNECTS), a
// curl_off_t (CURLOPT_MAXFILESIZE_LARGE) and a long read back (CURLINFO_RESPONSE_CODE). The numbers are curl.h's,
// which this file cannot include: its prototypes name curl's own types.
int strata_curl_lazy_round_trip(void) {
    if (curl_global_init(3 /* CURL_GLOBAL_ALL */) != 0) return 1;
    const char *version = curl_version();
    if (!version || strncmp(version, "libcurl/", 8) != 0) return 2;
    void *easy = curl_easy_init();
    if (!easy) return 3;
    static int marker;
    void *back = NULL;
    long code = -1;
    int failed = curl_easy_setopt(easy, 10103 /* CURLOPT_PRIVATE */, (void *)&marker) != 0 ? 4
        : curl_easy_getinfo(easy, 0x100000 + 21 /* CURLINFO_PRIVATE */, &back) != 0 || back != &marker ? 5
        : curl_easy_setopt(easy, 13 /* CURLOPT_TIMEOUT */, 30L) != 0 ? 6
        : curl_easy_setopt(easy, 30117 /* CURLOPT_MAXFILESIZE_LARGE */, (long long)1 << 40) != 0 ? 7
        : curl_easy_getinfo(easy, 0x200000 + 2 /* CURLINFO_RESPONSE_CODE */, &code) != 0 || code != 0 ? 8
        : curl_easy_setopt(easy, 99999 /* no such option */, 0L) == 0 ? 9
        : 0;
    curl_easy_cleanup(easy);
    if (failed) return failed;
    void *multi = curl_multi_init();
    if (!multi) return 10;
    failed = curl_multi_setopt(multi, 6 /* CURLMOPT_MAXCONNECTS */, 8L) != 0 ? 11 : 0;
    curl_multi_cleanup(multi);
    return failed;
}
