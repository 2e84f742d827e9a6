import Foundation
import StrataModel
import StrataPlatform
import StrataRepository

/// One recorded input or output of a stage.
public struct LockedPath: Codable, Sendable, Equatable {
    /// Workspace-relative path as declared.
    public var path: String
    /// sha256 of a file, or tree id of a folder, or of the selected keys of a params file.
    public var sha256: String?
    /// Bytes.
    public var size: UInt64
    /// Files in a folder (absent for files).
    public var files: Int?
    /// Selected keys of a params file.
    public var keys: [String]?
}

/// One stage's recorded state.
public struct LockedStage: Codable, Sendable, Equatable {
    /// Stage name.
    public var name: String
    /// Command line.
    public var command: String
    /// Working folder, if not the root.
    public var workingDirectory: String?
    /// Inputs, sorted by path.
    public var inputs: [LockedPath]
    /// Outputs, sorted by path.
    public var outputs: [LockedPath]
    /// Parameter values.
    public var params: [String: ParamSpec]
    /// Values of the declared environment variables (null when unset).
    public var environment: [String: String?]
    /// SHA-256 of (command, inputs, params, environment, output paths): the run-cache key.
    public var key: String
}

/// `Pipeline.lock`: machine-written, versioned, deterministic JSON (sorted keys, stages in graph order).
public struct Lockfile: Codable, Sendable, Equatable {
    /// Format version.
    public var version = 1
    /// Pipeline name.
    public var pipeline: String
    /// Stages in graph order.
    public var stages: [LockedStage]

    /// Reads `Pipeline.lock` (nil when absent).
    public static func read(root: String) throws -> Lockfile? {
        guard let bytes = try? Posix.readFile(root + "/Pipeline.lock") else { return nil }
        do { return try JSONDecoder().decode(Lockfile.self, from: Data(bytes)) } catch { throw PipelineError.badDescription("Pipeline.lock: \(error)") }
    }

    /// The canonical bytes.
    public func encoded() throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try enc.encode(self)) + [10]
    }

    /// Writes atomically when the bytes differ; returns true when written.
    @discardableResult
    public func write(root: String) throws -> Bool {
        let bytes = try encoded()
        if (try? Posix.readFile(root + "/Pipeline.lock")) == bytes { return false }
        try Posix.writeAtomically(root + "/Pipeline.lock", bytes)
        return true
    }

    /// Every object id the lock references (for gc roots).
    public var referencedIDs: [String] { stages.flatMap { $0.outputs.compactMap(\.sha256) } }
}
