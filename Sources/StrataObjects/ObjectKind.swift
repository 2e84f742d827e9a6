import StrataModel

/// What a stored object holds. The numeric codes are part of the on-disk format.
public enum ObjectKind: Int64, Sendable, CaseIterable, CustomStringConvertible {
    /// Raw bytes: a whole small file, one chunk of a large file, or a symlink target.
    case blob = 1
    /// The chunk list of a large file; its id is the SHA-256 of the whole file.
    case chunked = 2
    /// A canonical tree.
    case tree = 3
    /// A canonical commit.
    case commit = 4

    public var description: String {
        switch self {
        case .blob: "blob";
        case .chunked: "chunked file";
        case .tree: "tree";
        case .commit: "commit"
        }
    }
}

/// The chunk list of a large file: `strata-chunks 1\n`, then per chunk 32 id bytes and a 4-byte big-endian size,
/// then the SHA-256 of everything before it (so the list verifies itself without re-hashing the whole file).
public struct ChunkList: Sendable, Equatable {
    /// Chunks in file order.
    public var chunks: [(id: ObjectID, size: UInt32)]

    /// Creates a chunk list.
    public init(chunks: [(id: ObjectID, size: UInt32)]) { self.chunks = chunks }

    public static func == (a: ChunkList, b: ChunkList) -> Bool {
        a.chunks.count == b.chunks.count && zip(a.chunks, b.chunks).allSatisfy { $0.id == $1.id && $0.size == $1.size }
    }

    static let header = Array("strata-chunks 1\n".utf8)

    /// Total file size.
    public var totalSize: UInt64 { chunks.reduce(0) { $0 + UInt64($1.size) } }

    /// The stored encoding.
    public func encoded() -> [UInt8] {
        var out = ChunkList.header
        out.reserveCapacity(out.count + chunks.count * 36)
        for c in chunks {
            out.append(contentsOf: c.id.bytes)
            for s in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: c.size >> UInt32(s))) }
        }
        out.append(contentsOf: ObjectID.hash(out).bytes)
        return out
    }

    /// Decodes a stored chunk list.
    public static func decode(_ b: [UInt8]) -> ChunkList? {
        guard b.starts(with: header), b.count >= header.count + 32, (b.count - header.count - 32) % 36 == 0 else { return nil }
        let end = b.count - 32
        guard ObjectID.hash(Array(b[..<end])) == ObjectID(bytes: b[end...]) else { return nil }
        var out: [(ObjectID, UInt32)] = []
        var i = header.count
        while i < end {
            let id = ObjectID(bytes: b[i..<i + 32])
            let s = b[(i + 32)..<(i + 36)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            out.append((id, s)); i += 36
        }
        return ChunkList(chunks: out)
    }
}
