/* The SHA-256 context of <openssl/sha.h> is used for its state at chunk boundaries (resumable file hashes), which
   the EVP interface does not expose; its functions are deprecated in OpenSSL 3, hence the suppression. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
