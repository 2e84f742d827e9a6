import Foundation
import StrataPlatform

/// Where events go and how, from the standard OpenLineage client conventions.
public struct LineageConfig: Sendable {
    /// A destination.
    public enum Transport: Sendable, Equatable {
        /// One JSONL file per run in a folder.
        case file(directory: String)
        /// POST to `url` + `endpoint`.
        case http(url: String, endpoint: String, apiKey: String?, timeout: Double, retries: Int, gzip: Bool)
        /// Print events on stderr.
        case console
    }
    /// `OPENLINEAGE_DISABLED=true`: emit nothing (events are still recorded in the store).
    public var disabled = false
    /// Destinations.
    public var transports: [Transport] = []
    /// Job namespace (`OPENLINEAGE_NAMESPACE`, else the store's folder name).
    public var namespace: String
    /// Fail the command when an event cannot be delivered.
    public var requireLineage = false

    /// Reads the environment, then `openlineage.yml` (`OPENLINEAGE_CONFIG`, the working folder, `~/.openlineage/`).
    /// Without any transport configured, events go to files under `.strata/lineage/events/`.
    public static func load(storePath: String, workspace: String, environment env: [String: String] = ProcessInfo.processInfo.environment) -> LineageConfig {
        var c = LineageConfig(namespace: env["OPENLINEAGE_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? URL(fileURLWithPath: workspace).lastPathComponent)
        c.disabled = ["true", "1", "yes"].contains((env["OPENLINEAGE_DISABLED"] ?? "").lowercased())
        c.requireLineage = ["true", "1", "yes"].contains((env["STRATA_REQUIRE_LINEAGE"] ?? "").lowercased())
        let yml = [env["OPENLINEAGE_CONFIG"], workspace + "/openlineage.yml", Posix.currentDirectory() + "/openlineage.yml",
                   env["HOME"].map { $0 + "/.openlineage/openlineage.yml" }].compactMap { $0 }
            .first { FileManager.default.fileExists(atPath: $0) }
        if let yml, let text = try? String(contentsOfFile: yml, encoding: .utf8) {
            let t = YAMLLite.parse(text)
            switch t["transport.type"] {
            case "http":
                if let url = t["transport.url"] {
                    c.transports.append(.http(url: url, endpoint: t["transport.endpoint"] ?? "api/v1/lineage",
                                              apiKey: t["transport.auth.apiKey"] ?? t["transport.auth.api_key"] ?? env["OPENLINEAGE_API_KEY"],
                                              timeout: (Double(t["transport.timeout"] ?? "") ?? 5), retries: 5,
                                              gzip: t["transport.compression"] == "gzip"))
                }
            case "file": c.transports.append(.file(directory: t["transport.log_file_path"].map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? storePath + "/lineage/events"))
            case "console": c.transports.append(.console)
            default: break
            }
        }
        if let url = env["OPENLINEAGE_URL"], !url.isEmpty {
            c.transports.append(.http(url: url, endpoint: env["OPENLINEAGE_ENDPOINT"] ?? "api/v1/lineage", apiKey: env["OPENLINEAGE_API_KEY"],
                                      timeout: Double(env["OPENLINEAGE_TIMEOUT"] ?? "") ?? 5, retries: 5,
                                      gzip: (env["OPENLINEAGE__TRANSPORT__COMPRESSION"] ?? env["OPENLINEAGE_COMPRESSION"]) == "gzip"))
        }
        if c.transports.isEmpty { c.transports = [.file(directory: storePath + "/lineage/events")] }
        return c
    }
}

/// Reads the simple nested `key: value` YAML of an openlineage.yml into dotted keys.
enum YAMLLite {
    static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        var stack: [(indent: Int, key: String)] = []
        for raw in text.split(separator: "\n") {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard line.trimmingCharacters(in: .whitespaces).contains(":") else { continue }
            let indent = line.prefix { $0 == " " }.count
            let body = line.trimmingCharacters(in: .whitespaces)
            let parts = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) : ""
            while let last = stack.last, last.indent >= indent { stack.removeLast() }
            let full = (stack.map(\.key) + [key]).joined(separator: ".")
            if value.isEmpty { stack.append((indent, key)) } else { out[full] = expand(value) }
        }
        return out
    }

    /// `${VAR}` references to the environment, as the reference client allows.
    static func expand(_ v: String) -> String {
        guard v.hasPrefix("${"), v.hasSuffix("}") else { return v }
        return ProcessInfo.processInfo.environment[String(v.dropFirst(2).dropLast())] ?? ""
    }
}
