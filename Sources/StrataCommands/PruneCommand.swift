import ArgumentParser
import Foundation
import StrataMaintenance
import StrataModel
import StrataWorkflows
import StrataRepository

/// `strata prune`.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Forget old commits' data under a retention policy (their history stays); gc then reclaims the space.",
        discussion: """
            Rules combine with OR. Without rules, the saved policies ('strata retention set') apply. Branch heads, tags, HEAD \
            and commits only the reflog still reaches are always kept. Every commit is listed with keep or forget and the \
            reasons. 'strata prune --undo' restores what gc has not swept yet. See docs/runbooks/retention.md.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var rules: RetentionRuleOptions
    @Option(help: ArgumentHelp("Evaluate windows from this instant instead of now (ISO-8601).", valueName: "iso-8601")) var now: String?
    @Option(help: "Time zone in which days, weeks, months and years are cut (IANA name).") var timeZone = "UTC"
    @Option(help: "Reflog entries older than this protect nothing.") var reflogExpire = "90d"
    @Flag(help: "Show the plan; forget nothing.") var dryRun = false
    @Flag(help: "Restore every commit forgotten by prunes that gc has not swept yet.") var undo = false
    @Flag(help: "Print JSON.") var json = false
    @Option(help: ArgumentHelp("Apply the policy to this remote's branches and tags instead ('strata gc --remote' reclaims).", valueName: "name"))
    var remote: String?

    struct JSONDecision: Encodable { var commit: String; var time: String; var action: String; var reasons: [String]; var branches: [String] }
    struct JSONPrune: Encodable {
        var version = 1
        var dry_run: Bool; var prune_id: Int64?; var kept: Int; var forgotten: Int; var policies: [String]; var commits: [JSONDecision]
    }

    func run() throws {
        let repo = try global.repository()
        let retention = try Retention(repo: repo)
        if undo {
            let (p, c) = try repo.undoPrunes()
            if p == 0 { throw RetentionError.nothingToUndo }
            if !global.quiet { Out.line("Undid \(p) prune(s): \(c) commit(s) have their data back"); Out.flush() }
            return
        }
        let policy = try rules.policy()
        var instant = Date()
        if let now {
            guard let (t, _) = Format.parseDate(now) else { throw ValidationError("--now '\(now)' is not ISO-8601") }
            instant = Date(timeIntervalSince1970: TimeInterval(t))
        }
        guard let tz = TimeZone(identifier: timeZone) else { throw RetentionError.badTimeZone(timeZone) }
        if let remote {
            let r = try RemoteRetentionWorkflow.prune(
                repo, remote: remote, rules: policy.isEmpty ? nil : policy, now: instant, timeZone: tz, dryRun: dryRun)
            let forgotten = r.plan.decisions.filter { !$0.keep }
            if json {
                try Out.json(
                    JSONPrune(
                        dry_run: dryRun, prune_id: nil, kept: r.plan.decisions.count - forgotten.count, forgotten: forgotten.count,
                        policies: r.policies.map(\.summary),
                        commits: r.plan.decisions.map {
                            JSONDecision(
                                commit: $0.id.hex, time: Format.date($0.time), action: $0.keep ? "keep" : "forget", reasons: $0.reasons,
                                branches: $0.branches)
                        }))
                return
            }
            if !global.quiet {
                for d in r.plan.decisions {
                    let mark = r.alreadyPruned.contains(d.id) && !d.keep ? " (already pruned)" : ""
                    Out.line(
                        "\(d.keep ? "keep  " : "forget") \(d.id.short) \(Format.date(d.time))  \(d.keep ? d.reasons.joined(separator: "; ") : "no rule keeps it")\(mark)"
                    )
                }
            }
            Out.line(
                "remote \(remote): \(r.plan.decisions.count - forgotten.count) kept, \(dryRun ? "would forget" : "forgot") \(forgotten.count)\(r.record.map { " (record \($0.prefix(12))); run 'strata gc --remote \(remote)' to reclaim space" } ?? "")"
            )
            Out.flush()
            return
        }
        let (result, warnings) = try PruneWorkflow.prune(
            repo, rules: policy.isEmpty ? nil : policy, now: instant, timeZone: tz,
            reflogExpire: try RetentionDuration(parsing: reflogExpire), dryRun: dryRun)
        if !(global.quiet || json) { for w in warnings { Out.err("strata: warning: \(w)") } }
        let decisions = result.plan.decisions
        let forgotten = decisions.filter { !$0.keep }
        if json {
            try Out.json(
                JSONPrune(
                    dry_run: dryRun, prune_id: result.record?.id, kept: decisions.count - forgotten.count, forgotten: forgotten.count,
                    policies: result.policies.map(\.summary),
                    commits: decisions.map {
                        JSONDecision(
                            commit: $0.id.hex, time: Format.date($0.time), action: $0.keep ? "keep" : "forget",
                            reasons: $0.reasons, branches: $0.branches)
                    }))
            return
        }
        if !global.quiet {
            for d in decisions {
                let mark = result.alreadyPruned.contains(d.id) && !d.keep ? " (already pruned)" : ""
                Out.line(
                    "\(d.keep ? "keep  " : "forget") \(d.id.short) \(Format.date(d.time)) \(d.branches.joined(separator: ","))  \(d.keep ? d.reasons.joined(separator: "; ") : "no rule keeps it")\(mark)"
                )
            }
        }
        let verb = dryRun ? "would forget" : "forgot"
        Out.line(
            "\(decisions.count - forgotten.count) kept, \(verb) \(forgotten.count)\(result.record.map { " (prune #\($0.id)); run 'strata gc' to reclaim space, 'strata prune --undo' to revert" } ?? "")"
        )
        Out.flush()
    }
}
