#ifndef STRATA_KAFKA_H
#define STRATA_KAFKA_H
#include <stddef.h>

/// Produces one message with librdkafka, loaded at run time with dlopen (no build-time dependency on it).
/// `library`: the shared library to load (NULL: "librdkafka.so.1"). `keys`/`values`: `n` producer properties.
/// `flush`: wait up to `timeout_ms` for the delivery report. Returns 0 on success; otherwise writes a message to
/// `err` (never containing property values, which may hold credentials) and returns -1 (library missing or
/// unusable), -2 (configuration refused), -3 (not delivered).
int strata_kafka_produce(const char *library, const char *const *keys, const char *const *values, int n, const char *topic,
                         const char *key, size_t key_len, const char *payload, size_t len, int flush, int timeout_ms,
                         char *err, size_t err_len);

/// The version string of the librdkafka that `library` loads, or NULL when it cannot be loaded.
const char *strata_kafka_version(const char *library);
#endif
