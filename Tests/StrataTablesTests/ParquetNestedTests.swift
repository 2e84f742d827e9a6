import Foundation
import Testing

@testable import StrataTables

/// Nested Parquet (what Delta checkpoints are): Dremel repetition and definition levels assembled back into records,
/// on a checked-in file pyarrow wrote (`Fixtures/make_nested.py`) with null structs, null and empty lists, null
/// elements, null map values and several row groups, in data page v1 (Snappy) and v2 (zstd).
@Suite("Parquet, nested") struct ParquetNestedTests {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/"

    @Test(arguments: ["nested.parquet", "nested-v2.parquet"]) func assemblesRecords(file: String) throws {
        let reader = try ParquetReader(path: fixtures + file, nested: true)
        defer { reader.closeFile() }
        let leaves = ["add.path", "add.tags.list.element", "add.pv.key_value.key", "add.pv.key_value.value", "add.dv.n", "id"]
        #expect(Set(reader.columns.map { $0.path.joined(separator: ".") }) == Set(leaves))
        var got: [[String: [String?]]] = []
        try reader.records(Set(leaves)) { got.append($0) }
        let expected: [[String: [String?]]] = [
            [
                "add.path": ["a.parquet"], "add.tags.list.element": ["x", "y"], "add.pv.key_value.key": ["region", "year"],
                "add.pv.key_value.value": ["GP", nil], "add.dv.n": ["3"], "id": ["1"],
            ],
            ["add.path": [nil], "add.tags.list.element": [], "add.pv.key_value.key": [], "add.pv.key_value.value": [], "add.dv.n": [nil], "id": ["2"]],
            [
                "add.path": ["b.parquet"], "add.tags.list.element": [], "add.pv.key_value.key": [], "add.pv.key_value.value": [], "add.dv.n": [nil],
                "id": ["3"],
            ],
            [
                "add.path": ["c.parquet"], "add.tags.list.element": [], "add.pv.key_value.key": ["k"], "add.pv.key_value.value": ["v"],
                "add.dv.n": [nil], "id": ["4"],
            ],
            [
                "add.path": ["d.parquet"], "add.tags.list.element": [nil, "z"], "add.pv.key_value.key": [], "add.pv.key_value.value": [],
                "add.dv.n": ["7"], "id": [nil],
            ],
        ]
        #expect(got == expected)
    }

    /// Flat reading (the row diff) still refuses a nested file, naming the column, so the diff falls back to files.
    @Test func flatReadingRefusesNestedColumns() throws {
        #expect(throws: ParquetError.self) { try ParquetReader(path: fixtures + "nested.parquet") }
        do { _ = try ParquetReader(path: fixtures + "nested.parquet") } catch let e as ParquetError { #expect(e.message.contains("'add'")) }
    }

    /// Checkpoint file names: classic, V2 (UUID, Parquet or JSON), and multi-part only when every part is there.
    @Test func completeCheckpoints() {
        let v = { (n: Int) in String(format: "%020d", n) }
        let names = [
            v(10) + ".checkpoint.parquet", v(20) + ".checkpoint.0000000001.0000000002.parquet", v(20) + ".checkpoint.0000000002.0000000002.parquet",
            v(30) + ".checkpoint.0000000001.0000000003.parquet", v(40) + ".checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json",
            v(41) + ".json", "_last_checkpoint", v(50) + ".checkpoint.parquet.tmp",
        ]
        let found = DeltaCheckpoint.complete(names).sorted { $0.version < $1.version }
        #expect(found.map(\.version) == [10, 20, 40])
        #expect(found[1].files == [names[1], names[2]])
    }
}
