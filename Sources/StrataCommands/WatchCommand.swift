import ArgumentParser
import Foundation
import StrataRepository
import StrataWorkflows

/// `strata watch`.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Start, stop or show the file-system monitor that lets status look only at what changed.",
        discussion: """
            With core.fsmonitor = true (strata config core.fsmonitor true), status starts the monitor on demand; \
            'strata watch' starts it now. It watches every folder of the workspace with inotify and tells status which \
            paths changed since the last one, so status compares only those. Whenever it cannot vouch for that (it \
            restarted, its event queue overflowed, HEAD moved), status scans everything, as without it. It exits on \
            'strata watch stop', when the workspace folder goes away, or after --idle seconds without a question. \
            STRATA_FSMONITOR=0 makes one command scan without it.
            """)
    enum Action: String, ExpressibleByArgument, CaseIterable { case start, stop, status }

    @OptionGroup var global: GlobalOptions
    @Argument(help: "start (default), stop or status.") var action: Action = .start
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: .hidden) var daemon = false
    @Option(help: ArgumentHelp("Seconds without a question before the monitor exits.", valueName: "s")) var idle = 3600

    struct JSONInfo: Encodable { var version = 1; var running: Bool; var pid: Int32?; var watches: Int?; var tracked: Int?; var overflows: Int? }

    func run() throws {
        let repo = try global.repository()
        if daemon {
            let maxPaths = Int(ProcessInfo.processInfo.environment["STRATA_FSMONITOR_MAX_PATHS"] ?? "") ?? 200_000
            try repo.runMonitor(idle: max(1, idle), maxPaths: max(1, maxPaths))
            return
        }
        switch action {
        case .start:
            guard let info = try MonitorWorkflow.start(repo) else {
                throw ValidationError("the monitor could not start here (the store's path is too long for a socket, or it did not answer)")
            }
            report(info)
        case .stop:
            let stopped = repo.stopMonitor()
            if json { try Out.json(JSONInfo(running: false)) } else if !global.quiet { Out.line(stopped ? "monitor stopped" : "no monitor was running") }
        case .status:
            if let info = repo.monitorInfo() { report(info) } else if json { try Out.json(JSONInfo(running: false)) } else { Out.line("no monitor is running") }
        }
        Out.flush()
    }

    func report(_ info: MonitorInfo) {
        if json {
            try? Out.json(JSONInfo(running: true, pid: info.pid, watches: info.watches, tracked: info.tracked, overflows: info.overflows))
        } else if !global.quiet {
            Out.line("monitor running (pid \(info.pid)): \(info.watches) folders watched, \(info.tracked) changed paths kept, \(info.overflows) overflows")
        }
    }
}
