import ArgumentParser
import Foundation
import StrataMaintenance

/// Retention rules shared by `prune` and `retention set`.
struct RetentionRuleOptions: ParsableArguments {
    @Option(help: "Keep the newest N commits.") var keepLast: Int?
    @Option(help: ArgumentHelp("Keep the newest commit of each of the last N hours that have commits ('unlimited' for all).", valueName: "n")) var keepHourly:
        String?
    @Option(help: ArgumentHelp("… of each of the last N days.", valueName: "n")) var keepDaily: String?
    @Option(help: ArgumentHelp("… of each of the last N ISO weeks.", valueName: "n")) var keepWeekly: String?
    @Option(help: ArgumentHelp("… of each of the last N months.", valueName: "n")) var keepMonthly: String?
    @Option(help: ArgumentHelp("… of each of the last N years.", valueName: "n")) var keepYearly: String?
    @Option(help: ArgumentHelp("Keep every commit newer than now minus DURATION (36h, 30d, 2w, 1y6m).", valueName: "duration")) var keepWithin: String?
    @Option(help: ArgumentHelp("Keep the newest commit of each hour within DURATION.", valueName: "duration")) var keepWithinHourly: String?
    @Option(help: ArgumentHelp("Keep the newest commit of each day within DURATION.", valueName: "duration")) var keepWithinDaily: String?
    @Option(help: ArgumentHelp("Keep the newest commit of each week within DURATION.", valueName: "duration")) var keepWithinWeekly: String?
    @Option(help: ArgumentHelp("Keep the newest commit of each month within DURATION.", valueName: "duration")) var keepWithinMonthly: String?
    @Option(help: ArgumentHelp("Keep the newest commit of each year within DURATION.", valueName: "duration")) var keepWithinYearly: String?
    @Option(help: ArgumentHelp("Keep commits with a tag matching PATTERN (repeatable).", valueName: "pattern")) var keepTag: [String] = []
    @Option(help: ArgumentHelp("Apply only to branches matching GLOB (repeatable; default every branch).", valueName: "glob")) var branch: [String] = []

    /// The policy the flags describe (empty when no rule was given).
    func policy() throws -> RetentionPolicy {
        var p = RetentionPolicy()
        p.keepLast = keepLast
        func count(_ s: String?) throws -> Int? {
            guard let s else { return nil }
            if s == "unlimited" || s == "-1" { return -1 }
            guard let n = Int(s), n >= 0 else { throw ValidationError("'\(s)' is not a count; use a number or 'unlimited'") }
            return n
        }
        let counts: [(RetentionPeriod, String?)] = [
            (.hourly, keepHourly), (.daily, keepDaily), (.weekly, keepWeekly), (.monthly, keepMonthly), (.yearly, keepYearly),
        ]
        for (period, v) in counts { if let n = try count(v) { p.keepPeriods[period] = n } }
        if let w = keepWithin { p.keepWithin = try RetentionDuration(parsing: w) }
        let withins: [(RetentionPeriod, String?)] = [
            (.hourly, keepWithinHourly), (.daily, keepWithinDaily), (.weekly, keepWithinWeekly), (.monthly, keepWithinMonthly), (.yearly, keepWithinYearly),
        ]
        for (period, v) in withins { if let v { p.keepWithinPeriods[period] = try RetentionDuration(parsing: v) } }
        p.keepTags = keepTag
        p.branches = branch
        return p
    }
}
