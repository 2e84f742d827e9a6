import Foundation
import Testing

@testable import StrataTables

/// The Parquet writer under the table merge: what it writes, strata's reader (and pyarrow/DuckDB, in the merge's
/// end-to-end test) reads back value for value, across row groups, types and nulls.
@Suite("Parquet writer") struct ParquetWriterTests {
    func column(_ name: String, _ type: Int64, converted: Int64? = nil, scale: Int = 0, precision: Int = 0, length: Int = 0)
        -> ParquetReader.Column
    {
        ParquetReader.Column(
            name: name, type: type, typeLength: length, optional: true, converted: converted, logical: nil, scale: scale, precision: precision)
    }

    /// Writes `rows` to a temporary Parquet file and runs `body` with strata's reader of it.
    func written(
        _ columns: [ParquetReader.Column], _ rows: [[String: String]], rowsPerGroup: Int, _ body: (ParquetReader) throws -> Void
    ) throws {
        var w = try ParquetWriter(columns: columns, rowsPerGroup: rowsPerGroup)
        var out: [UInt8] = []
        w.start(into: &out)
        for r in rows { try w.add(r, into: &out) }
        try w.finish(into: &out)
        let path = NSTemporaryDirectory() + "pw-\(UUID().uuidString.prefix(8)).parquet"
        try Data(out).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try ParquetReader(path: path)
        defer { reader.closeFile() }
        try body(reader)
    }

    @Test func roundTripsThroughTheReader() throws {
        let columns = [
            column("id", 2), column("s", 6, converted: 0), column("f", 4), column("b", 0), column("d", 1, converted: 6),
            column("ts", 2, converted: 10), column("ms", 2, converted: 9), column("dec", 2, converted: 5, scale: 3, precision: 12),
            column("u", 1, converted: 13), column("raw", 6), column("fixed", 7, converted: 5, scale: 2, precision: 9, length: 4),
            column("x", 5),
        ]
        var rows: [[String: String]] = []
        for i in 0..<1000 {
            var r: [String: String] = [
                "id": String(i - 500), "s": "Ünïcode, \"quoted\" \(i)", "f": i % 3 == 0 ? "1.5" : "-0.25", "b": i % 2 == 0 ? "true" : "false",
                "d": ParquetReader.date(days: Int64(i * 37 - 9000)),
                "ts": ParquetReader.timestamp(seconds: Int64(i) * 86_399, fraction: Int64(i * 7), digits: 6),
                "ms": ParquetReader.timestamp(seconds: 1_700_000_000 + Int64(i), fraction: Int64(i % 1000), digits: 3),
                "dec": ParquetReader.decimal(Int64(i) * 12_345 - 6_000_000, scale: 3), "u": String(UInt32.max - UInt32(i)),
                "raw": "0x" + String(format: "%02x%02x", i % 256, 255 - i % 256), "fixed": ParquetReader.decimal(Int64(i * 101 - 50_000), scale: 2),
                "x": ParquetReader.number(Double(i) / 8),
            ]
            for (k, c) in columns.enumerated() where (i + k) % 7 == 0 { r[c.name] = nil }  // nulls everywhere
            rows.append(r)
        }
        var read: [[String: String]] = []
        try written(columns, rows, rowsPerGroup: 128) { reader in
            #expect(reader.columns.map(\.name) == columns.map(\.name))
            #expect(reader.rowGroups.count == 8)
            try reader.rows { read.append($0) }
        }
        #expect(read.count == rows.count)
        for (a, b) in zip(read, rows) where a != b {
            Issue.record("row differs:\n\(a.sorted { $0.key < $1.key })\n\(b.sorted { $0.key < $1.key })")
            break
        }
    }

    /// A raw (unannotated BYTE_ARRAY) value is read as text when it is UTF-8, as hex otherwise, and as hex when its text
    /// starts with "0x". Before, the bytes "0xab" were read as the text "0xab", which the writer (in a merge) turned
    /// into the one byte 0xAB.
    @Test func rawBytesThatSpellHexRoundTrip() throws {
        let values = ["0x30786162", "plain", "0xff00", "0x3078", ""]  // the bytes "0xab"; text; two raw bytes; "0x"; none
        var read: [String] = []
        try written([column("raw", 6)], values.map { ["raw": $0] }, rowsPerGroup: 10) { reader in
            try reader.rows { read.append($0["raw"] ?? "<null>") }
        }
        #expect(read == values)
    }

    @Test func refusesValuesThatDoNotFitTheirColumn() throws {
        var w = try ParquetWriter(columns: [column("n", 1)], rowsPerGroup: 10)
        var out: [UInt8] = []
        w.start(into: &out)
        try w.add(["n": "not a number"], into: &out)
        #expect(throws: ParquetWriter.Unwritable.self) { try w.finish(into: &out) }
        #expect(throws: ParquetWriter.Unwritable.self) { try ParquetWriter(columns: [column("legacy", 3)]) }  // INT96
    }
}
