import Foundation

extension RetentionPolicy {
    /// Parses retention rules written as `strata prune` flags (`--keep-last 3`, `--keep-daily=7`, `--keep-within 30d`,
    /// `--keep-tag 'release-*'`, `--branch main`): how a policy declared in Pipeline.swift becomes a policy, for any
    /// client. An unknown flag, a missing value or a bad number is an error naming the rule.
    public init(rules: [String]) throws {
        self.init()
        var words: [String] = []
        for r in rules {
            if r.hasPrefix("--"), let eq = r.firstIndex(of: "=") { words += [String(r[..<eq]), String(r[r.index(after: eq)...])] } else { words.append(r) }
        }
        func count(_ s: String, _ flag: String) throws -> Int {
            if s == "unlimited" || s == "-1" { return -1 }
            guard let n = Int(s), n >= 0 else { throw RetentionError.badRule("\(flag) \(s)", reason: "'\(s)' is not a count; use a number or 'unlimited'") }
            return n
        }
        let periods: [String: RetentionPeriod] = ["hourly": .hourly, "daily": .daily, "weekly": .weekly, "monthly": .monthly, "yearly": .yearly]
        var i = 0
        while i < words.count {
            let flag = words[i]
            guard i + 1 < words.count else { throw RetentionError.badRule(flag, reason: "it needs a value") }
            let value = words[i + 1]
            i += 2
            switch flag {
            case "--keep-last":
                guard let n = Int(value), n >= 0 else { throw RetentionError.badRule("\(flag) \(value)", reason: "'\(value)' is not a count") }
                keepLast = n
            case "--keep-within": keepWithin = try RetentionDuration(parsing: value)
            case "--keep-tag": keepTags.append(value)
            case "--branch": branches.append(value)
            default:
                if flag.hasPrefix("--keep-within-"), let p = periods[String(flag.dropFirst("--keep-within-".count))] {
                    keepWithinPeriods[p] = try RetentionDuration(parsing: value)
                } else if flag.hasPrefix("--keep-"), let p = periods[String(flag.dropFirst("--keep-".count))] {
                    keepPeriods[p] = try count(value, flag)
                } else {
                    throw RetentionError.badRule(flag, reason: "unknown rule; see 'strata prune --help'")
                }
            }
        }
    }
}
