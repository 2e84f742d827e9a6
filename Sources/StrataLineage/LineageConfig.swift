import Foundation
import StrataPlatform
import Yams

/// Where events go and how, configured as the OpenLineage Python client is configured (docs/reference/lineage.md).
public struct LineageConfig: Sendable {
    /// A destination.
    public indirect enum Transport: Sendable, Equatable {
        /// Strata's default: one JSONL file per run in a folder (`.strata/lineage/events/`).
        case runFiles(directory: String)
        /// The client's `file` transport: every event appended to `path` (`append: true`), or each event written to
        /// its own `path-YYYYMMDD-HHMMSS.ffffff.json` file (`append: false`, the default).
        case file(path: String, append: Bool)
        /// POST to `url` + `endpoint`.
        case http(url: String, endpoint: String, apiKey: String?, timeout: Double, retries: Int, gzip: Bool)
        /// Print events on stderr.
        case console
        /// Produce each event to a Kafka topic through librdkafka (loaded at run time).
        case kafka(KafkaSettings)
        /// Several transports; with `continueOnFailure` (the default) a failing one does not stop the others.
        case composite([Transport], continueOnFailure: Bool)
        /// Accept and drop every event.
        case noop
    }

    /// The client's `kafka` transport settings.
    public struct KafkaSettings: Sendable, Equatable {
        /// `topic` (Python) or `topicName` (Java).
        public var topic: String
        /// librdkafka producer properties (`config` in Python, `properties` in Java); `bootstrap.servers` is required.
        public var properties: [String: String]
        /// A fixed message key; nil: the client's default (`run:{parent job}` or `run:{job}`).
        public var messageKey: String?
        /// Wait for delivery after each event (default true).
        public var flush: Bool
    }

    /// `OPENLINEAGE_DISABLED=true`: nothing is produced at all (no events, no runs recorded).
    public var disabled = false
    /// Destinations.
    public var transports: [Transport] = []
    /// Job namespace (`OPENLINEAGE_NAMESPACE`, else the store's folder name).
    public var namespace: String
    /// Fail the command when an event cannot be delivered.
    public var requireLineage = false
    /// Where the transport came from (`openlineage.yml at PATH`, `OPENLINEAGE__* variables`, `OPENLINEAGE_URL`,
    /// `default`), for messages.
    public var source = "default"

    /// Resolves the transport with the client's precedence: the config file (`$OPENLINEAGE_CONFIG`, then
    /// `openlineage.yml` in the workspace or the working folder, then `~/.openlineage/openlineage.yml`), else the
    /// `OPENLINEAGE__*` variables, else `OPENLINEAGE_URL` (+ `OPENLINEAGE_ENDPOINT`, `OPENLINEAGE_API_KEY`); the first
    /// source found is the only one used. Without any, events go to files under `.strata/lineage/events/`.
    /// An unknown or incomplete transport is an error, never a silent fallback.
    public static func load(storePath: String, workspace: String, environment env: [String: String] = ProcessInfo.processInfo.environment) throws
        -> LineageConfig
    {
        var c = LineageConfig(namespace: env["OPENLINEAGE_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? URL(fileURLWithPath: workspace).lastPathComponent)
        c.disabled = ["true", "1", "yes"].contains((env["OPENLINEAGE_DISABLED"] ?? "").lowercased())
        c.requireLineage = ["true", "1", "yes"].contains((env["STRATA_REQUIRE_LINEAGE"] ?? "").lowercased())
        if c.disabled { return c }
        let explicit = env["OPENLINEAGE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        if let explicit, !FileManager.default.fileExists(atPath: explicit) {
            throw LineageError.badConfig("OPENLINEAGE_CONFIG names '\(explicit)', which does not exist")
        }
        let yml = [
            explicit, workspace + "/openlineage.yml", Posix.currentDirectory() + "/openlineage.yml", env["HOME"].map { $0 + "/.openlineage/openlineage.yml" },
        ]
        .compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0) }
        let structured = LineageEnv.structured(env)
        let url = env["OPENLINEAGE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let yml {
            guard let text = try? String(contentsOfFile: yml, encoding: .utf8), let doc = try? Yams.load(yaml: text) else {
                throw LineageError.badConfig("\(yml) is not valid YAML")
            }
            let d = LineageYAML.normalise(doc, environment: env) as? [String: Any] ?? [:]
            guard let t = d["transport"] as? [String: Any] else { throw LineageError.badConfig("\(yml) has no `transport` section") }
            c.transports = [try parse(t, where: yml, storePath: storePath, env: env)]
            c.source = "openlineage.yml at \(yml)"
        } else if var t = structured["transport"] as? [String: Any] {
            // Structured variables without a type complete the legacy URL settings (e.g. compression), as the
            // client merges them into its default HTTP transport.
            if t["type"] == nil, let url {
                t["type"] = "http"; t["url"] = t["url"] ?? url
                t["endpoint"] = t["endpoint"] ?? env["OPENLINEAGE_ENDPOINT"]
                if t["auth"] == nil, let key = env["OPENLINEAGE_API_KEY"] { t["auth"] = ["type": "api_key", "apiKey": key] }
            }
            c.transports = [try parse(t, where: "OPENLINEAGE__TRANSPORT", storePath: storePath, env: env)]
            c.source = "OPENLINEAGE__* variables"
        } else if let url {
            c.transports = [
                .http(
                    url: url, endpoint: env["OPENLINEAGE_ENDPOINT"] ?? "api/v1/lineage", apiKey: env["OPENLINEAGE_API_KEY"],
                    timeout: Double(env["OPENLINEAGE_TIMEOUT"] ?? "") ?? 5, retries: 5, gzip: env["OPENLINEAGE_COMPRESSION"] == "gzip")
            ]
            c.source = "OPENLINEAGE_URL"
        } else {
            c.transports = [.runFiles(directory: storePath + "/lineage/events")]
        }
        return c
    }

    static func string(_ v: Any?) -> String? {
        switch v {
        case let s as String: return s
        case let b as Bool: return b ? "true" : "false"
        case let n as Int: return String(n)
        case let n as Double: return String(n)
        default: return nil
        }
    }

    static func bool(_ v: Any?, default d: Bool) -> Bool {
        guard let s = string(v) else { return d }
        return ["true", "1", "yes"].contains(s.lowercased())
    }

    /// One transport from its configuration (recursive for `composite`).
    static func parse(_ t: [String: Any], where source: String, storePath: String, env: [String: String]) throws -> Transport {
        let type = string(t["type"])?.lowercased() ?? ""
        switch type {
        case "http":
            guard let url = string(t["url"]), !url.isEmpty else { throw LineageError.badConfig("\(source): the http transport needs `url`") }
            let auth = t["auth"] as? [String: Any] ?? [:]
            let key = string(auth["apiKey"]) ?? string(auth["api_key"]) ?? string(auth["apikey"]) ?? env["OPENLINEAGE_API_KEY"]
            return .http(
                url: url, endpoint: string(t["endpoint"]) ?? "api/v1/lineage", apiKey: key, timeout: Double(string(t["timeout"]) ?? "") ?? 5,
                retries: 5, gzip: string(t["compression"])?.lowercased() == "gzip")
        case "file":
            guard let path = string(t["log_file_path"]) ?? string(t["logFilePath"]), !path.isEmpty else {
                throw LineageError.badConfig("\(source): the file transport needs `log_file_path`")
            }
            return .file(path: path, append: bool(t["append"], default: false))
        case "console": return .console
        case "noop": return .noop
        case "kafka":
            guard let topic = string(t["topic"]) ?? string(t["topicName"]), !topic.isEmpty else {
                throw LineageError.badConfig("\(source): the kafka transport needs `topic` (or `topicName`)")
            }
            let raw = (t["config"] as? [String: Any]) ?? (t["properties"] as? [String: Any]) ?? [:]
            var props: [String: String] = [:]
            for (k, v) in raw { if let s = string(v) { props[k] = s } }
            guard props["bootstrap.servers"] != nil else {
                throw LineageError.badConfig("\(source): the kafka transport needs `config: {bootstrap.servers: HOST:PORT}`")
            }
            return .kafka(
                KafkaSettings(
                    topic: topic, properties: props, messageKey: string(t["messageKey"]) ?? string(t["message_key"]), flush: bool(t["flush"], default: true)))
        case "composite":
            var members: [[String: Any]] = []
            if let list = t["transports"] as? [Any] {
                members = list.compactMap { $0 as? [String: Any] }
            } else if let named = t["transports"] as? [String: Any] {
                members = named.sorted { $0.key < $1.key }.compactMap { $0.value as? [String: Any] }
            }
            if members.isEmpty { throw LineageError.badConfig("\(source): the composite transport needs a list of `transports`") }
            return .composite(
                try members.map { try parse($0, where: source, storePath: storePath, env: env) },
                continueOnFailure: bool(t["continue_on_failure"] ?? t["continueOnFailure"], default: true))
        case "":
            throw LineageError.badConfig("\(source): the transport has no `type` (http, file, console, kafka, composite or noop)")
        default:
            throw LineageError.badConfig("\(source): unknown transport type '\(type)' (http, file, console, kafka, composite or noop)")
        }
    }
}

/// The client's structured variables: `OPENLINEAGE__A__B=v` is `{a: {b: v}}` (names lower-cased, JSON values parsed;
/// a higher-level variable wins over deeper ones, as in the client).
enum LineageEnv {
    static func structured(_ env: [String: String]) -> [String: Any] {
        let prefix = "OPENLINEAGE__"
        let vars = env.filter { $0.key.hasPrefix(prefix) && $0.key.count > prefix.count }
            .map { (path: $0.key.dropFirst(prefix.count).components(separatedBy: "__").map { $0.lowercased() }, value: $0.value) }
            .sorted { ($0.path.count, $0.path.joined(separator: ".")) < ($1.path.count, $1.path.joined(separator: ".")) }
        var root: [String: Any] = [:]
        var setPaths: [[String]] = []
        for v in vars {
            if setPaths.contains(where: { v.path.count > $0.count && Array(v.path.prefix($0.count)) == $0 }) { continue }
            let value: Any =
                (try? JSONSerialization.jsonObject(with: Data(v.value.utf8), options: [.fragmentsAllowed])).flatMap { $0 is NSNull ? nil : $0 } ?? v.value
            root = set(root, v.path[...], value)
            setPaths.append(v.path)
        }
        return root
    }

    static func set(_ d: [String: Any], _ path: ArraySlice<String>, _ value: Any) -> [String: Any] {
        var d = d
        guard let first = path.first else { return d }
        if path.count == 1 { d[first] = value; return d }
        d[first] = set(d[first] as? [String: Any] ?? [:], path.dropFirst(), value)
        return d
    }
}

/// openlineage.yml as read by Yams, with every `${VAR}` in its strings expanded from the environment passed in, as
/// the reference client does.
enum LineageYAML {
    static func normalise(_ v: Any?, environment env: [String: String]) -> Any? {
        switch v {
        case let d as [String: Any]: return d.compactMapValues { normalise($0, environment: env) }
        case let d as [AnyHashable: Any]:
            var out: [String: Any] = [:]
            for (k, x) in d { if let n = normalise(x, environment: env) { out["\(k)"] = n } }
            return out
        case let a as [Any]: return a.compactMap { normalise($0, environment: env) }
        case let s as String: return expand(s, env)
        case .none: return nil
        case let other?: return other
        }
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
