# Sourced by the scripts that build the shipped (static) binary.
# - Drops the `-lcurl` that FoundationNetworking's modules ask the linker for: the binary carries libcurl's functions
#   as lazy stubs (Sources/CStrataCurlLazy), so libcurl and the 27 libraries it adds are loaded by the first HTTP
#   request, not by every process (about 5 ms each).
# - Links a position-dependent executable (gold's `-no-pie`, which overrides the driver's `-pie`) that exports no symbols (`--no-export-dynamic`): the loader
#   then applies none of the 133,000 relative relocations of a 170 MB PIE, and neither it nor the runtime's `dladdr`
#   searches a dynamic symbol table of 39,000 names. Together about 4-6 ms off every process (Benchmarks/README.md,
#   "Run of 2026-12-02, 05:30Z"). Nothing looks symbols up in the executable: the lazy libcurl stubs `dlsym` in
#   libcurl's own handle.
STRATA_RELEASE_FLAGS=(
  -c release --static-swift-stdlib
  -Xswiftc -Xfrontend -Xswiftc -disable-autolink-library -Xswiftc -Xfrontend -Xswiftc curl
  -Xlinker -no-pie -Xlinker --no-export-dynamic
)
