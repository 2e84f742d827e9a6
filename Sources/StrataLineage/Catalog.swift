import Foundation
import StrataModel
import StrataPipeline
import StrataPlatform
import StrataRepository

/// Catalogue metadata: what Pipeline.swift's `catalog:` declares, over the store config's `catalog.*` and
/// `dataset.PATH.*` settings (the manifest wins for the same property).
public struct CatalogMetadata: Sendable, Equatable {
    /// Per-dataset metadata.
    public struct Dataset: Sendable, Equatable {
        /// Title, description, temporal coverage (`START/END`).
        public var title: String?, description: String?, temporal: String?
        /// Keywords and themes.
        public var keywords: [String] = [], themes: [String] = []
        /// Nothing declared.
        public init() {}
    }
    /// Catalogue-level properties.
    public var title: String?, description: String?, publisher: String?, publisherType: String?, homepage: String?
    /// Licence, language, spatial coverage.
    public var licence: String?, language: String?, spatial: String?
    /// Contact point (a team or role, never a person).
    public var contactName: String?, contactEmail: String?
    /// Themes and keywords.
    public var themes: [String] = [], keywords: [String] = []
    /// Datasets by workspace path.
    public var datasets: [String: Dataset] = [:]

    /// No metadata declared.
    public init() {}

    /// Resolves the metadata from the store config and the manifest's `catalog:` section.
    public static func resolve(_ repo: Repository, manifest: CatalogSpec?) throws -> CatalogMetadata {
        var m = CatalogMetadata()
        let config = try repo.allConfig()
        for (k, v) in config {
            switch k {
            case "catalog.title": m.title = v
            case "catalog.description": m.description = v
            case "catalog.publisher": m.publisher = v
            case "catalog.publisher-type": m.publisherType = v
            case "catalog.homepage": m.homepage = v
            case "catalog.licence", "catalog.license": m.licence = v
            case "catalog.language": m.language = v
            case "catalog.spatial": m.spatial = v
            case "catalog.contact-name": m.contactName = v
            case "catalog.contact-email": m.contactEmail = v
            case "catalog.themes": m.themes = ConfigList.items(v)
            case "catalog.keywords": m.keywords = ConfigList.items(v)
            default:
                guard k.hasPrefix("dataset."), let dot = k.lastIndex(of: "."), dot > k.index(k.startIndex, offsetBy: 8) else { continue }
                let path = String(k[k.index(k.startIndex, offsetBy: 8)..<dot]), field = String(k[k.index(after: dot)...])
                var d = m.datasets[path] ?? Dataset()
                switch field {
                case "title": d.title = v
                case "description": d.description = v
                case "temporal": d.temporal = v
                case "keywords": d.keywords = ConfigList.items(v)
                case "themes": d.themes = ConfigList.items(v)
                default: continue
                }
                m.datasets[path] = d
            }
        }
        guard let c = manifest else { return m }
        m.title = c.title ?? m.title; m.description = c.description ?? m.description; m.publisher = c.publisher ?? m.publisher
        m.publisherType = c.publisherType ?? m.publisherType; m.homepage = c.homepage ?? m.homepage; m.licence = c.licence ?? m.licence
        m.language = c.language ?? m.language; m.spatial = c.spatial ?? m.spatial; m.contactName = c.contactName ?? m.contactName
        m.contactEmail = c.contactEmail ?? m.contactEmail
        if !c.themes.isEmpty { m.themes = c.themes }
        if !c.keywords.isEmpty { m.keywords = c.keywords }
        for d in c.datasets {
            var x = m.datasets[d.path] ?? Dataset()
            x.title = d.title ?? x.title; x.description = d.description ?? x.description; x.temporal = d.temporal ?? x.temporal
            if !d.keywords.isEmpty { x.keywords = d.keywords }
            if !d.themes.isEmpty { x.themes = d.themes }
            m.datasets[d.path] = x
        }
        return m
    }
}

/// A DCAT 3 / DCAT-AP 3 catalogue of published datasets at a commit, plus a Markdown page per dataset.
public struct CatalogWriter {
    /// The lineage service (for redaction and the store).
    public let service: LineageService
    /// Declared metadata.
    public let metadata: CatalogMetadata

    /// Creates a writer.
    public init(service: LineageService, metadata: CatalogMetadata = CatalogMetadata()) { self.service = service; self.metadata = metadata }

    /// IANA-registered media types by extension (JSON Lines has none: its distributions carry only a file type).
    static let mediaTypes = [
        "csv": "text/csv", "tsv": "text/tab-separated-values", "json": "application/json", "md": "text/markdown",
        "parquet": "application/vnd.apache.parquet", "txt": "text/plain",
    ]
    /// EU file types (publications.europa.eu/resource/authority/file-type) by extension.
    static let fileTypes = ["csv": "CSV", "tsv": "TSV", "json": "JSON", "jsonl": "JSON", "md": "TXT", "txt": "TXT", "parquet": "PARQUET"]

    static let eu = "http://publications.europa.eu/resource/authority/"
    static let languages = ["en": "ENG", "af": "AFR", "zu": "ZUL", "xh": "XHO", "st": "SOT", "tn": "TSN", "nl": "NLD", "fr": "FRA", "de": "DEU", "pt": "POR"]

    /// An IRI for a declared value: kept when it is one, else the code in the named EU vocabulary.
    static func iri(_ v: String, _ vocabulary: String) -> String {
        if v.contains("://") { return v }
        switch vocabulary {
        case "licence": return eu + "licence/" + v.uppercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_")
        case "language": return eu + "language/" + (languages[v.lowercased()] ?? v.uppercased())
        case "publishertype": return "http://purl.org/adms/publishertype/" + v
        default: return eu + vocabulary + "/" + v.uppercased()
        }
    }

    /// What DCAT-AP 3 marks mandatory or recommended and the declarations lack, one line per gap (empty: complete).
    public func check(paths: [String]) -> [String] {
        var missing: [String] = []
        let m = metadata
        let catalogue: [(String, Any?)] = [
            ("title (catalog.title)", m.title), ("description (catalog.description)", m.description),
            ("publisher (catalog.publisher)", m.publisher), ("publisher type (catalog.publisher-type)", m.publisherType),
            ("homepage (catalog.homepage)", m.homepage), ("licence (catalog.licence)", m.licence), ("language (catalog.language)", m.language),
            ("spatial coverage (catalog.spatial)", m.spatial), ("themes (catalog.themes)", m.themes.isEmpty ? nil : m.themes),
            ("contact point (catalog.contact-name, catalog.contact-email)", m.contactName ?? m.contactEmail),
        ]
        for (what, v) in catalogue where v == nil { missing.append("catalogue: no \(what)") }
        for p in paths {
            let d = m.datasets[p]
            if d?.description == nil { missing.append("\(p): no description (dataset.\(p).description)") }
            if (d?.keywords ?? []).isEmpty && m.keywords.isEmpty { missing.append("\(p): no keywords (dataset.\(p).keywords or catalog.keywords)") }
            if d?.temporal == nil { missing.append("\(p): no temporal coverage of the data (dataset.\(p).temporal START/END)") }
            if CatalogWriter.fileTypes[ext(p)] == nil { missing.append("\(p): no known file type for its distribution") }
        }
        return missing
    }

    func ext(_ path: String) -> String {
        path.split(separator: "/").last.flatMap { $0.split(separator: ".").count > 1 ? $0.split(separator: ".").last : nil }.map { $0.lowercased() } ?? ""
    }

    /// Builds the catalogue JSON-LD for `paths` at `revision`; returns (JSON-LD bytes, Markdown pages by file name).
    public func build(revision: String, paths: [String], title: String) throws -> (Data, [String: String]) {
        let repo = service.repo, red = service.redactor, m = metadata
        let commitID = try repo.resolve(revision)
        let commit = try repo.commit(commitID)
        let history = try repo.log(commitID.hex)
        let f = ISO8601DateFormatter()
        func dt(_ t: Int64) -> [String: Any] { ["@value": f.string(from: Date(timeIntervalSince1970: TimeInterval(t))), "@type": "xsd:dateTime"] }
        func concept(_ iri: String) -> [String: Any] {
            ["@id": iri, "@type": "skos:Concept", "skos:prefLabel": ["@value": String(iri.split(separator: "/").last ?? ""), "@language": "en"]]
        }
        let namespace = red.redactPath(service.config.namespace)
        let publisher: [String: Any] = {
            var p: [String: Any] = [
                "@id": "urn:strata:publisher:" + namespace, "@type": "foaf:Agent", "foaf:name": m.publisher ?? service.config.namespace,
            ]
            if let t = m.publisherType { p["dct:type"] = concept(CatalogWriter.iri(t, "publishertype")) }
            return p
        }()
        let licence = m.licence.map { ["@id": CatalogWriter.iri($0, "licence"), "@type": "dct:LicenseDocument"] as [String: Any] }
        let contact: [String: Any]? =
            (m.contactName ?? m.contactEmail).map { _ in
                var c: [String: Any] = ["@id": "urn:strata:contact:" + namespace, "@type": ["vcard:Kind", "vcard:Organization"]]
                if let n = m.contactName { c["vcard:fn"] = n }
                return c
            }
        var datasets: [[String: Any]] = []
        var pages: [String: String] = [:]
        for raw in paths {
            let path = raw.slashSeparated().joined(separator: "/")
            let shown = red.redactPath(path)
            guard let entry = try repo.entry(at: path, in: commitID) else { throw RepositoryError.pathNotFound(path, revision: revision) }
            let d = m.datasets[path] ?? CatalogMetadata.Dataset()
            let ext = self.ext(path)
            // Published: the remote address (OpenLineage object-storage naming); else the workspace file.
            let url =
                try service.publishedLocation(of: commitID).map { EventBuilder.publishedURL(red.redactURL($0), path: shown) }
                ?? "file://" + red.redactPath(repo.root) + "/" + shown
            // The version's generating run (`strata lineage prov --all` holds it), else the commit's run.
            let key = path + (entry.kind == .directory ? "/@" : "@") + entry.id.hex
            let run = try service.producer(of: key) ?? service.commitRun(of: commitID)
            var dist: [String: Any] = [
                "@id": "urn:strata:distribution:\(entry.id.hex)", "@type": "dcat:Distribution",
                "dcat:accessURL": ["@id": url], "dcat:downloadURL": ["@id": url],
                "dcat:byteSize": ["@value": String(entry.size), "@type": "xsd:nonNegativeInteger"],
                "dct:title": ["@value": "\(shown) (sha256 \(entry.id.hex.prefix(12)))", "@language": "en"],
                "dct:description": ["@value": "Version \(commitID.hex) of \(shown): content sha256 \(entry.id.hex).", "@language": "en"],
                "dcatap:availability": concept(CatalogWriter.eu + "planned-availability/STABLE"),
            ]
            if let media = CatalogWriter.mediaTypes[ext], entry.kind != .directory {
                dist["dcat:mediaType"] = ["@id": "https://www.iana.org/assignments/media-types/" + media, "@type": "dct:MediaType"]
            }
            if let type = CatalogWriter.fileTypes[ext] {
                dist["dct:format"] = ["@id": CatalogWriter.eu + "file-type/" + type, "@type": "dct:MediaTypeOrExtent"]
            }
            if let licence { dist["dct:license"] = licence }
            if entry.kind != .directory {
                dist["spdx:checksum"] = [
                    "@type": "spdx:Checksum", "spdx:algorithm": ["@id": "spdx:checksumAlgorithm_sha256", "@type": "spdx:ChecksumAlgorithm"],
                    "spdx:checksumValue": ["@value": entry.id.hex, "@type": "xsd:hexBinary"],
                ]
            }
            let stable = "urn:strata:dataset:" + namespace + ":" + (shown.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? shown)
            var ds: [String: Any] = [
                "@id": stable, "@type": "dcat:Dataset",
                "dct:title": ["@value": d.title ?? shown, "@language": "en"],
                "dct:description": [
                    "@value": d.description
                        ?? "\(entry.kind == .directory ? "Folder" : "File") \(shown) of workspace \(namespace), version \(commitID.hex) (sha256 \(entry.id.hex)).",
                    "@language": "en",
                ],
                "dct:identifier": stable,
                "dcat:version": commitID.hex,
                "dct:modified": dt(commit.time),
                "dct:publisher": ["@id": publisher["@id"]!],
                "dcat:distribution": [dist],
            ]
            if let run { ds["prov:wasGeneratedBy"] = ["@id": ProvBuilder.iri("run", run), "@type": "prov:Activity"] }
            let keywords = d.keywords + m.keywords.filter { !d.keywords.contains($0) }
            if !keywords.isEmpty { ds["dcat:keyword"] = keywords.map { ["@value": $0, "@language": "en"] } }
            let themes = d.themes.isEmpty ? m.themes : d.themes
            if !themes.isEmpty { ds["dcat:theme"] = themes.map { concept(CatalogWriter.iri($0, "data-theme")) } }
            if let s = m.spatial { ds["dct:spatial"] = ["@id": CatalogWriter.iri(s, "country"), "@type": "dct:Location"] }
            if let contact { ds["dcat:contactPoint"] = ["@id": contact["@id"]!] }
            if let t = d.temporal {
                let parts = t.split(separator: "/").map(String.init)
                var period: [String: Any] = ["@type": "dct:PeriodOfTime"]
                if let s = parts.first, !s.isEmpty { period["dcat:startDate"] = ["@value": s, "@type": s.count > 10 ? "xsd:dateTime" : "xsd:date"] }
                if parts.count > 1, !parts[1].isEmpty {
                    period["dcat:endDate"] = ["@value": parts[1], "@type": parts[1].count > 10 ? "xsd:dateTime" : "xsd:date"]
                }
                ds["dct:temporal"] = period
            }
            datasets.append(ds)
            let media = CatalogWriter.mediaTypes[ext] ?? (ext == "jsonl" ? "JSON Lines (no registered media type)" : "-")
            pages[shown.replacingOccurrences(of: "/", with: "_") + ".md"] = """
                # \(d.title ?? shown)

                \(d.description ?? "")

                | | |
                |---|---|
                | dataset | `\(stable)` |
                | version (commit) | `\(commitID.hex)` |
                | sha256 | `\(entry.id.hex)` |
                | size | \(entry.size) bytes |
                | media type | \(media) |
                | temporal coverage | \(d.temporal ?? "not declared") |
                | licence | \(m.licence ?? "not declared") |
                | location | `\(url)` |

                Reproduce this version with `strata checkout \(commitID.short) -- \(shown)`; check it with `sha256sum`.

                """
        }
        var graph: [[String: Any]] = [publisher]
        if let contact { graph.append(contact) }
        var catalog: [String: Any] = [
            "@id": "urn:strata:catalog:" + namespace, "@type": "dcat:Catalog",
            "dct:title": ["@value": m.title ?? title, "@language": "en"],
            "dct:description": ["@value": m.description ?? "Datasets published from a Strata store at commit \(commitID.hex).", "@language": "en"],
            "dct:publisher": ["@id": publisher["@id"]!],
            "dct:modified": dt(commit.time),
            "dct:issued": dt(history.last?.commit.time ?? commit.time),
            "dcat:dataset": datasets,
        ]
        if let h = m.homepage { catalog["foaf:homepage"] = ["@id": h, "@type": "foaf:Document"] }
        if let licence { catalog["dct:license"] = licence }
        if let l = m.language { catalog["dct:language"] = ["@id": CatalogWriter.iri(l, "language"), "@type": "dct:LinguisticSystem"] }
        if let s = m.spatial { catalog["dct:spatial"] = ["@id": CatalogWriter.iri(s, "country"), "@type": "dct:Location"] }
        if !m.themes.isEmpty || datasets.contains(where: { $0["dcat:theme"] != nil }) {
            catalog["dcat:themeTaxonomy"] = [
                "@id": CatalogWriter.eu + "data-theme", "@type": "skos:ConceptScheme", "dct:title": ["@value": "Data theme", "@language": "en"],
            ]
        }
        graph.insert(catalog, at: 0)
        let doc: [String: Any] = [
            "@context": [
                "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/",
                "spdx": "http://spdx.org/rdf/terms#", "xsd": "http://www.w3.org/2001/XMLSchema#", "prov": "http://www.w3.org/ns/prov#",
                "skos": "http://www.w3.org/2004/02/skos/core#", "vcard": "http://www.w3.org/2006/vcard/ns#", "dcatap": "http://data.europa.eu/r5r/",
            ],
            "@graph": graph,
        ]
        // Redacted like every export; the declared contact mailbox is then published as declared (a role address the
        // publisher chose to publish, which the e-mail pattern would otherwise remove).
        var scrubbed = red.scrub(doc) as? [String: Any] ?? doc
        if let email = m.contactEmail, var g = scrubbed["@graph"] as? [[String: Any]],
            let i = g.firstIndex(where: { ($0["@id"] as? String)?.hasPrefix("urn:strata:contact:") == true })
        {
            g[i]["vcard:hasEmail"] = ["@id": "mailto:" + email]
            scrubbed["@graph"] = g
        }
        return (
            try JSONSerialization.data(withJSONObject: scrubbed, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]),
            Dictionary(uniqueKeysWithValues: pages.map { (red.redactPath($0.key), red.redact($0.value)) })
        )
    }
}
