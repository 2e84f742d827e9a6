#ifndef STRATA_CURL_LAZY_H
#define STRATA_CURL_LAZY_H

/// Whether libcurl has been loaded (by the first HTTP request of this process): 1 or 0.
int strata_curl_loaded(void);

#endif
