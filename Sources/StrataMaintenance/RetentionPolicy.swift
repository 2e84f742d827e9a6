import StrataPlatform
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A length of time written like `36h`, `30d`, `2w`, `1y6m` (years, months, weeks, days, hours; calendar arithmetic).
public struct RetentionDuration: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Years.
    public var years = 0
    /// Months.
    public var months = 0
    /// Weeks.
    public var weeks = 0
    /// Days.
    public var days = 0
    /// Hours.
    public var hours = 0
    /// Minutes.
    public var minutes = 0
    /// Seconds.
    public var seconds = 0

    /// Parses `NyNmNwNdNhNminNs` parts in any order (at least one).
    public init(parsing text: String) throws {
        let s = text.lowercased()
        guard !s.isEmpty else { throw RetentionError.badDuration(text) }
        var i = s.startIndex
        var any = false
        while i < s.endIndex {
            var digits = ""
            while i < s.endIndex, s[i].isNumber { digits.append(s[i]); i = s.index(after: i) }
            var unit = ""
            while i < s.endIndex, s[i].isLetter { unit.append(s[i]); i = s.index(after: i) }
            guard let n = Int(digits) else { throw RetentionError.badDuration(text) }
            switch unit {
            case "y": years += n
            case "m": months += n
            case "w": weeks += n
            case "d": days += n
            case "h": hours += n
            case "min": minutes += n
            case "s": seconds += n
            default: throw RetentionError.badDuration(text)
            }
            any = true
        }
        if !any { throw RetentionError.badDuration(text) }
    }

    /// The instant this long before `date`, in `calendar`.
    public func before(_ date: Date, calendar: Calendar) -> Date {
        var c = DateComponents()
        c.year = -years; c.month = -months; c.day = -(weeks * 7 + days); c.hour = -hours; c.minute = -minutes; c.second = -seconds
        return calendar.date(byAdding: c, to: date) ?? date
    }

    /// Approximate seconds (for grace periods).
    public var approximateSeconds: Int {
        ((((years * 365 + months * 30 + weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60) + seconds
    }

    public var description: String {
        var s = ""
        if years > 0 { s += "\(years)y" }; if months > 0 { s += "\(months)m" }; if weeks > 0 { s += "\(weeks)w" }
        if days > 0 { s += "\(days)d" }; if hours > 0 { s += "\(hours)h" }; if minutes > 0 { s += "\(minutes)min" }
        if seconds > 0 || s.isEmpty { s += "\(seconds)s" }
        return s
    }
}

/// Calendar periods used by count and within rules.
public enum RetentionPeriod: String, Sendable, Codable, CaseIterable {
    case hourly, daily, weekly, monthly, yearly
}

/// A retention policy: rules combined with OR, applied to the first-parent history of matching branches.
public struct RetentionPolicy: Hashable, Sendable, Codable {
    /// Keep the newest N commits.
    public var keepLast: Int?
    /// Keep the newest commit of each of the last N periods that contain commits (-1 = unlimited).
    public var keepPeriods: [RetentionPeriod: Int] = [:]
    /// Keep every commit newer than now minus this.
    public var keepWithin: RetentionDuration?
    /// Keep the newest commit of each period newer than now minus the duration.
    public var keepWithinPeriods: [RetentionPeriod: RetentionDuration] = [:]
    /// Keep commits that carry a tag matching any of these globs.
    public var keepTags: [String] = []
    /// Branch globs the policy applies to (empty = every branch).
    public var branches: [String] = []

    /// Creates an empty policy.
    public init() {}

    /// True when no rule is set (such a policy is refused: it would forget everything).
    public var isEmpty: Bool {
        keepLast == nil && keepPeriods.isEmpty && keepWithin == nil && keepWithinPeriods.isEmpty && keepTags.isEmpty
    }

    /// True when the policy applies to `branch`.
    public func applies(to branch: String) -> Bool {
        branches.isEmpty || branches.contains { Glob.match($0, branch) }
    }

    /// The rules as flags, e.g. `--keep-daily 7 --keep-weekly 4`.
    public var summary: String {
        var parts: [String] = []
        if let n = keepLast { parts.append("--keep-last \(n)") }
        for p in RetentionPeriod.allCases { if let n = keepPeriods[p] { parts.append("--keep-\(p.rawValue) \(n == -1 ? "unlimited" : String(n))") } }
        if let d = keepWithin { parts.append("--keep-within \(d)") }
        for p in RetentionPeriod.allCases { if let d = keepWithinPeriods[p] { parts.append("--keep-within-\(p.rawValue) \(d)") } }
        for t in keepTags { parts.append("--keep-tag \(t)") }
        for b in branches { parts.append("--branch \(b)") }
        return parts.joined(separator: " ")
    }
}

/// Failures of retention and garbage collection.
public enum RetentionError: StrataError {
    /// A duration that does not parse.
    case badDuration(String)
    /// A policy without rules.
    case emptyPolicy
    /// No saved policy of that name.
    case unknownPolicy(String)
    /// An unknown time zone.
    case badTimeZone(String)
    /// Another maintenance command holds the lock.
    case maintenanceLocked(String)
    /// Nothing has been pruned that could be undone.
    case nothingToUndo
    /// A declared retention rule that does not parse.
    case badRule(String, reason: String)

    var parts: (code: String, category: ErrorCategory, message: String, next: String?) {
        switch self {
        case .badDuration(let d): return ("retention.bad-duration", .usage, "'\(d)' is not a duration", "write it like 36h, 30d, 2w or 1y6m")
        case .emptyPolicy:
            return (
                "retention.empty-policy", .usage, "refusing an empty policy: it would forget every commit",
                "give at least one --keep-… rule, or save one with 'strata retention set'"
            )
        case .unknownPolicy(let n): return ("retention.unknown-policy", .usage, "no retention policy named '\(n)'", "see 'strata retention show'")
        case .badTimeZone(let z): return ("retention.bad-time-zone", .usage, "unknown time zone '\(z)'", "use an IANA name such as UTC or Africa/Johannesburg")
        case .maintenanceLocked(let h): return ("maintenance.locked", .locked, "another prune or gc is running (\(h))", "wait for it to finish")
        case .nothingToUndo: return ("retention.nothing-to-undo", .notFound, "nothing to undo: no prune is waiting for gc", nil)
        case .badRule(let r, let why):
            return ("retention.bad-rule", .usage, "retention rule '\(r)': \(why)", "fix the rule in Pipeline.swift or on the command line")
        }
    }

    public var code: String { parts.code }
    public var category: ErrorCategory { parts.category }
    public var message: String { parts.message }
    public var nextStep: String? { parts.next }
}

/// Shell-style glob matching for branch and tag patterns (`*`, `?`, `[...]`; `*` also matches `/`).
public enum Glob {
    /// True when `name` matches `pattern`.
    public static func match(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0  // without FNM_PATHNAME, `*` also matches `/`
    }
}
