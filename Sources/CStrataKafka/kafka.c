// librdkafka through dlopen: Strata works without it, and loads it only when a Kafka transport is configured.
// The prototypes below are librdkafka's stable C ABI (rdkafka.h), declared here so no -dev package is needed to build.
#include "strata_kafka.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_topic_s rd_kafka_topic_t;
typedef struct { int err; } strata_rd_kafka_message_head; /* rd_kafka_message_t starts with `rd_kafka_resp_err_t err` */

typedef rd_kafka_conf_t *(*conf_new_f)(void);
typedef int (*conf_set_f)(rd_kafka_conf_t *, const char *, const char *, char *, size_t);
typedef void (*conf_set_dr_msg_cb_f)(rd_kafka_conf_t *, void (*)(rd_kafka_t *, const void *, void *));
typedef void (*conf_set_opaque_f)(rd_kafka_conf_t *, void *);
typedef void (*conf_set_log_cb_f)(rd_kafka_conf_t *, void (*)(const rd_kafka_t *, int, const char *, const char *));
typedef void (*conf_destroy_f)(rd_kafka_conf_t *);
typedef rd_kafka_t *(*new_f)(int, rd_kafka_conf_t *, char *, size_t);
typedef rd_kafka_topic_t *(*topic_new_f)(rd_kafka_t *, const char *, void *);
typedef int (*produce_f)(rd_kafka_topic_t *, int, int, void *, size_t, const void *, size_t, void *);
typedef int (*flush_f)(rd_kafka_t *, int);
typedef int (*poll_f)(rd_kafka_t *, int);
typedef int (*purge_f)(rd_kafka_t *, int);
typedef int (*last_error_f)(void);
typedef const char *(*err2str_f)(int);
typedef void (*topic_destroy_f)(rd_kafka_topic_t *);
typedef void (*destroy_f)(rd_kafka_t *);
typedef const char *(*version_str_f)(void);

static struct {
    void *handle;
    char loaded[4096];
    conf_new_f conf_new;
    conf_set_f conf_set;
    conf_set_dr_msg_cb_f conf_set_dr_msg_cb;
    conf_set_opaque_f conf_set_opaque;
    conf_set_log_cb_f conf_set_log_cb;
    conf_destroy_f conf_destroy;
    new_f new_;
    topic_new_f topic_new;
    produce_f produce;
    flush_f flush;
    poll_f poll;
    purge_f purge;
    last_error_f last_error;
    err2str_f err2str;
    topic_destroy_f topic_destroy;
    destroy_f destroy;
    version_str_f version_str;
} rk;
static pthread_mutex_t rk_lock = PTHREAD_MUTEX_INITIALIZER;

static int load(const char *library, char *err, size_t err_len) {
    const char *lib = library && *library ? library : "librdkafka.so.1";
    if (rk.handle && strcmp(rk.loaded, lib) == 0) return 0;
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, err_len, "librdkafka could not be loaded from '%s' (%s)", lib, dlerror());
        return -1;
    }
#define SYM(field, name)                                                                                   \
    if (!(*(void **)&rk.field = dlsym(h, name))) {                                                          \
        snprintf(err, err_len, "'%s' is not a usable librdkafka (no %s)", lib, name);                     \
        dlclose(h);                                                                                        \
        return -1;                                                                                         \
    }
    SYM(conf_new, "rd_kafka_conf_new")
    SYM(conf_set, "rd_kafka_conf_set")
    SYM(conf_set_dr_msg_cb, "rd_kafka_conf_set_dr_msg_cb")
    SYM(conf_set_opaque, "rd_kafka_conf_set_opaque")
    SYM(conf_set_log_cb, "rd_kafka_conf_set_log_cb")
    SYM(conf_destroy, "rd_kafka_conf_destroy")
    SYM(new_, "rd_kafka_new")
    SYM(topic_new, "rd_kafka_topic_new")
    SYM(produce, "rd_kafka_produce")
    SYM(flush, "rd_kafka_flush")
    SYM(poll, "rd_kafka_poll")
    SYM(purge, "rd_kafka_purge")
    SYM(last_error, "rd_kafka_last_error")
    SYM(err2str, "rd_kafka_err2str")
    SYM(topic_destroy, "rd_kafka_topic_destroy")
    SYM(destroy, "rd_kafka_destroy")
    SYM(version_str, "rd_kafka_version_str")
#undef SYM
    rk.handle = h;
    snprintf(rk.loaded, sizeof rk.loaded, "%s", lib);
    return 0;
}

const char *strata_kafka_version(const char *library) {
    char err[512];
    pthread_mutex_lock(&rk_lock);
    const char *v = load(library, err, sizeof err) == 0 ? rk.version_str() : NULL;
    pthread_mutex_unlock(&rk_lock);
    return v;
}

/* librdkafka's own log lines stay off the user's terminal: the last warning or error is kept for the message. */
static __thread char last_log[300];
static void logged(const rd_kafka_t *k, int level, const char *facility, const char *line) {
    (void)k; (void)facility;
    if (level <= 4 /* LOG_WARNING */) snprintf(last_log, sizeof last_log, "%s", line);
}

/* The delivery report: the message's error code into the int the producer's opaque points at. */
static void delivered(rd_kafka_t *k, const void *message, void *opaque) {
    (void)k;
    if (opaque) *(int *)opaque = ((const strata_rd_kafka_message_head *)message)->err;
}

int strata_kafka_produce(const char *library, const char *const *keys, const char *const *values, int n, const char *topic,
                         const char *key, size_t key_len, const char *payload, size_t len, int flush, int timeout_ms,
                         char *err, size_t err_len) {
    pthread_mutex_lock(&rk_lock);
    int rc = load(library, err, err_len);
    pthread_mutex_unlock(&rk_lock);
    if (rc != 0) return rc;
    char errstr[512];
    int report = -12345; /* no delivery report yet */
    rd_kafka_conf_t *conf = rk.conf_new();
    int has_timeout = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(keys[i], "message.timeout.ms") == 0) has_timeout = 1;
        if (rk.conf_set(conf, keys[i], values[i], errstr, sizeof errstr) != 0) {
            snprintf(err, err_len, "librdkafka refused the property '%s': %s", keys[i], errstr);
            rk.conf_destroy(conf);
            return -2;
        }
    }
    if (!has_timeout && flush) {
        char t[32];
        snprintf(t, sizeof t, "%d", timeout_ms);
        rk.conf_set(conf, "message.timeout.ms", t, errstr, sizeof errstr);
    }
    rk.conf_set_dr_msg_cb(conf, delivered);
    rk.conf_set_log_cb(conf, logged);
    last_log[0] = 0;
    rk.conf_set_opaque(conf, &report);
    rd_kafka_t *producer = rk.new_(0 /* RD_KAFKA_PRODUCER */, conf, errstr, sizeof errstr);
    if (!producer) {
        snprintf(err, err_len, "librdkafka could not create a producer: %s", errstr);
        rk.conf_destroy(conf);
        return -2;
    }
    rd_kafka_topic_t *t = rk.topic_new(producer, topic, NULL);
    rc = 0;
    if (!t) {
        snprintf(err, err_len, "librdkafka could not open topic '%s': %s", topic, rk.err2str(rk.last_error()));
        rc = -3;
    } else if (rk.produce(t, -1 /* RD_KAFKA_PARTITION_UA */, 0x2 /* RD_KAFKA_MSG_F_COPY */, (void *)payload, len, key, key_len, NULL) != 0) {
        snprintf(err, err_len, "librdkafka did not accept the event for topic '%s': %s", topic, rk.err2str(rk.last_error()));
        rc = -3;
    } else {
        /* Without `flush`, still wait for the report before the producer is destroyed (it would drop the message). */
        int waited = rk.flush(producer, timeout_ms);
        if (waited != 0 || report == -12345 || report == -192 /* RD_KAFKA_RESP_ERR__MSG_TIMED_OUT */) {
            rk.purge(producer, 0x1 | 0x2 /* RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT */);
            rk.poll(producer, 0);
            snprintf(err, err_len, "the Kafka broker did not confirm the event within %d ms (topic '%s')%s%s%s", timeout_ms, topic,
                     last_log[0] ? "; librdkafka: " : "", last_log, last_log[0] ? "" : "");
            rc = -3;
        } else if (report != 0) {
            snprintf(err, err_len, "the Kafka broker refused the event for topic '%s': %s", topic, rk.err2str(report));
            rc = -3;
        }
    }
    if (t) rk.topic_destroy(t);
    rk.destroy(producer);
    return rc;
}
