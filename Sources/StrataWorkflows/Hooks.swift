import Foundation
import StrataPipeline
import StrataPlatform
import StrataRepository

/// An installed hook refused the command.
public struct HookRejected: StrataError {
    /// The hook's name (`pre-commit`, `pre-push`).
    public let hook: String
    /// Its exit status.
    public let status: Int32
    /// The end of what it printed.
    public let output: String

    public var code: String { "hook.rejected" }
    public var category: ErrorCategory { .hookRejected }
    public var message: String {
        "the \(hook) hook refused (exit \(status)); nothing was \(hook == "pre-push" ? "sent" : "committed")" + (output.isEmpty ? "" : ":\n" + output)
    }
    public var nextStep: String? { "fix what it reports, or skip hooks with --no-verify" }
}

/// The hook scripts strata ships (the same text as `hooks/` in the source tree), their installation, and running
/// them as git does: `strata commit` runs `.strata/hooks/pre-commit`, `strata push` runs `.strata/hooks/pre-push`
/// (arguments: remote name and URL; stdin: one `LOCAL-REF LOCAL-ID REMOTE-REF REMOTE-ID` line per ref), and a
/// non-zero exit refuses the command. A workflow any client (the command line, a server) runs.
public enum Hooks {
    /// The pre-commit / pre-publish gate.
    public static let preCommit = """
        #!/bin/sh
        # strata pre-commit / pre-publish gate: refuse when the last commit lacks lineage, the store does not
        # check clean, or the pipeline is out of date. Installed by `strata hooks install`.
        set -e
        strata fsck --quiet
        if strata log -n 1 --oneline >/dev/null 2>&1; then
          strata lineage verify HEAD --quiet
        fi
        if [ -f Pipeline.swift ]; then
          if strata stages --json | grep -q '"state" : "out-of-date"'; then
            echo "strata: pipeline stages are out of date; run 'strata repro'" >&2; exit 1
          fi
        fi

        """

    /// The pre-push gate: every commit a push would publish has complete lineage.
    public static let prePush = """
        #!/bin/sh
        # strata pre-push gate: refuse to publish a commit whose lineage is incomplete (`strata lineage verify`).
        # Arguments: remote name and URL; stdin: LOCAL-REF LOCAL-ID REMOTE-REF REMOTE-ID per ref. Installed by
        # `strata hooks install`.
        status=0
        while read -r local_ref local_id remote_ref remote_id; do
          [ "$local_id" = "0000000000000000000000000000000000000000000000000000000000000000" ] && continue
          if ! strata lineage verify "$local_id" --quiet; then
            echo "strata: $local_ref is not published to $1: its lineage is incomplete" >&2
            status=1
          fi
        done
        exit $status

        """

    /// The hooks `install` writes: name → script.
    public static let shipped: [(String, String)] = [("pre-commit", preCommit), ("pre-publish", preCommit), ("pre-push", prePush)]

    /// Installs the gates in `.strata/hooks/` (and `pre-commit` and `pre-publish` in `.git/hooks/` when the workspace
    /// is also a git checkout); returns the paths written.
    public static func install(repo: Repository) throws -> [String] {
        var out: [String] = []
        let git = FileManager.default.fileExists(atPath: repo.root + "/.git")
        for dir in [repo.storePath + "/hooks"] + (git ? [repo.root + "/.git/hooks"] : []) {
            try Posix.makeDirectories(dir)
            for (name, text) in shipped where !(dir.hasSuffix(".git/hooks") && name == "pre-push") {
                let path = dir + "/" + name
                try Posix.writeAtomically(path, Array(text.utf8), mode: 0o755)
                out.append(path)
            }
        }
        return out
    }

    /// Runs `.strata/hooks/NAME` when it exists and is executable, in the workspace root, with `strata` itself first
    /// on PATH; throws `HookRejected` when it exits non-zero.
    public static func run(_ name: String, repo: Repository, arguments: [String] = [], input: String = "") throws {
        let path = repo.storePath + "/hooks/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else { return }
        var env = ProcessInfo.processInfo.environment
        let me = URL(fileURLWithPath: CommandLine.arguments.first ?? "strata").resolvingSymlinksInPath().deletingLastPathComponent().path
        env["PATH"] = me + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["STRATA_HOOK"] = name
        // The hook reads its stdin from a file (the executor gives children no stdin of ours).
        let stdin = NSTemporaryDirectory() + "strata-hook-\(Posix.randomHex(6))"
        try Posix.writeAtomically(stdin, Array(input.utf8))
        defer { try? FileManager.default.removeItem(atPath: stdin) }
        let quoted = ([path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let r = try StageExecutor.run("/bin/sh", ["-c", quoted + " < '" + stdin + "'"], environment: env, directory: repo.root)
        if r.status != 0 {
            let text = String(decoding: r.stderr.suffix(4096) + r.stdout.suffix(2048), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw HookRejected(hook: name, status: r.status, output: text)
        }
    }
}
