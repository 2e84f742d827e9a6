import Foundation
import StrataLineage
import StrataMaintenance
import StrataModel
import StrataPlatform
import StrataRepository

/// `strata site`: the catalogue, dataset, lineage and run pages of one commit as static HTML with SVG graphs, for a
/// documentation site (MkDocs, GitHub Pages). Links are relative and point only at pages the site holds; text goes
/// through the lineage redactor, as the lineage exports do.
public enum StaticSite {
    /// What was written.
    public struct Outcome: Sendable {
        /// The commit the site shows.
        public var commit: ObjectID
        /// Files written (pages and the style sheet), by name.
        public var files: [String]
    }

    /// A source that sees only one commit's runs (so a page links only runs the site holds).
    struct Frozen: WebSource {
        let inner: any WebSource
        var repo: Repository { inner.repo }
        var name: String { inner.name }
        var viewer: Viewer { inner.viewer }
        var defaultRevision: String { inner.defaultRevision }
        func resolve(_ revision: String) throws -> ObjectID { try inner.resolve(revision) }
        func refs() throws -> [(name: String, target: ObjectID)] { [] }
        func runs(of commit: ObjectID) throws -> [RunRecord] { try inner.runs(of: commit) }
        func allRuns(limit: Int) throws -> [RunRecord]? { nil }
        func prov(of commit: ObjectID) throws -> Data? { try inner.prov(of: commit) }
        func stages(at commit: ObjectID) throws -> (pipeline: String, stages: [StageView])? { nil }
        func retention(rules: [String]?) throws -> [RetentionDecision] { [] }
        func catalog(at commit: ObjectID) throws -> (Data, [String: String]) { try inner.catalog(at: commit) }
        func createRef(tag: Bool, name: String, at revision: String, message: String?) throws -> ObjectID {
            throw WebError.badInput("a static site changes nothing")
        }
        func protect(pattern: String, requireMerge: Bool, requireLineage: Bool) throws { throw WebError.badInput("a static site changes nothing") }
        func merge(_ source: String, into target: String) throws -> String { throw WebError.badInput("a static site changes nothing") }
        func redact(_ text: String) -> String { inner.redact(text) }
    }

    /// Writes the site of `revision` into `directory` (created; files replaced atomically).
    public static func write(_ source: any WebSource, revision: String, to directory: String) throws -> Outcome {
        let frozen = Frozen(inner: source)
        let pages = WebPages(source: frozen, links: .staticSite)
        let commit = try source.resolve(revision)
        try Posix.makeDirectories(directory)
        var files: [String: String] = ["style.css": webStyleSheet]
        let runs = try frozen.runs(of: commit)
        do {
            files["index.html"] = try pages.catalog(commit.hex)
            let doc = try source.catalog(at: commit).0
            for d in WebPages.parseCatalog(doc).items {
                files[WebLinks.staticSite.dataset(commit.hex, d.path)!] = try pages.dataset(commit.hex, path: d.path)
            }
        } catch let e as any StrataError where e.code == "catalog.nothing-published" {
            files["index.html"] = try pages.catalog(commit.hex)
        }
        files[WebLinks.staticSite.lineage(commit: commit.hex)!] = try pages.lineage(commit: commit.hex, dataset: nil, sha: nil, hops: 1)
        for r in runs { files[WebLinks.staticSite.run(r.runId, commit: commit.hex)!] = try pages.run(r.runId, commit: commit.hex) }
        for (name, text) in files.sorted(by: { $0.key < $1.key }) { try Posix.writeAtomically(directory + "/" + name, Array(text.utf8)) }
        return Outcome(commit: commit, files: files.keys.sorted())
    }
}
