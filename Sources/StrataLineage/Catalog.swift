import Foundation
import StrataModel
import StrataPlatform
import StrataRepository

/// A DCAT 3 / DCAT-AP 3 catalogue of published datasets at a commit, plus a Markdown page per dataset.
public struct CatalogWriter {
    /// The lineage service (for redaction and the store).
    public let service: LineageService

    /// Creates a writer.
    public init(service: LineageService) { self.service = service }

    static let mediaTypes = [
        "csv": "text/csv", "json": "application/json", "jsonl": "application/jsonl", "md": "text/markdown", "parquet": "application/vnd.apache.parquet",
    ]

    /// Builds the catalogue JSON-LD for `paths` at `revision`; returns (JSON-LD bytes, Markdown pages by file name).
    public func build(revision: String, paths: [String], title: String) throws -> (Data, [String: String]) {
        let repo = service.repo, red = service.redactor
        let commitID = try repo.resolve(revision)
        let commit = try repo.commit(commitID)
        let history = try repo.log(commitID.hex)
        let f = ISO8601DateFormatter()
        func dt(_ t: Int64) -> [String: Any] { ["@value": f.string(from: Date(timeIntervalSince1970: TimeInterval(t))), "@type": "xsd:dateTime"] }
        var datasets: [[String: Any]] = []
        var pages: [String: String] = [:]
        for raw in paths {
            let path = raw.split(separator: "/").joined(separator: "/")
            let shown = red.redactPath(path)
            guard let entry = try repo.entry(at: path, in: commitID) else { throw RepositoryError.pathNotFound(path, revision: revision) }
            // Temporal coverage: from the oldest commit that has this path to this commit.
            let since = history.last { (try? repo.entry(at: path, in: $0.id)) != nil }?.commit.time ?? commit.time
            let ext = path.split(separator: ".").last.map(String.init) ?? ""
            let media = entry.kind == .directory ? "application/x-directory" : (CatalogWriter.mediaTypes[ext] ?? "application/octet-stream")
            // Published: the remote address (OpenLineage object-storage naming); else the workspace file.
            let url =
                try service.publishedLocation(of: commitID).map { EventBuilder.publishedURL(red.redactURL($0), path: shown) }
                ?? "file://" + red.redactPath(repo.root) + "/" + shown
            var dist: [String: Any] = [
                "@id": "urn:strata:distribution:\(entry.id.hex)", "@type": "dcat:Distribution",
                "dcat:accessURL": ["@id": url], "dcat:downloadURL": ["@id": url],
                "dcat:mediaType": ["@id": "https://www.iana.org/assignments/media-types/" + media, "@type": "dct:MediaType"],
                "dct:format": ["@id": "https://www.iana.org/assignments/media-types/" + media, "@type": "dct:MediaTypeOrExtent"],
                "dcat:byteSize": ["@value": String(entry.size), "@type": "xsd:nonNegativeInteger"],
                "dct:title": ["@value": shown, "@language": "en"],
            ]
            if entry.kind != .directory {
                dist["spdx:checksum"] = [
                    "@type": "spdx:Checksum", "spdx:algorithm": ["@id": "spdx:checksumAlgorithm_sha256"],
                    "spdx:checksumValue": ["@value": entry.id.hex, "@type": "xsd:hexBinary"],
                ]
            }
            let description =
                "\(entry.kind == .directory ? "Folder" : "File") \(shown) of workspace \(red.redactPath(URL(fileURLWithPath: repo.root).lastPathComponent)), version \(commitID.hex) (sha256 \(entry.id.hex))."
            datasets.append([
                "@id": "urn:strata:dataset:" + (shown.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? shown), "@type": "dcat:Dataset",
                "dct:title": ["@value": shown, "@language": "en"],
                "dct:description": ["@value": description, "@language": "en"],
                "dct:identifier": "urn:strata:\(entry.id.hex)",
                "dcat:version": commitID.hex,
                "dct:temporal": ["@type": "dct:PeriodOfTime", "dcat:startDate": dt(since), "dcat:endDate": dt(commit.time)],
                "dct:modified": dt(commit.time),
                "dcat:distribution": [dist],
                "prov:wasGeneratedBy": ["@id": "urn:strata:commit:" + commitID.hex, "@type": "prov:Activity"],
            ])
            pages[shown.replacingOccurrences(of: "/", with: "_") + ".md"] = """
                # \(shown)

                | | |
                |---|---|
                | version (commit) | `\(commitID.hex)` |
                | sha256 | `\(entry.id.hex)` |
                | size | \(entry.size) bytes |
                | media type | \(media) |
                | period | \(f.string(from: Date(timeIntervalSince1970: TimeInterval(since)))) – \(f.string(from: Date(timeIntervalSince1970: TimeInterval(commit.time)))) |
                | location | `\(url)` |

                Reproduce this version with `strata checkout \(commitID.short) -- \(shown)`; check it with `sha256sum`.

                """
        }
        let doc: [String: Any] = [
            "@context": [
                "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/",
                "spdx": "http://spdx.org/rdf/terms#", "xsd": "http://www.w3.org/2001/XMLSchema#", "prov": "http://www.w3.org/ns/prov#",
            ],
            "@id": "urn:strata:catalog:" + commitID.hex, "@type": "dcat:Catalog",
            "dct:title": ["@value": red.redact(title), "@language": "en"],
            "dct:description": ["@value": "Datasets published from a Strata store at commit \(commitID.hex).", "@language": "en"],
            "dct:publisher": [
                "@id": "urn:strata:publisher:" + service.config.namespace, "@type": "foaf:Agent", "foaf:name": red.redact(service.config.namespace),
            ],
            "dct:modified": dt(commit.time),
            "dcat:dataset": datasets,
        ]
        return (
            try JSONSerialization.data(withJSONObject: red.scrub(doc), options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]),
            Dictionary(uniqueKeysWithValues: pages.map { (red.redactPath($0.key), red.redact($0.value)) })
        )
    }
}
