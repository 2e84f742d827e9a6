import Foundation

/// A parameter value as the manifest wrote it.
public enum ParamSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(String)
    case string(String)
    case bool(Bool)
    case list([ParamSpec])

    enum Keys: String, CodingKey { case int, double, string, bool, list }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if let v = try c.decodeIfPresent(Int.self, forKey: .int) {
            self = .int(v)
        } else if let v = try c.decodeIfPresent(String.self, forKey: .double) {
            self = .double(v)
        } else if let v = try c.decodeIfPresent(String.self, forKey: .string) {
            self = .string(v)
        } else if let v = try c.decodeIfPresent(Bool.self, forKey: .bool) {
            self = .bool(v)
        } else {
            self = .list(try c.decode([ParamSpec].self, forKey: .list))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .int(let v): try c.encode(v, forKey: .int)
        case .double(let v): try c.encode(v, forKey: .double)
        case .string(let v): try c.encode(v, forKey: .string)
        case .bool(let v): try c.encode(v, forKey: .bool)
        case .list(let v): try c.encode(v, forKey: .list)
        }
    }

    /// The value as text (for the lockfile and environment of stages).
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return v
        case .string(let v): return v
        case .bool(let v): return v ? "true" : "false"
        case .list(let v): return "[" + v.map(\.description).joined(separator: ",") + "]"
        }
    }
}

/// An input as declared.
public struct InputSpec: Codable, Sendable, Equatable {
    /// Path (trailing `/` = folder).
    public var path: String
    /// Keys of a params file.
    public var keys: [String]?
}

/// An output as declared.
public struct OutputSpec: Codable, Sendable, Equatable {
    /// file, folder, table, evidence or metrics.
    public var kind: String
    /// Path.
    public var path: String
    /// Stored in the object store and run cache.
    public var cache: Bool
    /// Kept in place before a re-run.
    public var persist: Bool
    /// Published in the catalogue.
    public var published: Bool
    /// A table's key column.
    public var key: String?
    /// True for a folder output.
    public var isFolder: Bool { kind == "folder" || path.hasSuffix("/") }
}

/// A stage as declared.
public struct StageSpec: Codable, Sendable, Equatable {
    public var name: String
    public var command: String
    public var inputs: [InputSpec]
    public var outputs: [OutputSpec]
    public var params: [String: ParamSpec]
    public var environment: [String]
    public var after: [String]
    public var frozen: Bool
    public var alwaysRun: Bool
    public var workingDirectory: String?
}

/// A retention policy declared in the manifest.
public struct RetentionSpec: Codable, Sendable, Equatable {
    /// Name.
    public var name: String
    /// `strata prune` flags.
    public var rules: [String]
}

/// A table declared in the manifest.
public struct TableSpec: Codable, Sendable, Equatable {
    /// Path or glob.
    public var path: String
    /// Key columns.
    public var key: [String]
    /// `csv`, `tsv` or `jsonl`.
    public var format: String?
    /// What it holds.
    public var description: String?
    /// An append-only log (absent in manifests evaluated before it existed).
    public var appendOnly: Bool?
    /// Column types by column (absent in older manifests, and when none are declared).
    public var types: [String: String]?
}

/// Catalogue metadata declared in the manifest (`catalog:`), for `strata catalog`.
public struct CatalogSpec: Codable, Sendable, Equatable {
    /// Per-dataset metadata.
    public struct Dataset: Codable, Sendable, Equatable {
        /// Workspace path.
        public var path: String
        /// Title, description, temporal coverage (`START/END`).
        public var title: String?, description: String?, temporal: String?
        /// Keywords and themes.
        public var keywords: [String] = [], themes: [String] = []
    }
    /// Catalogue-level properties (see PipelineDescription.Catalog).
    public var title: String?, description: String?, publisher: String?, publisherType: String?, homepage: String?
    /// Licence, language, spatial coverage.
    public var licence: String?, language: String?, spatial: String?
    /// Contact point.
    public var contactName: String?, contactEmail: String?
    /// Themes and keywords.
    public var themes: [String] = [], keywords: [String] = []
    /// Datasets.
    public var datasets: [Dataset] = []
}

/// The evaluated `Pipeline.swift`: what the manifest program wrote (format version 1).
public struct PipelineSpec: Codable, Sendable, Equatable {
    /// Format version.
    public var version: Int
    /// Pipeline name.
    public var name: String
    /// Stages in declaration order.
    public var stages: [StageSpec]
    /// Declared retention policies.
    public var retention: [RetentionSpec]
    /// Declared tables (absent in manifests evaluated before tables existed).
    public var tables: [TableSpec] = []
    /// Declared catalogue metadata.
    public var catalog: CatalogSpec?

    enum CodingKeys: String, CodingKey { case version, name, stages, retention, tables, catalog }

    /// Creates a spec.
    public init(version: Int, name: String, stages: [StageSpec], retention: [RetentionSpec], tables: [TableSpec] = []) {
        self.version = version; self.name = name; self.stages = stages; self.retention = retention; self.tables = tables
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        name = try c.decode(String.self, forKey: .name)
        stages = try c.decode([StageSpec].self, forKey: .stages)
        retention = try c.decode([RetentionSpec].self, forKey: .retention)
        tables = try c.decodeIfPresent([TableSpec].self, forKey: .tables) ?? []
        catalog = try c.decodeIfPresent(CatalogSpec.self, forKey: .catalog)
    }
}
