import Foundation

/// A dataset version as lineage sees it: a path in the store with its content hash.
public struct DatasetRef: Codable, Sendable, Equatable {
    /// Workspace-relative path.
    public var path: String
    /// `file`, `folder`, `table`, `evidence`, `metrics`.
    public var kind: String
    /// sha256 of the file, or tree id of a folder.
    public var sha256: String?
    /// Bytes.
    public var size: UInt64
    /// Files in a folder.
    public var files: Int?
    /// CSV header of a table.
    public var columns: [String]?
    /// Column types inferred from the first rows (`integer`, `number`, `boolean`, `string`), parallel to `columns`.
    public var types: [String]?
    /// The commit holding this version, when known.
    public var commit: String?
    /// The open table format of a table folder (`delta`), and the table's own version (the Delta log version).
    public var tableFormat: String?
    /// See `tableFormat`.
    public var tableVersion: Int64?
    /// Where the version was published (`s3://bucket/prefix`, `file:///mnt/shared/strata`), for datasets a push wrote.
    public var location: String?
    /// Creates a reference.
    public init(path: String, kind: String, sha256: String?, size: UInt64, files: Int? = nil, columns: [String]? = nil, commit: String? = nil) {
        self.path = path; self.kind = kind; self.sha256 = sha256; self.size = size; self.files = files; self.columns = columns; self.commit = commit
    }
}

/// Builders for OpenLineage 2-0-2 RunEvents with Strata's facets.
enum EventBuilder {
    static let producer = "https://github.com/strata-versioning/strata/tree/" + LineageService.version
    static let schemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
    /// Our custom facets' schemas (committed under docs/lineage/schemas/, documented in docs/reference/lineage.md).
    static let runFacetSchema = "https://github.com/strata-versioning/strata/blob/0.1.0/docs/lineage/schemas/StrataRunFacet.json#/$defs/StrataRunFacet"
    static let argumentsFacetSchema =
        "https://github.com/strata-versioning/strata/blob/0.1.0/docs/lineage/schemas/StrataArgumentsRunFacet.json#/$defs/StrataArgumentsRunFacet"
    static let restoredFacetSchema =
        "https://github.com/strata-versioning/strata/blob/0.1.0/docs/lineage/schemas/StrataRestoredRunFacet.json#/$defs/StrataRestoredRunFacet"
    static let datasetFacetSchema =
        "https://github.com/strata-versioning/strata/blob/0.1.0/docs/lineage/schemas/StrataDatasetFacet.json#/$defs/StrataDatasetFacet"

    static func facet(_ schema: String, _ fields: [String: Any]) -> [String: Any] {
        var f = fields
        f["_producer"] = producer
        f["_schemaURL"] = schema
        return f
    }

    static func olFacet(_ name: String, _ version: String, _ fields: [String: Any]) -> [String: Any] {
        facet("https://openlineage.io/spec/facets/\(version)/\(name).json#/$defs/\(name)", fields)
    }

    /// Namespace and name of a dataset published at `location` under `path`.
    static func published(_ location: String, path: String) -> (String, String) {
        if location.hasPrefix("s3://") {
            let rest = location.dropFirst(5)
            let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
            let prefix = parts.count > 1 ? parts[1] + "/" : ""
            return ("s3://" + parts[0], prefix + path)
        }
        // A strata server (`https://host:8484/NAMESPACE`): the server as namespace, the store's namespace and the path as name.
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            let scheme = location.hasPrefix("https://") ? "https://" : "http://"
            let parts = location.dropFirst(scheme.count).split(separator: "/", maxSplits: 1).map(String.init)
            let prefix = parts.count > 1 ? parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/" : ""
            return (scheme + (parts.first ?? ""), prefix + path)
        }
        let folder = location.hasPrefix("file://") ? String(location.dropFirst("file://".count)) : location
        return ("file", folder + "/" + path)
    }

    /// The URL of a dataset published at `location` under `path` (`s3://bucket/prefix/path`, `file:///folder/path`,
    /// `https://host:8484/NAMESPACE/path`).
    static func publishedURL(_ location: String, path: String) -> String {
        let (ns, name) = published(location, path: path)
        return ns == "file" ? "file://" + name : ns + "/" + name
    }

    /// One dataset of an event, named as the OpenLineage naming spec names local files (namespace `file`, the
    /// absolute path as name) or published objects (`s3://bucket`, the key), with a `symlinks` facet holding the
    /// stable logical name (`strata://NAMESPACE`, the workspace-relative path). Every path segment that holds
    /// personal data is pseudonymised.
    static func dataset(_ d: DatasetRef, namespace: String, root: String, redactor red: Redactor, output: Bool) -> [String: Any] {
        let path = red.redactPath(d.path)
        let logicalNamespace = "strata://" + red.redactPath(namespace)
        var ns = "file", name = red.redactPath(root) + "/" + path
        var uri = "file://" + red.redactPath(root)
        if let loc = d.location {
            // OpenLineage naming for object storage: namespace `s3://bucket`, name `prefix/path`; shared folders: `file`.
            (ns, name) = EventBuilder.published(red.redactURL(loc), path: path)
            uri = red.redactURL(loc)
        }
        var facets: [String: Any] = [
            "dataSource": olFacet("DatasourceDatasetFacet", "1-0-1", ["name": ns, "uri": uri]),
            "symlinks": olFacet(
                "SymlinksDatasetFacet", "1-0-1", ["identifiers": [["namespace": logicalNamespace, "name": path, "type": "DATASET"]]]),
            "strata_dataset": facet(
                datasetFacetSchema,
                ["kind": d.kind, "size": d.size, "commit": d.commit ?? NSNull(), "files": d.files ?? NSNull()]
                    .merging(d.tableFormat.map { ["tableFormat": $0, "tableVersion": d.tableVersion ?? 0] } ?? [:]) { a, _ in a }),
        ]
        if let v = d.sha256 { facets["version"] = olFacet("DatasetVersionDatasetFacet", "1-0-1", ["datasetVersion": v]) }
        if let cols = d.columns, !cols.isEmpty {
            let types = d.types ?? []
            facets["schema"] = olFacet(
                "SchemaDatasetFacet", "1-2-0",
                [
                    "fields": cols.enumerated().map { i, c in
                        ["name": red.redact(c), "type": i < types.count ? types[i] : "string"]
                    }
                ])
        }
        var out: [String: Any] = ["namespace": ns, "name": name, "facets": facets]
        if output, d.files == nil {
            out["outputFacets"] = ["outputStatistics": olFacet("OutputStatisticsOutputDatasetFacet", "1-0-2", ["size": d.size])]
        }
        return out
    }
}
