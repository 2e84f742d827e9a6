import ArgumentParser
import StrataMaintenance

/// `strata retention`.
struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention", abstract: "Save, show and remove named retention policies that 'strata prune' applies by default.",
        subcommands: [Set.self, Show.self, Rm.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Save policy NAME (replacing one of that name).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Policy name.") var name: String
        @OptionGroup var rules: RetentionRuleOptions
        func run() throws {
            let r = try Retention(repo: try global.repository())
            let p = try rules.policy()
            try r.save(name, p)
            if !global.quiet { Out.line("saved retention policy '\(name)': \(p.summary)"); Out.flush() }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "List saved policies.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        struct JSONPolicy: Encodable { var name: String; var rules: String }
        struct JSONList: Encodable { var version = 1; var policies: [JSONPolicy] }
        func run() throws {
            let list = try Retention(repo: try global.repository()).saved()
            if json { try Out.json(JSONList(policies: list.map { JSONPolicy(name: $0.name, rules: $0.policy.summary) })); return }
            if list.isEmpty { Out.line("no saved retention policies") }
            for (n, p) in list { Out.line("\(n): \(p.summary)") }
            Out.flush()
        }
    }

    struct Rm: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove policy NAME.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Policy name.") var name: String
        func run() throws { try Retention(repo: try global.repository()).remove(name) }
    }
}
