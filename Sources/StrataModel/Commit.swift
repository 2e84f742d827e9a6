/// Who made a commit: a display name and an e-mail address.
public struct Signature: Hashable, Sendable, CustomStringConvertible {
    /// Display name.
    public var name: String
    /// E-mail address (may be empty).
    public var email: String

    /// Creates a signature; names and e-mails may not contain `<`, `>` or line breaks.
    public init(name: String, email: String) throws(ModelError) {
        // Bytes, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n", and would split the line.
        func bad(_ b: UInt8) -> Bool { b == 0x3C || b == 0x3E || b == 0x0A || b == 0x0D || b == 0 }
        if name.utf8.contains(where: bad) || email.utf8.contains(where: bad) || name.isEmpty {
            throw .invalidSignature("\(name) <\(email)>")
        }
        self.name = name; self.email = email
    }

    /// Parses `Name <email>`.
    public init(parsing text: String) throws(ModelError) {
        guard let lt = text.firstIndex(of: "<"), text.hasSuffix(">") else { throw .invalidSignature(text) }
        let name = text[..<lt].trimmingCharacters(in: " ")
        let email = String(text[text.index(after: lt)..<text.index(before: text.endIndex)])
        try self.init(name: String(name), email: email)
    }

    public var description: String { "\(name) <\(email)>" }
}

extension Substring {
    func trimmingCharacters(in c: Character) -> Substring {
        var s = self
        while s.first == c { s = s.dropFirst() }
        while s.last == c { s = s.dropLast() }
        return s
    }
}

/// A snapshot of the workspace: a root tree, its parents, who made it, when and why.
public struct Commit: Hashable, Sendable {
    /// Root tree id.
    public var tree: ObjectID
    /// Parent commits (first parent first).
    public var parents: [ObjectID]
    /// Author.
    public var author: Signature
    /// Commit time, seconds since the Unix epoch (UTC).
    public var time: Int64
    /// Offset of the author's time zone from UTC, in minutes.
    public var timeZoneOffsetMinutes: Int
    /// The message, stored byte for byte.
    public var message: String

    /// Creates a commit value.
    public init(tree: ObjectID, parents: [ObjectID], author: Signature, time: Int64, timeZoneOffsetMinutes: Int = 0, message: String) {
        self.tree = tree; self.parents = parents; self.author = author; self.time = time
        self.timeZoneOffsetMinutes = timeZoneOffsetMinutes; self.message = message
    }

    static let header = "strata-commit 1\n"

    /// The canonical, versioned encoding whose SHA-256 is the commit id.
    public func encoded() -> [UInt8] {
        var s = Commit.header
        s += "tree \(tree.hex)\n"
        for p in parents { s += "parent \(p.hex)\n" }
        s += "author \(author.name) <\(author.email)>\n"
        let off = timeZoneOffsetMinutes
        let sign = off < 0 ? "-" : "+"
        let a = abs(off)
        let hh = a / 60 < 10 ? "0\(a / 60)" : "\(a / 60)"
        let mm = a % 60 < 10 ? "0\(a % 60)" : "\(a % 60)"
        s += "time \(time) \(sign)\(hh)\(mm)\n\n"
        s += message
        return Array(s.utf8)
    }

    /// The id of this commit.
    public var id: ObjectID { ObjectID.hash(encoded()) }

    /// Decodes a canonical commit.
    public static func decode(_ bytes: [UInt8]) throws(ModelError) -> Commit {
        func bad(_ r: String) -> ModelError { .malformedObject(kind: "commit", reason: r) }
        let hb = Array(header.utf8)
        guard bytes.starts(with: hb) else { throw bad("missing 'strata-commit 1' header") }
        var sep = -1
        var k = hb.count
        while k + 1 < bytes.count { if bytes[k] == 10 && bytes[k + 1] == 10 { sep = k; break }; k += 1 }
        guard sep >= 0 else { throw bad("missing blank line before the message") }
        let head = String(decoding: bytes[hb.count..<sep], as: UTF8.self)[...]
        let message = String(decoding: bytes[(sep + 2)...], as: UTF8.self)
        var tree: ObjectID?; var parents: [ObjectID] = []; var author: Signature?; var time: Int64?; var tz = 0
        for line in head.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let sp = line.firstIndex(of: " ") else { throw bad("bad header line '\(line)'") }
            let key = line[..<sp], value = line[line.index(after: sp)...]
            switch key {
            case "tree":
                guard tree == nil, parents.isEmpty, let id = ObjectID(hex: value) else { throw bad("bad tree line") }
                tree = id
            case "parent":
                guard tree != nil, author == nil, let id = ObjectID(hex: value) else { throw bad("bad parent line") }
                parents.append(id)
            case "author":
                do { author = try Signature(parsing: String(value)) } catch { throw bad("bad author line") }
            case "time":
                let parts = value.split(separator: " ")
                guard parts.count == 2, let t = Int64(parts[0]), parts[1].count == 5,
                    let hh = Int(parts[1].dropFirst().prefix(2)), let mm = Int(parts[1].suffix(2))
                else { throw bad("bad time line") }
                time = t; tz = (hh * 60 + mm) * (parts[1].first == "-" ? -1 : 1)
            default: throw bad("unknown header '\(key)'")
            }
        }
        guard let tree, let author, let time else { throw bad("missing tree, author or time") }
        let c = Commit(tree: tree, parents: parents, author: author, time: time, timeZoneOffsetMinutes: tz, message: message)
        guard c.encoded() == bytes else { throw bad("not in canonical form") }
        return c
    }
}
