import Foundation
import StrataModel
import StrataObjects
import StrataPlatform
import StrataWorkspace

#if canImport(Glibc)
import Glibc
#endif

extension Repository {
    /// What a streamed first commit stored: the root tree, how many files it records, and the stat-cache entries to
    /// write (spilled, not held).
    struct StreamedSnapshot {
        var tree: ObjectID
        var files: Int
        var cacheUpdates: StatCacheSpill
    }

    /// Stores the whole workspace for a first commit in memory that does not grow with it. One thread walks the
    /// folders depth first, in byte order of paths, merge-joined with the stat cache; the files the cache cannot
    /// vouch for go through a short queue to one worker per core, which stores them. A folder's tree is stored as
    /// soon as its last file and subfolder are done, and its entry goes to its parent, so only the folders still
    /// open (the walk's path and those with files in the queue) are held. Stat-cache entries go to a spill file.
    func streamedFirstSnapshot(session: WriteSession, progress: ProgressHandler?) throws -> StreamedSnapshot {
        let spill = try StatCacheSpill(directory: objects.packsPath)
        let trees = FolderAssembly(session: session)
        let queue = StoreQueue(capacity: 512)
        let counts = Locked<(files: Int, bytes: UInt64, seen: Int)>((0, 0, 0))
        let root = self.root
        let now = Posix.nowNs()
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let done = DispatchGroup()
        for _ in 0..<workers {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                while let job = queue.pop() {
                    do {
                        let full = root + "/" + job.path
                        let entry: TreeEntry
                        if job.kind == .symlink {
                            let (id, size, target) = try ContentHasher.hashSymlink(full)
                            try session.put(.blob, target, id: id)
                            entry = TreeEntry(name: job.name, kind: .symlink, id: id, size: size)
                        } else {
                            let s = try session.storeFile(path: full)
                            entry = TreeEntry(name: job.name, kind: s.stat.isExecutable ? .executable : .file, id: s.id, size: s.size)
                            try spill.append(job.path, StatCacheEntry(stat: s.stat, id: s.id, writtenNs: now))
                        }
                        try trees.finish(job.folder, with: entry)
                        let (f, b, seen) = counts.with { c -> (Int, UInt64, Int) in
                            c.files += 1; c.bytes += entry.size; return c
                        }
                        progress?(ProgressReport(phase: "storing", files: f, totalFiles: seen, bytes: b, totalBytes: 0))
                    } catch {
                        queue.fail(error)
                    }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        var bad: [String] = []
        let top = FolderAssembly.Node(name: "", parent: nil)
        var walkError: Error?
        var large: [(job: StoreQueue.Job, size: UInt64)] = []
        do {
            try db.readSnapshot {
                let cursor = try statCache.cursor(below: "")
                try streamFolder(
                    "", node: top, scanner: Scanner(root: root), cache: { try cursor.entry(for: $0) }, bad: &bad, trees: trees, queue: queue,
                    large: &large, counts: counts)
            }
            // Large files last, largest first, so that the workers finish together.
            for l in large.sorted(by: { $0.size > $1.size }) { queue.push(l.job) }
        } catch {
            walkError = error
            queue.fail(error)
        }
        queue.close()
        done.wait()
        // Names that cannot be versioned first: two names equal under Unicode normalization also fail their folder's
        // tree, and the listing names both, with their folder.
        if !bad.isEmpty { throw WorkspaceError.unversionableNames(bad.sorted()) }
        if let e = walkError ?? queue.failure { throw e }
        try trees.finish(top, with: nil)  // the walk's own hold on the root
        guard let rootTree = trees.root else { throw RepositoryError.invalidArgument("the workspace walk ended with folders still open (this is a bug)") }
        return StreamedSnapshot(tree: rootTree, files: counts.get.files, cacheUpdates: spill)
    }

    /// How many large files (chunked ones) a streamed first commit holds back to store last, largest first; beyond
    /// that many they are stored as met.
    static let largeFilesHeldBack = 4096

    /// One folder of the streamed walk: its files (from the cache, or queued to be stored) and its subfolders (walked
    /// at their place in byte order of paths, which is the cache cursor's order). The folder's node keeps one hold
    /// of its own until its listing is done, so it cannot be finished early by a fast worker.
    private func streamFolder(
        _ rel: String, node: FolderAssembly.Node, scanner: StrataWorkspace.Scanner, cache: (String) throws -> StatCacheEntry?, bad: inout [String],
        trees: FolderAssembly,
        queue: StoreQueue, large: inout [(job: StoreQueue.Job, size: UInt64)], counts: Locked<(files: Int, bytes: UInt64, seen: Int)>
    ) throws {
        guard let listed = try scanner.children(rel, &bad) else { return }
        let items = Tree.inPathOrder(listed)
        let dirPath = rel.isEmpty ? root : root + "/" + rel
        var fd: Int32 = -1
        defer { if fd >= 0 { close(fd) } }
        for item in items {
            if queue.failure != nil { return }
            let name = item.isDirectory ? String(item.key.dropLast()) : item.key
            let path = rel.isEmpty ? name : rel + "/" + name
            if item.isDirectory {
                let child = FolderAssembly.Node(name: name, parent: node)
                trees.hold(node)
                try streamFolder(path, node: child, scanner: scanner, cache: cache, bad: &bad, trees: trees, queue: queue, large: &large, counts: counts)
                try trees.finish(child, with: nil)
                continue
            }
            if fd < 0 {
                fd = Glibc.open(dirPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if fd < 0 { throw PosixError("open directory", dirPath) }
            }
            var st = stat()
            if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                if errno == ENOENT { continue }  // gone since the listing: not recorded, as if never there
                throw PosixError("stat", dirPath + "/" + name)
            }
            let fs = FileStat(st)
            guard fs.isSymlink || fs.isRegular else { continue }
            let e = ScannedEntry(path: path, stat: fs, kind: fs.isSymlink ? .symlink : fs.isExecutable ? .executable : .file)
            counts.with { $0.seen += 1 }
            trees.hold(node)
            if let c = try cache(path), try vouches(c, for: e, session: trees.session, head: nil) {
                try trees.finish(node, with: TreeEntry(name: name, kind: e.kind, id: c.id, size: c.size))
                counts.with {
                    $0.files += 1; $0.bytes += c.size
                }
            } else if e.kind != .symlink && e.stat.size >= UInt64(Chunker.threshold) && large.count < Repository.largeFilesHeldBack {
                large.append((StoreQueue.Job(folder: node, name: name, path: path, kind: e.kind), e.stat.size))
            } else {
                queue.push(StoreQueue.Job(folder: node, name: name, path: path, kind: e.kind))
            }
        }
    }
}

/// The trees of a streamed walk, each stored when its folder is complete. A node counts its holds: one for the walk
/// while it lists the folder, and one per file or subfolder not done yet; at zero its tree is stored and its entry
/// handed to its parent (an empty folder hands nothing, as a commit records no empty folders). `lock` guards every
/// node's entries and holds, and the root's result.
final class FolderAssembly: @unchecked Sendable {
    /// One open folder.
    final class Node {
        let name: String
        let parent: Node?
        var entries: [TreeEntry] = []
        var holds = 1
        init(name: String, parent: Node?) { self.name = name; self.parent = parent }
    }

    let session: WriteSession
    private let lock = NSLock()
    private(set) var root: ObjectID?

    init(session: WriteSession) { self.session = session }

    /// One more thing the folder waits for.
    func hold(_ node: Node) { lock.withLock { node.holds += 1 } }

    /// One thing the folder waited for is done (`entry` nil: it adds no entry). Stores the folder's tree when it was
    /// the last, and so on up the path.
    func finish(_ node: Node, with entry: TreeEntry?) throws {
        var node = node, entry = entry
        while true {
            let complete: [TreeEntry]? = lock.withLock {
                if let entry { node.entries.append(entry) }
                node.holds -= 1
                guard node.holds == 0 else { return nil }
                defer { node.entries = [] }
                return node.entries
            }
            guard let entries = complete else { return }
            if entries.isEmpty && node.parent != nil {
                entry = nil
            } else {
                let tree = try Tree(entries: entries)
                let id = try session.put(.tree, tree.encoded())
                entry = TreeEntry(name: node.name, kind: .directory, id: id, size: entries.reduce(0) { $0 + $1.size })
            }
            guard let parent = node.parent else {
                lock.withLock { root = entry?.id }
                return
            }
            node = parent
        }
    }
}

/// The files a streamed walk hands to its storing workers: a bounded queue (the walk waits when it is full, so
/// memory does not grow with the workspace), closed when the walk is done; the first failure stops both sides.
/// `condition` guards everything.
final class StoreQueue: @unchecked Sendable {
    /// One file to store.
    struct Job {
        var folder: FolderAssembly.Node
        var name: String
        var path: String
        var kind: EntryKind
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var head = 0
    private var closed = false
    private var error: Error?
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// The first failure, if any.
    var failure: Error? { condition.withLock { error } }

    /// Adds a job, waiting while the queue is full (dropped after a failure: the commit is abandoned).
    func push(_ job: Job) {
        condition.withLock {
            while jobs.count - head >= capacity && error == nil { condition.wait() }
            if error != nil { return }
            if head > capacity { jobs.removeFirst(head); head = 0 }
            jobs.append(job)
            condition.broadcast()
        }
    }

    /// The next job; nil once the queue is closed and empty, or after a failure.
    func pop() -> Job? {
        condition.withLock {
            while head == jobs.count && !closed && error == nil { condition.wait() }
            if error != nil || head == jobs.count { return nil }
            head += 1
            condition.broadcast()
            return jobs[head - 1]
        }
    }

    /// No more jobs will come.
    func close() {
        condition.withLock {
            closed = true; condition.broadcast()
        }
    }

    /// Stops the walk and the workers with `e` (the first failure wins).
    func fail(_ e: Error) {
        condition.withLock {
            if error == nil { error = e }
            condition.broadcast()
        }
    }
}
