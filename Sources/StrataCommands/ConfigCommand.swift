import ArgumentParser
import StrataRepository

/// `strata config`.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Get, set (KEY VALUE), unset (--unset KEY) or list store settings such as user.name.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Remove KEY.") var unset = false
    @Argument(help: "Setting name.") var key: String?
    @Argument(help: "New value.") var value: String?

    func run() throws {
        let repo = try global.repository()
        guard let key else {
            for (k, v) in try repo.allConfig() { Out.line("\(k)=\(Repository.isSecretSetting(k) ? "<hidden>" : v)") }
            Out.flush(); return
        }
        if unset { try repo.setConfig(key, nil); return }
        if let value { try repo.setConfig(key, value); return }
        guard let v = try repo.config(key) else { throw CommandError(status: 1) }
        if Repository.isSecretSetting(key) { throw ValidationError("'\(key)' is secret and never shown; set a new value with 'strata config \(key) VALUE'") }
        Out.line(v); Out.flush()
    }
}
