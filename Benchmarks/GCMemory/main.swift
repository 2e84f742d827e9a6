// Builds a store with many objects through the library, for measuring gc's peak memory:
//   strata-gc-memory-bench DIR [OBJECTS]     (default 1,000,000 objects in 1,000 commits)
// then: strata -C DIR prune --keep-last 10 && /usr/bin/time -v strata -C DIR gc --grace 0s
import Foundation
import StrataModel
import StrataObjects
import StrataRefs
import StrataRepository

let args = CommandLine.arguments
guard args.count >= 2 else { print("usage: strata-gc-memory-bench DIR [OBJECTS]"); exit(64) }
let total = args.count > 2 ? Int(args[2]) ?? 1_000_000 : 1_000_000
let perCommit = 1000
let repo = try Repository.initialize(at: args[1])
let author = try Signature(name: "Bench", email: "bench@example.org")
var parent: ObjectID?
let commits = max(1, total / perCommit)
for c in 0..<commits {
    let session = repo.objects.beginWrite()
    var entries: [TreeEntry] = []
    entries.reserveCapacity(perCommit)
    for k in 0..<perCommit {
        let bytes = Array("commit \(c) object \(k) \(k &* 2654435761)\n".utf8)
        let id = try session.put(.blob, bytes)
        entries.append(TreeEntry(name: "f\(k).txt", kind: .file, id: id, size: UInt64(bytes.count)))
    }
    let sub = try Tree(entries: entries)
    let subID = try session.put(.tree, sub.encoded())
    let root = try Tree(entries: [TreeEntry(name: "data", kind: .directory, id: subID, size: 0)])
    let rootID = try session.put(.tree, root.encoded())
    let commit = Commit(tree: rootID, parents: parent.map { [$0] } ?? [], author: author, time: 1_700_000_000 + Int64(c) * 3600, message: "c\(c)")
    let id = try session.put(.commit, commit.encoded())
    try session.finishPacks()
    try repo.db.transaction {
        try session.recordIndex()
        try repo.refs.updateBranch(.main, expected: parent, new: id, message: "bench", time: commit.time)
    }
    parent = id
    if c % 100 == 0 { FileHandle.standardError.write(Data("\(c * perCommit) objects\n".utf8)) }
}
print("created \(commits * (perCommit + 3)) objects in \(commits) commits")
