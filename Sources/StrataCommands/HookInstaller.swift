import Foundation
import StrataRepository

/// The hook scripts strata ships (the same text as `hooks/` in the source tree).
enum HookInstaller {
    static let preCommit = """
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

    static func install(repo: Repository) throws -> [String] {
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
