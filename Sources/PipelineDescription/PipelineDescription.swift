// PipelineDescription: the vocabulary of a Strata `Pipeline.swift` manifest.
//
// A manifest describes stages; it never runs them. `strata` compiles the manifest together with this file,
// runs it in a sandbox, and reads the JSON that `Pipeline` writes when the program exits.
// This module depends on nothing, not even Foundation, so manifests compile fast.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The version of the JSON description this module writes.
public let pipelineDescriptionVersion = 1

/// A typed parameter value: a number, string, boolean or list, written as a Swift literal.
public enum ParamValue: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral
{
    /// An integer.
    case int(Int)
    /// A floating-point number.
    case double(Double)
    /// A string.
    case string(String)
    /// A boolean.
    case bool(Bool)
    /// A list of values.
    case list([ParamValue])

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ParamValue...) { self = .list(elements) }
}

/// Something a stage reads: a file, a folder (trailing `/`), or keys of a JSON or TOML params file.
public struct Input: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    /// Workspace-relative path; a trailing `/` marks a folder.
    public var path: String
    /// For a params file: the keys whose values count (the file's other keys do not).
    public var keys: [String]?

    /// A file or folder input.
    public init(_ path: String) { self.path = path; keys = nil }
    public init(stringLiteral value: String) { self.init(value) }

    /// Only these keys of a JSON or TOML params file count as the stage's input.
    public static func params(file: String, keys: [String]) -> Input {
        var i = Input(file); i.keys = keys; return i
    }
}

/// Something a stage writes.
public struct Output: Sendable, Equatable {
    /// What the output holds.
    public enum Kind: String, Sendable {
        case file, folder, table, evidence, metrics
    }
    /// Kind.
    public var kind: Kind
    /// Workspace-relative path (folders end with `/`).
    public var path: String
    /// Store the output in the object store and the run cache (default true).
    public var cache: Bool
    /// Keep the output in place before the stage runs again (default false: it is removed first).
    public var persist: Bool
    /// Publish it in the DCAT catalogue (`strata catalog`).
    public var published: Bool
    /// For a table: the primary-key column.
    public var key: String?

    /// A file.
    public static func file(_ path: String, cache: Bool = true, persist: Bool = false, published: Bool = false) -> Output {
        Output(kind: .file, path: path, cache: cache, persist: persist, published: published, key: nil)
    }
    /// A folder.
    public static func folder(_ path: String, cache: Bool = true, persist: Bool = false, published: Bool = false) -> Output {
        Output(kind: .folder, path: path, cache: cache, persist: persist, published: published, key: nil)
    }
    /// A curated table (CSV) with its primary-key column.
    public static func table(_ path: String, key: String, cache: Bool = true, persist: Bool = false, published: Bool = false) -> Output {
        Output(kind: .table, path: path, cache: cache, persist: persist, published: published, key: key)
    }
    /// An evidence log: a file, or a folder of logs (trailing `/`).
    public static func evidence(_ path: String, cache: Bool = true, persist: Bool = false, published: Bool = false) -> Output {
        Output(kind: .evidence, path: path, cache: cache, persist: persist, published: published, key: nil)
    }
    /// A metrics file (JSON).
    public static func metrics(_ path: String, cache: Bool = true, persist: Bool = false, published: Bool = false) -> Output {
        Output(kind: .metrics, path: path, cache: cache, persist: persist, published: published, key: nil)
    }
}

/// One step of a pipeline: a shell command with its declared inputs, outputs, parameters and environment.
public struct Stage: Sendable, Equatable {
    /// Unique name.
    public var name: String
    /// Shell command line, run with `/bin/sh -c` in the workspace root (or `workingDirectory`).
    public var command: String
    /// What it reads.
    public var inputs: [Input]
    /// What it writes.
    public var outputs: [Output]
    /// Parameter values that count towards the stage key.
    public var params: [String: ParamValue]
    /// Names of environment variables whose values are passed through and count.
    public var environment: [String]
    /// Folder to run in, relative to the workspace root.
    public var workingDirectory: String?
    /// Stages that must run first even without a data dependency.
    public var after: [String]
    /// Never run (its outputs are used as they are).
    public var frozen: Bool
    /// Run every time.
    public var alwaysRun: Bool

    /// Declares a stage.
    public static func stage(
        name: String, command: String, inputs: [Input] = [], outputs: [Output] = [],
        params: [String: ParamValue] = [:], environment: [String] = [], workingDirectory: String? = nil,
        after: [String] = [], frozen: Bool = false, alwaysRun: Bool = false
    ) -> Stage {
        Stage(
            name: name, command: command, inputs: inputs, outputs: outputs, params: params, environment: environment,
            workingDirectory: workingDirectory, after: after, frozen: frozen, alwaysRun: alwaysRun)
    }
}

/// A retention rule set declared with the pipeline (applied by `strata prune` without flags).
public struct Retention: Sendable, Equatable {
    /// Policy name.
    public var name: String
    /// Rules as `strata prune` flags, e.g. `["--keep-daily", "7", "--keep-weekly", "4"]`.
    public var rules: [String]
    /// Declares a named policy from prune flags.
    public static func policy(_ name: String, _ rules: [String]) -> Retention { Retention(name: name, rules: rules) }
}

/// A table declared with the pipeline: its path (or a glob), format and key columns, for row diffs and blame. When the
/// store's config declares the same path too (`strata table add`), this declaration wins.
public struct Table: Sendable, Equatable {
    /// Workspace path or glob, e.g. `tables/organisations.csv` or `tables/*.csv`.
    public var path: String
    /// `csv`, `tsv`, `jsonl`, `parquet`, `delta` or `iceberg` (nil: from the extension, or the folder's log).
    public var format: String?
    /// Key columns (JSON pointers such as `/org/id` for JSONL).
    public var key: [String]
    /// What it holds.
    public var description: String?
    /// An append-only log (evidence): merges keep both sides' appended records, each once.
    public var appendOnly: Bool = false
    /// Column types by column: `string`, `integer`, `decimal`, `double`, `boolean`, `date` or `timestamp`. Row diffs
    /// compare a typed column's cells as values (`1.50` equals `1.5` as a decimal).
    public var types: [String: String] = [:]
    /// Declares a table.
    public static func table(
        _ path: String, key: [String], format: String? = nil, description: String? = nil, types: [String: String] = [:], appendOnly: Bool = false
    ) -> Table {
        Table(path: path, format: format, key: key, description: description, appendOnly: appendOnly, types: types)
    }
    /// Declares an append-only log (no key needed).
    public static func log(_ path: String, format: String? = nil, description: String? = nil, types: [String: String] = [:]) -> Table {
        Table(path: path, format: format, key: [], description: description, appendOnly: true, types: types)
    }
}

/// Catalogue metadata for `strata catalog` (DCAT-AP 3): who publishes, under which licence, about what. Values are
/// IRIs or the short codes of the EU vocabularies (`licence: "CC-BY-4.0"`, `language: "ENG"`, `spatial: "ZAF"`,
/// `themes: ["ECON"]`, `publisherType: "Company"`). When the store's config declares the same property
/// (`strata config catalog.licence …`), this declaration wins.
public struct Catalog: Sendable, Equatable {
    /// Catalogue title.
    public var title: String?
    /// What the catalogue holds.
    public var description: String?
    /// The publishing organisation's name.
    public var publisher: String?
    /// Its type (ADMS publisher type: `Company`, `NationalAuthority`, `NonProfitOrganisation`, … or an IRI).
    public var publisherType: String?
    /// The catalogue's home page.
    public var homepage: String?
    /// Licence of the data (an SPDX-style id such as `CC-BY-4.0`, or an IRI).
    public var licence: String?
    /// Language (ISO 639-2 code such as `ENG`, or an IRI).
    public var language: String?
    /// Geographic coverage (ISO 3166-1 alpha-3 code such as `ZAF`, or an IRI).
    public var spatial: String?
    /// Themes (EU data themes such as `ECON`, `GOVE`, or IRIs).
    public var themes: [String]
    /// Keywords.
    public var keywords: [String]
    /// Contact point: a team or role name (never a person's).
    public var contactName: String?
    /// Contact point: a role mailbox such as `data@example.org`, published as declared.
    public var contactEmail: String?
    /// Per-dataset metadata.
    public var datasets: [DatasetInfo]

    /// Declares the catalogue.
    public static func catalog(
        title: String? = nil, description: String? = nil, publisher: String? = nil, publisherType: String? = nil, homepage: String? = nil,
        licence: String? = nil, language: String? = nil, spatial: String? = nil, themes: [String] = [], keywords: [String] = [],
        contactName: String? = nil, contactEmail: String? = nil, datasets: [DatasetInfo] = []
    ) -> Catalog {
        Catalog(
            title: title, description: description, publisher: publisher, publisherType: publisherType, homepage: homepage, licence: licence,
            language: language, spatial: spatial, themes: themes, keywords: keywords, contactName: contactName, contactEmail: contactEmail,
            datasets: datasets)
    }
}

/// Catalogue metadata of one published dataset.
public struct DatasetInfo: Sendable, Equatable {
    /// Workspace path of the published output.
    public var path: String
    /// Title (default: the path).
    public var title: String?
    /// What it holds.
    public var description: String?
    /// Keywords (added to the catalogue's).
    public var keywords: [String]
    /// Themes (default: the catalogue's).
    public var themes: [String]
    /// Temporal coverage of the data, `START/END` as ISO 8601 dates (e.g. `2024-01-01/2024-12-31`).
    public var temporal: String?
    /// Declares a dataset's metadata.
    public static func dataset(
        _ path: String, title: String? = nil, description: String? = nil, keywords: [String] = [], themes: [String] = [], temporal: String? = nil
    ) -> DatasetInfo {
        DatasetInfo(path: path, title: title, description: description, keywords: keywords, themes: themes, temporal: temporal)
    }
}

/// The pipeline: a name and its stages. Creating one registers it; it is written out when the program exits.
public struct Pipeline: Sendable {
    /// Name (used in lineage job names).
    public var name: String
    /// Stages in any order; the order that runs them comes from the graph.
    public var stages: [Stage]
    /// Retention policies declared with the pipeline.
    public var retention: [Retention]
    /// Tables declared with the pipeline.
    public var tables: [Table]
    /// Catalogue metadata for `strata catalog`.
    public var catalog: Catalog?

    /// Declares the pipeline.
    public init(name: String, stages: [Stage], retention: [Retention] = [], tables: [Table] = [], catalog: Catalog? = nil) {
        self.name = name; self.stages = stages; self.retention = retention; self.tables = tables; self.catalog = catalog
        registeredPipeline = self
        atexit { writeRegisteredPipeline() }
    }
}

nonisolated(unsafe) var registeredPipeline: Pipeline?

/// Writes the registered pipeline as JSON to the file named after `--strata-dump` (or stdout).
func writeRegisteredPipeline() {
    guard let p = registeredPipeline else { return }
    registeredPipeline = nil
    let text = JSONText.pipeline(p)
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: "--strata-dump"), i + 1 < args.count, let f = fopen(args[i + 1], "w") {
        fputs(text, f); fclose(f)
    } else {
        _ = text.withCString { write(1, $0, strlen($0)) }
    }
}

/// A tiny JSON writer with sorted keys (no Foundation).
enum JSONText {
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = Array("0123456789abcdef")
                    out += "\\u00" + String(hex[Int(u.value >> 4)]) + String(hex[Int(u.value & 15)])
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.sorted { $0.0 < $1.0 }.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    static func param(_ v: ParamValue) -> String {
        switch v {
        case .int(let i): return object([("int", String(i))])
        case .double(let d): return object([("double", string(String(d)))])
        case .string(let s): return object([("string", string(s))])
        case .bool(let b): return object([("bool", b ? "true" : "false")])
        case .list(let l): return object([("list", array(l.map(param)))])
        }
    }

    static func optional(_ fields: [(String, String?)]) -> [(String, String)] { fields.compactMap { k, v in v.map { (k, string($0)) } } }

    static func catalog(_ c: Catalog) -> String {
        object(
            optional([
                ("title", c.title), ("description", c.description), ("publisher", c.publisher), ("publisherType", c.publisherType),
                ("homepage", c.homepage), ("licence", c.licence), ("language", c.language), ("spatial", c.spatial),
                ("contactName", c.contactName), ("contactEmail", c.contactEmail),
            ])
                + [
                    ("themes", array(c.themes.map(string))), ("keywords", array(c.keywords.map(string))),
                    (
                        "datasets",
                        array(
                            c.datasets.map { d in
                                object(
                                    [("path", string(d.path)), ("keywords", array(d.keywords.map(string))), ("themes", array(d.themes.map(string)))]
                                        + optional([("title", d.title), ("description", d.description), ("temporal", d.temporal)]))
                            })
                    ),
                ])
    }

    static func pipeline(_ p: Pipeline) -> String {
        object(
            (p.catalog.map { [("catalog", catalog($0))] } ?? []) + [
                ("version", String(pipelineDescriptionVersion)),
                ("name", string(p.name)),
                ("retention", array(p.retention.map { object([("name", string($0.name)), ("rules", array($0.rules.map(string)))]) })),
                (
                    "tables",
                    array(
                        p.tables.map { t in
                            var f: [(String, String)] = [("path", string(t.path)), ("key", array(t.key.map(string)))]
                            if let format = t.format { f.append(("format", string(format))) }
                            if let d = t.description { f.append(("description", string(d))) }
                            if t.appendOnly { f.append(("appendOnly", "true")) }
                            if !t.types.isEmpty {
                                f.append(("types", object(t.types.sorted { $0.key < $1.key }.map { ($0.key, string($0.value)) })))
                            }
                            return object(f)
                        })
                ),
                (
                    "stages",
                    array(
                        p.stages.map { s in
                            var f: [(String, String)] = [
                                ("name", string(s.name)), ("command", string(s.command)),
                                (
                                    "inputs",
                                    array(
                                        s.inputs.map { i in
                                            object([("path", string(i.path))] + (i.keys.map { [("keys", array($0.map(string)))] } ?? []))
                                        })
                                ),
                                (
                                    "outputs",
                                    array(
                                        s.outputs.map { o in
                                            object(
                                                [
                                                    ("kind", string(o.kind.rawValue)), ("path", string(o.path)), ("cache", o.cache ? "true" : "false"),
                                                    ("persist", o.persist ? "true" : "false"), ("published", o.published ? "true" : "false"),
                                                ]
                                                    + (o.key.map { [("key", string($0))] } ?? []))
                                        })
                                ),
                                ("params", object(s.params.map { ($0.key, param($0.value)) })),
                                ("environment", array(s.environment.map(string))),
                                ("after", array(s.after.map(string))),
                                ("frozen", s.frozen ? "true" : "false"),
                                ("alwaysRun", s.alwaysRun ? "true" : "false"),
                            ]
                            if let w = s.workingDirectory { f.append(("workingDirectory", string(w))) }
                            return object(f)
                        })
                ),
            ])
            + "\n"
    }
}
