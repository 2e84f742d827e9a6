# Sourced by the scripts that build the shipped (static) binary.
# - Drops the `-lcurl` that FoundationNetworking's modules ask the linker for: the binary carries libcurl's functions
#   as lazy stubs (Sources/CStrataCurlLazy), so libcurl and the 27 libraries it adds are loaded by the first HTTP
#   request, not by every process (about 5 ms each).
# - Links with the toolchain's lld, packing the 133,000 relative relocations of the 170 MB position-independent
#   executable into 26 KB of RELR (glibc 2.36 and later) instead of 3.2 MB of RELA, and exports no symbols
#   (`--no-export-dynamic`): neither the loader nor the runtime's `dladdr` searches a table of 39,000 Swift names.
#   Nothing looks a symbol up in the executable (the lazy libcurl and librdkafka loaders `dlsym` in those libraries'
#   own handles). About 3 ms off every process (Benchmarks/README.md, "Run of 2026-12-02, 05:10–06:40Z").
STRATA_RELEASE_FLAGS=(
  -c release --static-swift-stdlib
  -Xswiftc -Xfrontend -Xswiftc -disable-autolink-library -Xswiftc -Xfrontend -Xswiftc curl
  -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic
)
