import Foundation
import StrataRepository

/// The hook scripts strata ships (the same text as `hooks/` in the source tree), and their installation: a
/// workflow any client (the command line, a server) can run.
public enum Hooks {
    /// The pre-commit / pre-publish gate.
    public static let preCommit = """
        #!/bin/sh
        # strata pre-commit / pre-publish gate: refuse when the last commit lacks lineage, the store does not
        # check clean, or the pipeline is out of date. Installed by `strata hooks install`.
        set -e
        strata fsck --quiet
        strata lineage verify HEAD --quiet
        if [ -f Pipeline.swift ]; then
          if strata stages --json | grep -q '"state" : "out-of-date"'; then
            echo "strata: pipeline stages are out of date; run 'strata repro'" >&2; exit 1
          fi
        fi

        """

    /// Installs the gate as `pre-commit` and `pre-publish` in `.strata/hooks/` (and `.git/hooks/` when the workspace
    /// is also a git checkout); returns the paths written.
    public static func install(repo: Repository) throws -> [String] {
        var out: [String] = []
        for dir in [repo.storePath + "/hooks"] + (FileManager.default.fileExists(atPath: repo.root + "/.git") ? [repo.root + "/.git/hooks"] : []) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for name in ["pre-commit", "pre-publish"] {
                let path = dir + "/" + name
                try Data(preCommit.utf8).write(to: URL(fileURLWithPath: path))
                chmod(path, 0o755)
                out.append(path)
            }
        }
        return out
    }
}
