/// Failures of pipeline evaluation and execution; each says what failed and what to do.
public enum PipelineError: Error, Sendable, CustomStringConvertible {
    /// No Pipeline.swift at the workspace root.
    case noManifest(String)
    /// The Swift compiler was not found.
    case noCompiler
    /// The manifest did not compile: the compiler's diagnostics, pointing at Pipeline.swift lines.
    case compileFailed(String)
    /// The manifest program failed or declared no pipeline.
    case evaluationFailed(String)
    /// Evaluation took too long.
    case timeout(seconds: Int)
    /// The description written by the manifest cannot be read.
    case badDescription(String)
    /// A stage graph problem found before anything runs.
    case invalidGraph(String)
    /// A stage named on the command line does not exist.
    case unknownStage(String)
    /// One or more stages failed.
    case stagesFailed([String])
    /// Ctrl-C.
    case interrupted

    public var description: String {
        switch self {
        case .noManifest(let p): return "no Pipeline.swift in \(p); see docs/reference/pipeline.md to write one"
        case .noCompiler: return "the Swift compiler (swiftc) was not found on PATH; Pipeline.swift is compiled like Package.swift and needs a Swift toolchain"
        case .compileFailed(let d): return "Pipeline.swift does not compile:\n\(d)"
        case .evaluationFailed(let m): return "evaluating Pipeline.swift failed: \(m)"
        case .timeout(let s): return "evaluating Pipeline.swift took longer than \(s) s; does it loop forever?"
        case .badDescription(let m): return "the pipeline description is unreadable: \(m); is this strata older than the manifest's DSL?"
        case .invalidGraph(let m): return "invalid pipeline: \(m); nothing was run"
        case .unknownStage(let s): return "no stage named '\(s)'; list them with 'strata stages'"
        case .stagesFailed(let s): return "stage(s) failed: \(s.joined(separator: ", ")); their outputs were not recorded and Pipeline.lock keeps their previous entries"
        case .interrupted: return "interrupted; finished stages are recorded, running ones were stopped"
        }
    }
}
