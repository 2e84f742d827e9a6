import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Kills a child process that outlives its time limit, so a hung helper or binary fails its test with a message
/// instead of holding the whole suite (and CI) until it is timed out from outside.
public final class Watchdog: @unchecked Sendable {
    /// The limit every child of the tests gets unless a test names another: longer than any step of the suite takes on
    /// a loaded 2-core machine, shorter than what CI can afford to lose.
    public static let defaultLimit: Double = 900

    private let lock = NSLock()
    private var done = false
    private var killed = false
    private let item: DispatchWorkItem?
    /// The limit this watchdog was armed with, in seconds.
    public let seconds: Double

    /// Arms a watchdog over `process`, which must be running: after `seconds` it is sent SIGTERM, and SIGKILL 5 s
    /// later if it is still there. Call `disarm()` once the process has exited.
    public init(_ process: Process, seconds: Double = Watchdog.defaultLimit) {
        self.seconds = seconds
        let pid = process.processIdentifier
        var work: DispatchWorkItem?
        let box = WeakBox()
        work = DispatchWorkItem {
            guard let me = box.watchdog, me.fire() else { return }
            kill(pid, SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) {
                if process.isRunning { kill(pid, SIGKILL) }
            }
        }
        item = work
        box.watchdog = self
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: work!)
    }

    private func fire() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        killed = true
        return true
    }

    /// Stops the watchdog; returns whether it had already killed the process.
    @discardableResult
    public func disarm() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        done = true
        item?.cancel()
        return killed
    }

    /// A line to append to the child's output when the watchdog killed it.
    public var note: String { "\n[killed by the tests' watchdog after \(Int(seconds)) s: the process did not finish]\n" }

    private final class WeakBox: @unchecked Sendable {
        weak var watchdog: Watchdog?
    }
}

extension Process {
    /// Waits for the process to exit, killing it (SIGTERM, then SIGKILL) when it has not exited after `seconds`;
    /// returns false when the watchdog had to kill it.
    @discardableResult
    public func waitUntilExit(within seconds: Double) -> Bool {
        let dog = Watchdog(self, seconds: seconds)
        waitUntilExit()
        return !dog.disarm()
    }
}
