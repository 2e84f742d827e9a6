import Foundation
import StrataModel
import StrataPlatform
import StrataSQLite

/// Why a frame's bytes are not a valid frame.
struct FrameDamage: Error { var reason: String }

/// A frame of a local pack: where its header starts and how long it is with the header.
public struct FrameRef: Hashable, Sendable, Comparable {
    /// Row id of the pack.
    public var pack: Int64
    /// Offset of the frame header in the pack.
    public var offset: Int64
    /// Header and stored bytes.
    public var length: Int64
    /// Creates a value.
    public init(pack: Int64, offset: Int64, length: Int64) { self.pack = pack; self.offset = offset; self.length = length }
    public static func < (a: FrameRef, b: FrameRef) -> Bool { (a.pack, a.offset) < (b.pack, b.offset) }
}

/// One object inside a frame: its id, kind and slice of the decompressed frame.
public struct FrameMember: Sendable, Equatable {
    /// The object id.
    public var id: ObjectID
    /// What it is.
    public var kind: ObjectKind
    /// Offset inside the decompressed frame.
    public var offset: Int64
    /// Length of its bytes.
    public var length: Int64
    /// Creates a value.
    public init(id: ObjectID, kind: ObjectKind, offset: Int64, length: Int64) { self.id = id; self.kind = kind; self.offset = offset; self.length = length }
}

extension ObjectStore {
    /// Decodes a frame as stored (header and bytes) into its decompressed bytes, checking the header.
    static func decodeFrame(_ stored: [UInt8]) throws -> [UInt8] {
        guard stored.count >= ObjectStore.frameHeader, Array(stored[0..<3]) == ObjectStore.frameMagic else {
            throw FrameDamage(reason: "frame header is damaged or truncated")
        }
        let comp = stored[3]
        let rawLen = Int(stored[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        let storedLen = Int(stored[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard storedLen == stored.count - ObjectStore.frameHeader else { throw FrameDamage(reason: "frame length does not match the index") }
        guard Int64(rawLen) <= ObjectStore.maxFrameBytes else { throw FrameDamage(reason: "frame header claims \(rawLen) bytes") }
        switch comp {
        case 0:
            guard rawLen == storedLen else { throw FrameDamage(reason: "stored frame length differs from its raw length") }
            return Array(stored[ObjectStore.frameHeader...])
        case 1:
            guard let r = stored.withUnsafeBytes({ Zstd.decompress(UnsafeRawBufferPointer(rebasing: $0[ObjectStore.frameHeader...]), rawLength: rawLen) }),
                r.count == rawLen
            else { throw FrameDamage(reason: "zstd frame does not decompress") }
            return r
        default:
            throw FrameDamage(reason: "unknown compression \(comp)")
        }
    }

    /// The frame holding an indexed object.
    public func frameRef(of id: ObjectID) throws -> (FrameRef, FrameMember)? {
        guard let l = try location(id) else { return nil }
        return (FrameRef(pack: l.pack, offset: l.frameOffset, length: l.frameLength), FrameMember(id: id, kind: l.kind, offset: l.offset, length: l.length))
    }

    /// Every indexed object in a frame, by offset.
    public func members(of f: FrameRef) throws -> [FrameMember] {
        var out: [FrameMember] = []
        try db.query(
            "SELECT id, kind, offset, length FROM objects WHERE pack = ? AND frame_offset = ? ORDER BY offset", [.int(f.pack), .int(f.offset)]
        ) { r in
            out.append(
                FrameMember(
                    id: try ObjectID(validating: r.blob(0), what: "objects index"), kind: ObjectKind(rawValue: r.int(1)) ?? .blob, offset: r.int(2),
                    length: r.int(3)))
        }
        return out
    }

    /// A frame's bytes exactly as stored (header included), to be copied into another pack without recompression.
    public func storedFrame(_ f: FrameRef) throws -> [UInt8] {
        try withDescriptor(f.pack) { fd, name, _ in
            guard f.offset >= Int64(ObjectStore.packMagic.count), f.length >= Int64(ObjectStore.frameHeader), f.length <= ObjectStore.maxFrameBytes else {
                throw ObjectError.corruptPack(name, reason: "frame \(f.offset)+\(f.length) lies outside the pack")
            }
            var stored = [UInt8](repeating: 0, count: Int(f.length))
            let got = try stored.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: f.offset, path: name) }
            guard got == stored.count, Array(stored[0..<3]) == ObjectStore.frameMagic else {
                throw ObjectError.corruptPack(name, reason: "frame at offset \(f.offset) is damaged or truncated")
            }
            return stored
        }
    }

    /// Checks a frame that came from elsewhere (a remote): it decodes, every member lies inside it, and every
    /// member's bytes hash to its id (a chunk list: its own trailer; the whole file is checked once all its chunks are
    /// stored, by `verifyFile`). Throws `ObjectError.corrupt` naming the first bad object and `source`.
    public static func verifyFrame(_ stored: [UInt8], members: [FrameMember], source: String) throws {
        let raw: [UInt8]
        do { raw = try decodeFrame(stored) } catch let e as FrameDamage {
            throw ObjectError.corrupt(members.first?.id ?? ObjectID(bytes: [UInt8](repeating: 0, count: 32)), pack: source, reason: e.reason)
        }
        for m in members {
            guard m.offset >= 0, m.length >= 0, m.offset + m.length <= Int64(raw.count) else {
                throw ObjectError.corrupt(m.id, pack: source, reason: "its slice lies outside its frame")
            }
            let slice = raw[Int(m.offset)..<Int(m.offset + m.length)]
            if m.kind == .chunked {
                guard ChunkList.decode(Array(slice)) != nil else { throw ObjectError.corrupt(m.id, pack: source, reason: "chunk list fails its checksum") }
            } else {
                let got = slice.withUnsafeBytes { ObjectID.hash($0) }
                guard got == m.id else { throw ObjectError.corrupt(m.id, pack: source, reason: "content hashes to \(got.hex)") }
            }
        }
    }

    /// The decompressed bytes of a frame that `verifyFrame` accepted.
    public static func verifiedRaw(_ stored: [UInt8]) throws -> [UInt8] {
        do { return try decodeFrame(stored) } catch let e as FrameDamage { throw ObjectError.corruptPack("transferred frame", reason: e.reason) }
    }

    /// Reads a chunked file whole and checks that its bytes hash to its id (after a transfer).
    public func verifyFile(_ id: ObjectID) throws { try streamFile(id) { _ in } }
}

extension WriteSession {
    /// Copies a frame as stored into this session's packs and indexes the given members at its new place. The caller
    /// has verified it (`ObjectStore.verifyFrame`). Members the store already has keep their old rows.
    public func appendStoredFrame(_ stored: [UInt8], members: [FrameMember]) throws {
        try withLane { lane in
            let (fo, fl) = try stored.withUnsafeBytes { try lane.writeStored($0) }
            try add(
                rows: members.map { .init(id: $0.id, kind: $0.kind, pack: lane.name, frameOffset: fo, frameLength: fl, offset: $0.offset, length: $0.length) },
                bytes: fl)
        }
    }
}
