import Foundation
import StrataWorkspace

/// An answer of the workspace's file-system monitor (`FSMonitor`).
public typealias MonitorAnswer = FSMonitor.Answer
/// What the workspace's file-system monitor reports about itself.
public typealias MonitorInfo = FSMonitor.Info

extension Repository {
    /// Whether a monitor can serve this store (its socket path fits).
    public var monitorUsable: Bool { FSMonitor.usable(storePath: storePath) }
    /// What changed since `token` (nil: since the monitor started), or nil when no monitor answers.
    public func monitorQuery(since token: String?) -> MonitorAnswer? { FSMonitor.query(storePath: storePath, since: token) }
    /// The monitor's report, or nil when none answers.
    public func monitorInfo() -> MonitorInfo? { FSMonitor.info(storePath: storePath) }
    /// Asks the monitor to exit; true when one answered.
    @discardableResult public func stopMonitor() -> Bool { FSMonitor.stop(storePath: storePath) }
    /// Runs the monitor in this process until it is stopped, the workspace goes away or `idle` seconds pass without
    /// a question (`strata watch --daemon`).
    public func runMonitor(idle: Int, maxPaths: Int) throws { try FSMonitor.runDaemon(root: root, storePath: storePath, maxPaths: maxPaths, idle: idle) }
}
