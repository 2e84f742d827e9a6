# Sourced by the scripts that build the shipped (static) binary. Drops the `-lcurl` that FoundationNetworking's
# modules ask the linker for: the binary carries libcurl's functions as lazy stubs (Sources/CStrataCurlLazy), so
# libcurl and the 27 libraries it adds are loaded by the first HTTP request, not by every process (about 5 ms each).
STRATA_RELEASE_FLAGS=(-c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -disable-autolink-library -Xswiftc -Xfrontend -Xswiftc curl)
