# Sourced by the scripts that build the shipped (static) binary.
# - Drops the `-lcurl` that FoundationNetworking's modules ask the linker for: the binary carries libcurl's functions
#   as lazy stubs (Sources/CStrataCurlLazy), so libcurl and the 27 libraries it adds are loaded by the first HTTP
#   request, not by every process (about 5 ms each).
# - Links with the toolchain's lld, packing the 133,000 relative relocations of the 170 MB position-independent
#   executable into 26 KB of RELR (glibc 2.36 and later) instead of 3.2 MB of RELA, and exports no symbols
#   (`--no-export-dynamic`): neither the loader nor the runtime's `dladdr` searches a table of 39,000 Swift names.
#   Nothing looks a symbol up in the executable (the lazy libcurl and librdkafka loaders `dlsym` in those libraries'
#   own handles). About 3 ms off every process (Benchmarks/README.md, "Run of 2026-12-02, 05:10–06:40Z").
# - Links the C libraries (libcrypto, libsqlite3, libzstd, libz, libsnappy) and libstdc++ from their static archives,
#   which the -dev packages of dist/install-deps.sh carry: the loader then maps 4 shared objects instead of 10 and
#   resolves none of those libraries' symbols, about 4 ms off every process (Benchmarks/README.md, "Run of
#   2026-12-02, 15:30–16:30Z"). The link searches a folder that holds only those archives before the system's, so
#   every `-lcrypto` (pkg-config) and `-lsnappy` (module map) finds the archive; a library whose archive is missing
#   is linked as before. The pkg-config files that put the folder first are written below `.build/static-link`.
#   libcurl and librdkafka, loaded on first use, keep their own shared copies; nothing crosses between the two.
STRATA_STATIC_LINK="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.build/static-link"
mkdir -p "$STRATA_STATIC_LINK/lib" "$STRATA_STATIC_LINK/pkgconfig"
STRATA_STATIC_LIBS=(crypto sqlite3 zstd z snappy stdc++)
for _lib in "${STRATA_STATIC_LIBS[@]}"; do
  _archive=$(${CC:-cc} -print-file-name="lib$_lib.a" 2>/dev/null || true)
  if [ -f "$_archive" ]; then ln -sf "$_archive" "$STRATA_STATIC_LINK/lib/lib$_lib.a"; else rm -f "$STRATA_STATIC_LINK/lib/lib$_lib.a"; fi
done
for _pc in libcrypto:crypto sqlite3:sqlite3 libzstd:zstd zlib:z; do
  printf 'Name: %s\nDescription: %s, linked from its static archive\nVersion: 0\nLibs: -L%s -l%s\nCflags:\n' \
    "${_pc%%:*}" "${_pc%%:*}" "$STRATA_STATIC_LINK/lib" "${_pc#*:}" > "$STRATA_STATIC_LINK/pkgconfig/${_pc%%:*}.pc"
done
unset _lib _archive _pc
STRATA_RELEASE_FLAGS=(
  -c release --static-swift-stdlib --pkg-config-path "$STRATA_STATIC_LINK/pkgconfig"
  -Xswiftc -Xfrontend -Xswiftc -disable-autolink-library -Xswiftc -Xfrontend -Xswiftc curl
  -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic
)
