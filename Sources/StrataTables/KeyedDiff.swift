import Foundation
import StrataPlatform

/// The fast keyed diff for CSV and TSV tables whose keys are unique: one pass over the old version keeps, per key, a
/// 128-bit hash of the shared columns and where the record was spilled; one pass over the new version compares hashes
/// and reads back only the old records of changed rows. Memory is about 80 bytes per old row; a duplicate key (or a
/// table too large for the budget) sends the caller to the general partitioned diff. Changes are sorted by key.
enum KeyedDiff {
    /// Why the fast path gave up (the general diff then runs).
    struct Unsuitable: Error {}
    /// Ends a stream once the header has been read.
    struct HeaderRead: Error {}

    struct Entry { var h1: UInt64; var h2: UInt64; var cand: UInt64; var offset: Int64; var length: Int32; var seen: Bool }

    /// The header of a delimited source (its first record), and the column types a sample of the records after it
    /// (up to `sample`) fits.
    static func header(_ format: TableFormat, _ source: ByteSource, sample: Int = 0) throws -> (columns: [String], types: [String: ColumnType]) {
        var splitter = DelimitedSplitter(format: format)
        var columns: [String] = []
        var types = TypeSample(rows: sample)
        let take: ([UInt8], [Int]) throws -> Void = { bytes, ends in
            let fields = ends.indices.map { String(decoding: DelimitedSplitter.field(bytes, ends, $0), as: UTF8.self) }
            if columns.isEmpty { columns = fields } else { types.add(row(fields, columns)) }
            if types.remaining == 0 { throw HeaderRead() }
        }
        do {
            try source { b in try splitter.feed(b, take) }
            try splitter.finish(take)
        } catch is HeaderRead {}
        return (columns, types.types)
    }

    static func decode(_ b: [UInt8]) -> [String] {
        var out: [String] = []
        var i = 0
        while i + 4 <= b.count {
            let n = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            i += 4
            out.append(String(decoding: b[i..<min(b.count, i + n)], as: UTF8.self))
            i += n
        }
        return out
    }

    static func row(_ r: [String], _ columns: [String]) -> Row {
        var out: Row = [:]
        for (i, v) in r.enumerated() { out[i < columns.count ? columns[i] : "#\(i + 1)"] = v }
        return out
    }

    /// Runs the fast diff; throws `Unsuitable` (before emitting anything) when keys repeat or a key column is missing.
    static func diff(
        format: TableFormat, a: ByteSource, b: ByteSource, sizeHint: Int64, options: TableDiffOptions, scratch: String, table: String,
        emit: (RowChange) throws -> Void
    ) throws -> TableDiffSummary {
        let (colsA, sampleA) = try header(format, a, sample: 1000), (colsB, sampleB) = try header(format, b, sample: 1000)
        guard !colsA.isEmpty, !colsB.isEmpty else { throw Unsuitable() }
        for k in options.key where !colsA.contains(k) || !colsB.contains(k) {
            if colsA.isEmpty || colsB.isEmpty { throw Unsuitable() }
            throw TableError.keyNotFound(column: k, table: table)
        }
        var summary = TableDiffSummary()
        summary.schema = TableDiffer.schemaDiff(colsA, colsB, keyless: false)
        summary.schema.retyped = TypeSample.changes(sampleA, sampleB, columns: colsB, declared: options.types)
        let shared = colsA.filter { colsB.contains($0) }.sorted()
        let sharedA = shared.map { colsA.firstIndex(of: $0)! }, sharedB = shared.map { colsB.firstIndex(of: $0)! }
        let keyA = options.key.map { colsA.firstIndex(of: $0)! }, keyB = options.key.map { colsB.firstIndex(of: $0)! }
        let candidates = TableDiffer.renameCandidates(colsA, colsB)
        let candA = candidates.map { c in colsA.firstIndex(of: c.0)! }, candB = candidates.map { c in colsB.firstIndex(of: c.1)! }
        var candidateEqual = Array(repeating: true, count: candidates.count)
        var paired = false
        try Posix.makeDirectories(scratch)
        let spillPath = scratch + "/old.records"
        let fd = open(spillPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw PosixError("create", spillPath) }
        defer { close(fd); unlink(spillPath); _ = Posix.rmdir(scratch) }
        // Old version: key → hashes and spill position, in a byte-keyed index (no string per row; KeyIndex).
        let expected = Int(min(Int64(1 << 26), max(1024, sizeHint / 2 / 80)))
        var index = KeyIndex(capacity: expected)
        var entries: [Entry] = []
        entries.reserveCapacity(expected)
        var offset: Int64 = 0
        var pending: [UInt8] = []
        var splitA = DelimitedSplitter(format: format)
        var headerSkipped = false
        func keyText(_ bytes: [UInt8], _ ends: [Int], _ idx: [Int]) -> String {
            DelimitedSplitter.withKey(bytes, ends, idx) { String(decoding: $0, as: UTF8.self) }
        }
        let addA: ([UInt8], [Int]) throws -> Void = { bytes, ends in
            if !headerSkipped { headerSkipped = true; return }
            let (_, inserted) = DelimitedSplitter.withKey(bytes, ends, keyA) { index.insert($0) }
            guard inserted else { throw Unsuitable() }
            let (h1, h2) = DelimitedSplitter.hashes(bytes, ends, sharedA)
            let before = pending.count
            DelimitedSplitter.encode(bytes, ends, into: &pending)
            let length = pending.count - before
            entries.append(Entry(h1: h1, h2: h2, cand: DelimitedSplitter.hashes(bytes, ends, candA).0, offset: offset, length: Int32(length), seen: false))
            offset += Int64(length)
            if pending.count >= 1 << 20 { try Posix.writeAll(fd, pending, path: spillPath); pending.removeAll(keepingCapacity: true) }
        }
        // Each version is read (decompressed, verified) on a second thread while this one parses it.
        try withoutActuallyEscaping(a) { a in
            let read = prefetched(a)
            try read { bytes in try splitA.feed(bytes, addA) }
        }
        try splitA.finish(addA)
        try Posix.writeAll(fd, pending, path: spillPath)
        func oldRecord(_ e: Entry) throws -> [String] {
            var buf = [UInt8](repeating: 0, count: Int(e.length))
            _ = try buf.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: e.offset, path: spillPath) }
            return decode(buf)
        }

        // New version: compare.
        var changes: [(String, RowChange)] = []
        var newKeys = KeyIndex(capacity: 1024)
        var splitB = DelimitedSplitter(format: format)
        var headerSkippedB = false
        let addB: ([UInt8], [Int]) throws -> Void = { bytes, ends in
            if !headerSkippedB { headerSkippedB = true; return }
            guard let i = DelimitedSplitter.withKey(bytes, ends, keyB, { index.find($0) }) else {
                guard DelimitedSplitter.withKey(bytes, ends, keyB, { newKeys.insert($0) }).inserted else { throw Unsuitable() }
                let key = keyText(bytes, ends, keyB)
                summary.added += 1
                let after = row(KeyedDiff.decode(DelimitedSplitter.encode(bytes, ends)), colsB)
                changes.append((key, RowChange(op: .added, key: Dictionary(uniqueKeysWithValues: options.key.map { ($0, after[$0] ?? "") }), after: after)))
                return
            }
            let e = entries[i]
            guard !e.seen else { throw Unsuitable() }
            entries[i].seen = true
            paired = true
            // Rename evidence: the candidate columns' values agree (checked together; one mismatch drops them all).
            if !candB.isEmpty && DelimitedSplitter.hashes(bytes, ends, candB).0 != e.cand { candidateEqual = candidateEqual.map { _ in false } }
            let (h1, h2) = DelimitedSplitter.hashes(bytes, ends, sharedB)
            if h1 == e.h1 && h2 == e.h2 { summary.unchanged += 1; return }
            let before = row(try oldRecord(e), colsA), after = row(KeyedDiff.decode(DelimitedSplitter.encode(bytes, ends)), colsB)
            let changed = colsA.filter { colsB.contains($0) && !options.same($0, before[$0], after[$0]) }
            if changed.isEmpty { summary.unchanged += 1; return }
            let key = keyText(bytes, ends, keyB)
            summary.modified += 1
            for c in changed { summary.columns[c, default: 0] += 1 }
            changes.append(
                (
                    key,
                    RowChange(
                        op: .modified, key: Dictionary(uniqueKeysWithValues: options.key.map { ($0, after[$0] ?? "") }), before: before, after: after,
                        changed: changed)
                ))
        }
        try withoutActuallyEscaping(b) { b in
            let read = prefetched(b)
            try read { bytes in try splitB.feed(bytes, addB) }
        }
        try splitB.finish(addB)
        for (i, e) in entries.enumerated() where !e.seen {
            let key = index.text(i)
            summary.removed += 1
            let before = row(try oldRecord(e), colsA)
            changes.append((key, RowChange(op: .removed, key: Dictionary(uniqueKeysWithValues: options.key.map { ($0, before[$0] ?? "") }), before: before)))
        }
        for (i, c) in candidates.enumerated() where candidateEqual[i] && paired {
            summary.schema.renamed.append([c.0, c.1])
            summary.schema.added.removeAll { $0 == c.1 }
            summary.schema.removed.removeAll { $0 == c.0 }
        }
        changes.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1.op.rawValue < $1.1.op.rawValue) }
        for (_, c) in changes { try emit(c) }
        return summary
    }
}

/// The CSV/TSV record splitter under `RowParser` and the fast keyed diff (RFC 4180 states; a record comes
/// out as its unescaped field bytes and their end offsets, with no string built, so fields can be hashed as bytes).
struct DelimitedSplitter {
    enum State { case fieldStart, unquoted, quoted, quoteInQuoted }
    let sep: UInt8
    var state = State.fieldStart
    var bytes: [UInt8] = []
    var ends: [Int] = []
    var afterCR = false
    var first = true

    init(format: TableFormat) { sep = format == .tsv ? 9 : UInt8(ascii: ",") }

    mutating func feed(_ p: UnsafeRawBufferPointer, _ emit: ([UInt8], [Int]) throws -> Void) throws {
        var i = 0
        let n = p.count
        while i < n {
            let c = p[i]
            if afterCR {
                afterCR = false
                if c == 10 { i += 1; continue }
            }
            switch state {
            case .quoted:
                // Copy the run up to the next quote in one go.
                var j = i
                while j < n && p[j] != 34 { j += 1 }
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[i..<j]))
                if j < n { state = .quoteInQuoted }
                i = j + 1
                continue
            case .quoteInQuoted:
                if c == 34 { bytes.append(34); state = .quoted; i += 1; continue }
                state = .unquoted
            case .fieldStart:
                if c == 34 { state = .quoted; i += 1; continue }
            case .unquoted:
                break
            }
            if c == sep {
                ends.append(bytes.count); state = .fieldStart; i += 1
            } else if c == 10 || c == 13 {
                afterCR = c == 13
                try endRecord(emit)
                i += 1
            } else {
                // An unquoted run: up to the next separator, line break or quote, copied in one go.
                var j = i + 1
                while j < n {
                    let d = p[j]
                    if d == sep || d == 10 || d == 13 || d == 34 { break }
                    j += 1
                }
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[i..<j]))
                state = .unquoted
                i = j
            }
        }
    }

    mutating func finish(_ emit: ([UInt8], [Int]) throws -> Void) throws {
        if !bytes.isEmpty || !ends.isEmpty || state != .fieldStart { try endRecord(emit) }
    }

    mutating func endRecord(_ emit: ([UInt8], [Int]) throws -> Void) throws {
        ends.append(bytes.count)
        state = .fieldStart
        defer { bytes.removeAll(keepingCapacity: true); ends.removeAll(keepingCapacity: true) }
        if ends.count == 1 && bytes.isEmpty { return }  // a blank line
        if first && bytes.starts(with: [0xEF, 0xBB, 0xBF]) {  // a byte order mark before the header
            bytes.removeFirst(3)
            ends = ends.map { $0 - 3 }
        }
        first = false
        try emit(bytes, ends)
    }

    /// Field `i` of a record (empty when the record is shorter).
    static func field(_ bytes: [UInt8], _ ends: [Int], _ i: Int) -> ArraySlice<UInt8> {
        guard i < ends.count else { return [] }
        return bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]]
    }

    /// Calls `body` with a record's key bytes: one field read in place, or several joined by U+001F.
    static func withKey<R>(_ bytes: [UInt8], _ ends: [Int], _ idx: [Int], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if idx.count == 1 { return try field(bytes, ends, idx[0]).withUnsafeBytes(body) }
        var k: [UInt8] = []
        for (n, i) in idx.enumerated() {
            if n > 0 { k.append(0x1F) }
            k += field(bytes, ends, i)
        }
        return try k.withUnsafeBytes(body)
    }

    /// Two independent 64-bit hashes of the given fields (a missing field differs from an empty one).
    static func hashes(_ bytes: [UInt8], _ ends: [Int], _ idx: [Int]) -> (UInt64, UInt64) {
        var h1: UInt64 = 0x9E37_79B9_7F4A_7C15, h2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        for i in idx {
            if i >= ends.count {
                h1 = (h1 ^ 0xFF) &* 0x100_0000_01B3; h2 = (h2 ^ 0xFE) &* 0xFF51_AFD7_ED55_8CCD
                continue
            }
            let s = i == 0 ? 0 : ends[i - 1], e = ends[i]
            bytes.withUnsafeBufferPointer { b in
                var j = s
                while j + 8 <= e {
                    let w = UnsafeRawPointer(b.baseAddress! + j).loadUnaligned(as: UInt64.self)
                    h1 = (h1 ^ w) &* 0x100_0000_01B3; h1 = (h1 << 31) | (h1 >> 33)
                    h2 = (h2 ^ w) &* 0xFF51_AFD7_ED55_8CCD; h2 = (h2 << 29) | (h2 >> 35)
                    j += 8
                }
                while j < e {
                    h1 = (h1 ^ UInt64(b[j])) &* 0x100_0000_01B3
                    h2 = (h2 ^ UInt64(b[j])) &* 0xFF51_AFD7_ED55_8CCD
                    j += 1
                }
            }
            // The field's length separates fields.
            h1 = (h1 ^ UInt64(e - s) ^ 0x5555) &* 0x100_0000_01B3
            h2 = (h2 ^ UInt64(e - s) ^ 0xAAAA) &* 0xFF51_AFD7_ED55_8CCD
        }
        h1 ^= h1 >> 29; h1 = h1 &* 0xBF58_476D_1CE4_E5B9; h1 ^= h1 >> 32
        h2 ^= h2 >> 31; h2 = h2 &* 0x94D0_49BB_1331_11EB; h2 ^= h2 >> 29
        return (h1, h2)
    }

    /// The record as length-prefixed fields (the spill encoding `KeyedDiff.decode` reads).
    static func encode(_ bytes: [UInt8], _ ends: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + ends.count * 4)
        encode(bytes, ends, into: &out)
        return out
    }

    /// Appends the record as length-prefixed fields to `out`.
    static func encode(_ bytes: [UInt8], _ ends: [Int], into out: inout [UInt8]) {
        var s = 0
        for e in ends {
            let n = e - s
            out.append(UInt8(truncatingIfNeeded: n >> 24)); out.append(UInt8(truncatingIfNeeded: n >> 16))
            out.append(UInt8(truncatingIfNeeded: n >> 8)); out.append(UInt8(truncatingIfNeeded: n))
            out += bytes[s..<e]
            s = e
        }
    }
}
