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

/// The chunk list of a large file: `strata-chunks 1\n` (or `strata-chunks 2\n` when every chunk starts at a record
/// boundary of a CSV, TSV or JSONL table), then per chunk 32 id bytes and a 4-byte big-endian size, then the SHA-256
/// of everything before it (so the list verifies itself without re-hashing the whole file).
public struct ChunkList: Sendable, Equatable {
    /// Chunks in file order.
    public var chunks: [(id: ObjectID, size: UInt32)]
    /// Every chunk starts at a record boundary (outside quotes): identical chunks of two versions hold identical rows.
    public var recordAligned: Bool

    /// Creates a chunk list.
    public init(chunks: [(id: ObjectID, size: UInt32)], recordAligned: Bool = false) { self.chunks = chunks; self.recordAligned = recordAligned }

    public static func == (a: ChunkList, b: ChunkList) -> Bool {
        a.recordAligned == b.recordAligned && a.chunks.count == b.chunks.count
            && zip(a.chunks, b.chunks).allSatisfy { $0.id == $1.id && $0.size == $1.size }
    }

    static let header = Array("strata-chunks 1\n".utf8)
    static let alignedHeader = Array("strata-chunks 2\n".utf8)

    /// Total file size.
    public var totalSize: UInt64 { chunks.reduce(0) { $0 + UInt64($1.size) } }

    /// The stored encoding.
    public func encoded() -> [UInt8] {
        var out = recordAligned ? ChunkList.alignedHeader : ChunkList.header
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
        let aligned = b.starts(with: alignedHeader)
        guard b.starts(with: header) || aligned, b.count >= header.count + 32, (b.count - header.count - 32) % 36 == 0 else { return nil }
        let end = b.count - 32
        guard ObjectID.hash(Array(b[..<end])) == ObjectID(bytes: b[end...]) else { return nil }
        var out: [(ObjectID, UInt32)] = []
        var i = header.count
        while i < end {
            let id = ObjectID(bytes: b[i..<i + 32])
            let s = b[(i + 32)..<(i + 36)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            out.append((id, s)); i += 36
        }
        return ChunkList(chunks: out, recordAligned: aligned)
    }
}
