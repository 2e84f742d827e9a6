import ArgumentParser
import Foundation
import StrataRemote
import StrataRepository
import StrataWorkflows

/// `strata remote add | list | remove`.
struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote", abstract: "Manage remotes: shared folders (file:///path) and S3-compatible storage (s3://bucket/prefix).",
        discussion: """
            'add' probes the storage's conditional writes (create-only and compare-and-swap) and refuses storage that \
            ignores them unless --single-writer. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / \
            AWS_SESSION_TOKEN or AWS_PROFILE with ~/.aws/credentials, never from the store. 'strata push', 'fetch', 'pull' and 'clone' then name the remote.
            """,
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add remote NAME at URL after probing what its storage can do.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Remote name, e.g. origin.") var name: String
        @Argument(help: "file:///absolute/path or s3://bucket[/prefix].") var url: String
        @Option(help: ArgumentHelp("S3 endpoint (default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS).", valueName: "url")) var endpoint: String?
        @Option(help: "S3 region (default AWS_REGION, AWS_DEFAULT_REGION, the profile, else us-east-1).") var region: String?
        @Flag(help: "Path-style addressing (endpoint/bucket/key); the only style used so far, accepted for compatibility.") var pathStyle = false
        @Flag(help: "Accept storage that ignores conditional writes; only safe when a single machine ever writes.") var singleWriter = false
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let repo = try global.repository()
            let e = try RemoteWorkflow.add(
                repo, name: name, location: try RemoteLocation(url: url, endpoint: endpoint, region: region),
                singleWriter: singleWriter)
            if json { try Out.json(JSONRemote(e)); return }
            if !global.quiet {
                Out.line(
                    "Added remote \(e.name) \(e.location.url): create-only writes \(e.capabilities.createOnly ? "yes" : "NO"), compare-and-swap \(e.capabilities.compareAndSwap ? "yes" : "NO"), multipart \(e.capabilities.multipart ? "yes" : "no")\(e.singleWriter ? " (single writer)" : "")"
                )
                Out.flush()
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List remotes with their URL and what their storage can do.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let remotes = try RemoteWorkflow.list(try global.repository())
            if json { try Out.json(JSONList(remotes: remotes.map(JSONRemote.init))); return }
            for r in remotes {
                Out.line(
                    "\(r.name)\t\(r.location.url)\(r.location.endpoint.map { " (endpoint \($0))" } ?? "")\t\(r.capabilities.summary.isEmpty ? "no conditional writes" : r.capabilities.summary)\(r.singleWriter ? ", single writer" : "")"
                )
            }
            Out.flush()
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Forget remote NAME (nothing on the remote changes).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Remote name.") var name: String
        func run() throws { try RemoteWorkflow.remove(try global.repository(), name: name) }
    }

    struct JSONRemote: Encodable {
        var name: String; var url: String; var endpoint: String?; var region: String?
        var create_only: Bool; var compare_and_swap: Bool; var multipart: Bool; var single_writer: Bool; var repo_id: String?
        init(_ e: RemoteEntry) {
            name = e.name; url = e.location.url; endpoint = e.location.endpoint; region = e.location.region
            create_only = e.capabilities.createOnly; compare_and_swap = e.capabilities.compareAndSwap; multipart = e.capabilities.multipart
            single_writer = e.singleWriter; repo_id = e.repoId
        }
    }
    struct JSONList: Encodable { var version = 1; var remotes: [JSONRemote] }
}
