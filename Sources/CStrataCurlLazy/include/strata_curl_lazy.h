#ifndef STRATA_CURL_LAZY_H
#define STRATA_CURL_LAZY_H

// Nothing to call: this target only defines libcurl's functions for the static FoundationNetworking to bind to
// (curl_lazy.c). Swift code never imports it; the `strata` executable links it.

#endif
