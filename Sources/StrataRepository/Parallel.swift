import Foundation

/// Runs `body` for every index in `0..<count` on up to `width` threads (the active processors when nil); rethrows the
/// first error. The processor count is read only when there are two items or more: on Linux it reads the cgroup's
/// files, and a no-change status, which hashes nothing, paid 0.5 ms for it.
func parallelForEach(_ count: Int, width: Int? = nil, _ body: @Sendable (Int) throws -> Void) throws {
    if count == 0 { return }
    let state = ParallelState()
    let workers = count == 1 ? 1 : max(1, min(width ?? ProcessInfo.processInfo.activeProcessorCount, count))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while let i = state.next(limit: count) {
            do { try body(i) } catch { state.fail(error); return }
        }
    }
    if let e = state.error { throw e }
}

/// Shared cursor and first error of a parallel loop; `lock` guards both.
final class ParallelState: @unchecked Sendable {
    private let lock = NSLock()
    private var cursor = 0
    private(set) var error: Error?

    func next(limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        if error != nil || cursor >= limit { return nil }
        cursor += 1
        return cursor - 1
    }

    func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}

/// Runs blocking work (storage, SQLite) on a dispatch queue and awaits it, so that it never blocks an event loop or
/// Swift's cooperative pool (two threads on two cores): how the server and the MCP endpoint call the store.
public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue.global(qos: .userInitiated).async { c.resume(with: Result { try body() }) }
    }
}

/// A value guarded by a lock, shared with worker threads.
public final class Locked<Value>: @unchecked Sendable {
    // `lock` guards `value`.
    private let lock = NSLock()
    private var value: Value
    /// Wraps a value.
    public init(_ v: Value) { value = v }
    /// Mutates under the lock.
    public func with<R>(_ body: (inout Value) throws -> R) rethrows -> R { lock.lock(); defer { lock.unlock() }; return try body(&value) }
    /// A copy.
    public var get: Value { lock.lock(); defer { lock.unlock() }; return value }
}
