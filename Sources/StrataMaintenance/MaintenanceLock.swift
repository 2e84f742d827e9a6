import Foundation
import StrataPlatform

/// The exclusive lock of `prune` and `gc`: an flock on `locks/maintenance.lock` whose text records host, pid and
/// time, refreshed every few seconds while held. An entry left by a holder that died (the flock is free but the
/// text remains) is reported as stale and taken over.
public final class MaintenanceLock: @unchecked Sendable {
    // `lock` is owned here; `timer` is only touched in init and release.
    private let lock: FileLock
    private var timer: DispatchSourceTimer?
    /// The stale holder line taken over, if the previous holder crashed.
    public let staleHolder: String?

    /// Takes the lock or throws `RetentionError.maintenanceLocked` naming the holder.
    public init(storePath: String, refreshSeconds: Int = 10) throws {
        try Posix.makeDirectories(storePath + "/locks")
        let path = storePath + "/locks/maintenance.lock"
        let previous = FileLock.holder(path: path)
        guard let l = try FileLock(path: path, timeout: 0) else { throw RetentionError.maintenanceLocked(previous) }
        lock = l
        staleHolder = (previous.isEmpty || previous == "unknown") ? nil : previous
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        t.schedule(deadline: .now() + .seconds(refreshSeconds), repeating: .seconds(refreshSeconds))
        t.setEventHandler { [lock = l] in lock.refresh() }
        t.resume()
        timer = t
    }

    /// Releases the lock cleanly.
    public func release() {
        timer?.cancel(); timer = nil
        lock.clear()
        lock.unlock()
    }

    deinit { timer?.cancel() }
}
