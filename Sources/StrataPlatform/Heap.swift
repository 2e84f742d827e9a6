import CStrataHeap

/// Process-wide settings of the C heap, for commands whose memory profile differs from the default's.
public enum Heap {
    /// The size from which `forTransfers` maps each allocation on its own.
    public static let transferThreshold = 1 << 20

    /// For push, fetch, pull, clone and promote: their download and upload threads each hold ranges and packs of up to a few
    /// MiB for a moment. With glibc's default (a threshold that rises after the first large free), every thread's
    /// heap keeps the pages of its largest moment, which at 10^6 files was 35–50 MB above the live data
    /// (Benchmarks/README.md, "push and clone at 10^6 files"). Allocations of 1 MiB or more are mapped on their own
    /// instead, and returned when freed. Not for the write path: a commit frees large buffers at a rate where the
    /// extra mappings doubled its system time. MALLOC_MMAP_THRESHOLD_ in the environment wins. Returns whether the
    /// setting was applied (never on a C library other than glibc).
    @discardableResult
    public static func forTransfers() -> Bool {
        strata_heap_map_large(transferThreshold) == 1
    }
}
