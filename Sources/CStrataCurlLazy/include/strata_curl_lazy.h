#ifndef STRATA_CURL_LAZY_H
#define STRATA_CURL_LAZY_H

// This target defines libcurl's functions for the static FoundationNetworking to bind to (curl_lazy.c); the
// `strata` executable links it and no Swift code calls it, except the test below.

/// Calls the stubs with every kind of argument they forward and checks what libcurl gives back: 0 when all is well,
/// else the number of the first check that failed (for the tests).
int strata_curl_lazy_round_trip(void);

#endif
