import StrataPlatform

/// The kind of a tree entry: a regular file, an executable file, a symlink or a subtree.
public enum EntryKind: String, Sendable, Codable, CaseIterable {
    case file, executable, symlink, directory

    /// The git-style octal mode shown to users.
    public var mode: String {
        switch self {
        case .file: return "100644"
        case .executable: return "100755"
        case .symlink: return "120000"
        case .directory: return "040000"
        }
    }

    /// The user-facing type word (`file`, `symlink`, `dir`).
    public var typeName: String {
        switch self {
        case .file, .executable: return "file"
        case .symlink: return "symlink"
        case .directory: return "dir"
        }
    }

    var code: UInt8 {
        switch self {
        case .file: return UInt8(ascii: "f");
        case .executable: return UInt8(ascii: "x")
        case .symlink: return UInt8(ascii: "l");
        case .directory: return UInt8(ascii: "d")
        }
    }

    init?(code: UInt8) {
        switch code {
        case UInt8(ascii: "f"): self = .file;
        case UInt8(ascii: "x"): self = .executable
        case UInt8(ascii: "l"): self = .symlink;
        case UInt8(ascii: "d"): self = .directory;
        default: return nil
        }
    }
}

/// One named entry of a tree: a file (by content id), a symlink (id of its target text) or a subtree.
public struct TreeEntry: Hashable, Sendable {
    /// A single path component.
    public var name: String
    /// What the entry is.
    public var kind: EntryKind
    /// Content id (file bytes, symlink target bytes, or subtree encoding).
    public var id: ObjectID
    /// Byte size of the file or symlink target; for a directory, the total size of the files below it.
    public var size: UInt64

    /// Creates an entry.
    public init(name: String, kind: EntryKind, id: ObjectID, size: UInt64) {
        self.name = name; self.kind = kind; self.id = id; self.size = size
    }

    /// Throws when `name` is not a safe single path component. Writers also refuse a name whose first or last scalar
    /// would join a neighbouring "/" into one Character (`SlashEdges`); readers accept it, as old stores may hold one.
    public static func validate(name: String) throws(ModelError) {
        if name.isEmpty || name == "." || name == ".." || name.utf8.contains(UInt8(ascii: "/"))
            || name.utf8.contains(0) || name.utf8.contains(UInt8(ascii: "\n")) || SlashEdges.merge(name)
        {
            throw .unsafeEntryName(name)
        }
    }
}

/// A directory snapshot: entries sorted by the UTF-8 bytes of their names, canonically encoded.
public struct Tree: Hashable, Sendable {
    /// The entries in canonical (byte-wise name) order.
    public private(set) var entries: [TreeEntry]

    /// Creates a tree, sorting the entries and validating every name.
    public init(entries: [TreeEntry]) throws(ModelError) {
        for e in entries { try TreeEntry.validate(name: e.name) }
        self.entries = entries.sorted { Tree.less($0.name, $1.name) }
        for i in self.entries.indices.dropFirst() where self.entries[i].name.utf8.elementsEqual(self.entries[i - 1].name.utf8) {
            throw .malformedObject(kind: "tree", reason: "duplicate entry '\(self.entries[i].name)'")
        }
        if let (a, b) = Tree.equivalentPairs(self.entries.lazy.map(\.name)).first { throw .equivalentNames(a, b) }
    }

    /// The pairs of names that are equal under Unicode normalization (an NFC "é" against an NFD "e" + U+0301) but not
    /// byte for byte, first name seen first. Swift's String equality and hashing follow canonical equivalence, so every
    /// String-keyed path comparison and dictionary would take such a pair for one file. The names need not be adjacent
    /// in byte order; ASCII names cannot collide this way and are not hashed. The names must be distinct as bytes.
    public static func equivalentPairs(_ names: some Sequence<String>) -> [(String, String)] {
        var seen = Set<String>()
        var pairs: [(String, String)] = []
        for name in names where name.utf8.contains(where: { $0 >= 0x80 }) {
            let (inserted, other) = seen.insert(name)
            if !inserted { pairs.append((other, name)) }
        }
        return pairs
    }

    /// The entries in byte order of the paths below the tree, which is the stat cache's order: a folder sorts as its
    /// name plus "/". Entries come sorted by name, so only folders can move.
    public var entriesInPathOrder: [(key: String, entry: TreeEntry)] {
        var out = entries.map { (key: $0.kind == .directory ? $0.name + "/" : $0.name, entry: $0) }
        if out.contains(where: { $0.entry.kind == .directory }) { out.sort { Tree.less($0.key, $1.key) } }
        return out
    }

    /// Names of a folder's children (`isDirectory` for folders) in byte order of their paths, as
    /// `entriesInPathOrder` orders a tree's.
    public static func inPathOrder(_ names: [(name: String, isDirectory: Bool)]) -> [(key: String, isDirectory: Bool)] {
        names.map { (key: $0.isDirectory ? $0.name + "/" : $0.name, isDirectory: $0.isDirectory) }.sorted { Tree.less($0.key, $1.key) }
    }

    /// Creates a tree without validating names. Only for tests that craft hostile stores.
    public init(uncheckedEntries: [TreeEntry]) { entries = uncheckedEntries }

    /// The empty tree.
    public static let empty = try! Tree(entries: [])

    /// Byte-wise UTF-8 order of names.
    public static func less(_ a: String, _ b: String) -> Bool {
        if let r = a.utf8.withContiguousStorageIfAvailable({ pa in
            b.utf8.withContiguousStorageIfAvailable { pb -> Bool in
                let n = min(pa.count, pb.count)
                var i = 0
                while i < n {
                    let x = pa[i], y = pb[i]
                    if x != y { return x < y }
                    i += 1
                }
                return pa.count < pb.count
            }
        }), let r {
            return r
        }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Looks up an entry by name (binary search).
    public func entry(named name: String) -> TreeEntry? {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].name == name { return entries[mid] }
            if Tree.less(entries[mid].name, name) { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    static let header = Array("strata-tree 1\n".utf8)

    /// The canonical, versioned encoding whose SHA-256 is the tree id.
    ///
    /// `strata-tree 1\n` then per entry: `<kind> <size> <64 hex id> <name byte length> <name>\n`.
    public func encoded() -> [UInt8] {
        var out = Tree.header
        out.reserveCapacity(entries.count * 100 + 16)
        for e in entries {
            out.append(e.kind.code); out.append(32)
            out.append(contentsOf: String(e.size).utf8); out.append(32)
            out.append(contentsOf: e.id.hex.utf8); out.append(32)
            out.append(contentsOf: String(e.name.utf8.count).utf8); out.append(32)
            out.append(contentsOf: e.name.utf8); out.append(10)
        }
        return out
    }

    /// The id of this tree.
    public var id: ObjectID { ObjectID.hash(encoded()) }

    /// Decodes a canonical tree; rejects non-canonical order, duplicates and unsafe names.
    public static func decode(_ bytes: [UInt8]) throws(ModelError) -> Tree {
        func bad(_ r: String) -> ModelError { .malformedObject(kind: "tree", reason: r) }
        guard bytes.starts(with: header) else { throw bad("missing 'strata-tree 1' header") }
        var i = header.count
        var entries: [TreeEntry] = []
        func readNumber() throws(ModelError) -> UInt64 {
            var v: UInt64 = 0; var digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                v = v &* 10 &+ UInt64(bytes[i] - 48); i += 1; digits += 1
                if digits > 19 { throw bad("number too long") }
            }
            guard digits > 0, i < bytes.count, bytes[i] == 32 else { throw bad("expected a number at byte \(i)") }
            i += 1
            return v
        }
        while i < bytes.count {
            guard let kind = EntryKind(code: bytes[i]), i + 1 < bytes.count, bytes[i + 1] == 32 else { throw bad("bad entry kind at byte \(i)") }
            i += 2
            let size = try readNumber()
            guard i + 65 <= bytes.count, bytes[i + 64] == 32,
                let id = bytes.withUnsafeBytes({ ObjectID(hexBytes: UnsafeRawBufferPointer(rebasing: $0[i..<i + 64])) })
            else { throw bad("bad id at byte \(i)") }
            i += 65
            let len = Int(try readNumber())
            guard i + len < bytes.count, bytes[i + len] == 10 else { throw bad("bad name length at byte \(i)") }
            // The same rule as TreeEntry.validate, in one pass over the bytes: no "/", NUL or newline, not "." or "..".
            var unsafe = len == 0 || (len <= 2 && bytes[i..<i + len].allSatisfy { $0 == 46 })
            var ascii = true
            for b in bytes[i..<i + len] {
                if b == 47 || b == 0 || b == 10 { unsafe = true }
                if b >= 0x80 { ascii = false }
            }
            // Decoded through the buffer (the generic `String(validating:)` looked up metadata per name). ASCII is
            // valid UTF-8; otherwise valid UTF-8 is exactly the input that decoding leaves unchanged (repair writes
            // U+FFFD where the input was invalid).
            let decoded = bytes.withUnsafeBufferPointer { all -> String? in
                let raw = UnsafeBufferPointer(rebasing: all[i..<i + len])
                let s = String(decoding: raw, as: UTF8.self)
                if ascii { return s }
                var copy = s
                return copy.withUTF8 { $0.elementsEqual(raw) } ? s : nil
            }
            guard let name = decoded else { throw bad("name is not valid UTF-8") }
            i += len + 1
            if unsafe { throw .unsafeEntryName(name) }
            if let last = entries.last, !less(last.name, name) { throw bad("entries not in canonical order at '\(name)'") }
            entries.append(TreeEntry(name: name, kind: kind, id: id, size: size))
        }
        return Tree(uncheckedEntries: entries)
    }
}
