import Foundation
import Yams
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
        let yml = [
            env["OPENLINEAGE_CONFIG"], workspace + "/openlineage.yml", Posix.currentDirectory() + "/openlineage.yml",
            env["HOME"].map { $0 + "/.openlineage/openlineage.yml" },
        ].compactMap { $0 }
            .first { FileManager.default.fileExists(atPath: $0) }
        if let yml, let text = try? String(contentsOfFile: yml, encoding: .utf8) {
            let t = LineageYAML.parse(text, environment: env)
            switch t["transport.type"] {
            case "http":
                if let url = t["transport.url"] {
                    c.transports.append(
                        .http(
                            url: url, endpoint: t["transport.endpoint"] ?? "api/v1/lineage",
                            apiKey: t["transport.auth.apiKey"] ?? t["transport.auth.api_key"] ?? env["OPENLINEAGE_API_KEY"],
                            timeout: (Double(t["transport.timeout"] ?? "") ?? 5), retries: 5,
                            gzip: t["transport.compression"] == "gzip"))
                }
            case "file":
                c.transports.append(
                    .file(
                        directory: t["transport.log_file_path"].map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? storePath
                            + "/lineage/events"))
            case "console": c.transports.append(.console)
            default: break
            }
        }
        if let url = env["OPENLINEAGE_URL"], !url.isEmpty {
            c.transports.append(
                .http(
                    url: url, endpoint: env["OPENLINEAGE_ENDPOINT"] ?? "api/v1/lineage", apiKey: env["OPENLINEAGE_API_KEY"],
                    timeout: Double(env["OPENLINEAGE_TIMEOUT"] ?? "") ?? 5, retries: 5,
                    gzip: (env["OPENLINEAGE__TRANSPORT__COMPRESSION"] ?? env["OPENLINEAGE_COMPRESSION"]) == "gzip"))
        }
        if c.transports.isEmpty { c.transports = [.file(directory: storePath + "/lineage/events")] }
        return c
    }
}

/// Reads openlineage.yml with Yams into dotted keys (`transport.auth.apiKey`), expanding `${VAR}` references from
/// the environment passed in, as the reference client does. A file that does not parse configures nothing.
enum LineageYAML {
    static func parse(_ text: String, environment env: [String: String]) -> [String: String] {
        guard let doc = try? Yams.load(yaml: text) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ v: Any?, _ prefix: String) {
            switch v {
            case let d as [String: Any]: for (k, x) in d { walk(x, prefix.isEmpty ? k : prefix + "." + k) }
            case let d as [AnyHashable: Any]: for (k, x) in d { walk(x, prefix.isEmpty ? "\(k)" : prefix + ".\(k)") }
            case let s as String: out[prefix] = expand(s, env)
            case let b as Bool: out[prefix] = b ? "true" : "false"
            case let n as Int: out[prefix] = String(n)
            case let n as Double: out[prefix] = String(n)
            case .none: break
            case let other?: out[prefix] = "\(other)"
            }
        }
        walk(doc, "")
        return out
    }

    /// Replaces every `${VAR}` with the variable's value from `env` ("" when unset).
    static func expand(_ s: String, _ env: [String: String]) -> String {
        var out = "", rest = Substring(s)
        while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            out += rest[..<start.lowerBound]
            out += env[String(rest[start.upperBound..<end])] ?? ""
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}
