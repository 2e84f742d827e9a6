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
    /// A timer, not a work item: cancelling it releases its handler at once, where a cancelled `asyncAfter` item
    /// would hold what it captured until its deadline (a finished process and its pipes, for 15 minutes).
    private let timer: DispatchSourceTimer
    /// The limit this watchdog was armed with, in seconds.
    public let seconds: Double

    /// Arms a watchdog over `process`, which must be running: after `seconds` it is sent SIGTERM, and SIGKILL 5 s
    /// later if it is still there (children of the tests inherit a blocked SIGTERM). Keep the watchdog until the
    /// process has exited, then call `disarm()`; one that is let go is disarmed.
    public init(_ process: Process, seconds: Double = Watchdog.defaultLimit) {
        self.seconds = seconds
        let pid = process.processIdentifier
        timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + seconds)
        timer.setEventHandler { [weak self] in
            guard let self, self.fire() else { return }
            kill(pid, SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [weak self] in
                if let self, self.armed { kill(pid, SIGKILL) }
            }
        }
        timer.resume()
    }

    deinit { timer.cancel() }

    private var armed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !done
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
        timer.cancel()
        return killed
    }

    /// A line to append to the child's output when the watchdog killed it.
    public var note: String { "\n[killed by the tests' watchdog after \(Int(seconds)) s: the process did not finish]\n" }
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

extension Process {
    /// Starts the process, reads `output` (a pipe it writes to) to its end and waits for it, under a watchdog of
    /// `seconds`: what it wrote, and the watchdog's note when it had to kill it (empty otherwise).
    public func runToEnd(reading output: Pipe, within seconds: Double = Watchdog.defaultLimit) throws -> (data: Data, note: String) {
        try run()
        let dog = Watchdog(self, seconds: seconds)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        waitUntilExit()
        return (data, dog.disarm() ? dog.note : "")
    }
}
