import ArgumentParser
import Foundation
import StrataServer
import StrataWeb

/// `strata ui`.
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui", abstract: "Browse this store in a web browser: commits, files, table diffs, lineage graphs, the pipeline and the catalogue.",
        discussion: """
            Serves the same pages as a strata server's /NAMESPACE/ui, for the store in the working folder, on \
            127.0.0.1 only (no sign-in: whoever reaches the port is on this machine; requests must name 127.0.0.1 or \
            localhost, and forms carry a token drawn at start). Prints the URL, then serves until Ctrl-C.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Port on 127.0.0.1 (0: any free port).", valueName: "port")) var port = 8485

    func run() throws {
        let repo = try global.repository()
        guard (0...65535).contains(port) else { throw ValidationError("--port takes 0 to 65535") }
        let p = port
        try runUntilDone {
            try await StrataServer.runUI(repo: repo, port: p) { url in
                Out.line("strata ui: open \(url)")
                Out.flush()
            }
        }
    }
}

/// `strata site`.
struct SiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site", abstract: "Write the catalogue, dataset, lineage and run pages of a commit as a static HTML site (SVG graphs, relative links).",
        discussion: """
            For publishing with a documentation site (MkDocs, GitHub Pages): index.html is the DCAT catalogue, with a \
            page per published dataset, the lineage graph of the commit and a page per run behind it. Personal data is \
            redacted as in the lineage exports. Files in DIR with the same names are replaced; others are left alone.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Folder to write (created when missing).", valueName: "dir")) var out: String
    @Argument(help: "Revision (default HEAD).") var ref = "HEAD"
    @Flag(help: "Print JSON.") var json = false

    struct JSONSite: Encodable { var version = 1; var commit: String; var files: [String] }

    func run() throws {
        let repo = try global.repository()
        let dir = out.hasPrefix("/") ? out : FileManager.default.currentDirectoryPath + "/" + out
        let outcome = try StaticSite.write(LocalWebSource(repo: repo), revision: ref, to: dir)
        if json { try Out.json(JSONSite(commit: outcome.commit.hex, files: outcome.files)); return }
        if !global.quiet { Out.line("wrote \(outcome.files.count) files of commit \(outcome.commit.short) to \(out)") }
        Out.flush()
    }
}
