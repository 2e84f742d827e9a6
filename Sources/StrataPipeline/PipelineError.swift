import StrataPlatform
/// Failures of pipeline evaluation and execution; each says what failed and what to do.
public enum PipelineError: StrataError {
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
    /// A params file that does not parse.
    case badParams(String, reason: String)

    var parts: (code: String, category: ErrorCategory, message: String, next: String?) {
        switch self {
        case .noManifest(let p): return ("pipeline.no-manifest", .manifest, "no Pipeline.swift in \(p)", "see docs/reference/pipeline.md to write one")
        case .noCompiler:
            return (
                "pipeline.no-compiler", .manifest, "the Swift compiler (swiftc) was not found on PATH",
                "Pipeline.swift is compiled like Package.swift and needs a Swift toolchain"
            )
        case .compileFailed(let d): return ("pipeline.compile-failed", .manifest, "Pipeline.swift does not compile:\n\(d)", nil)
        case .evaluationFailed(let m): return ("pipeline.evaluation-failed", .manifest, "evaluating Pipeline.swift failed: \(m)", nil)
        case .timeout(let s): return ("pipeline.timeout", .manifest, "evaluating Pipeline.swift took longer than \(s) s", "does it loop forever?")
        case .badDescription(let m):
            return ("pipeline.bad-description", .manifest, "the pipeline description is unreadable: \(m)", "is this strata older than the manifest's DSL?")
        case .invalidGraph(let m): return ("pipeline.invalid-graph", .manifest, "invalid pipeline: \(m); nothing was run", "fix Pipeline.swift")
        case .unknownStage(let s): return ("pipeline.unknown-stage", .notFound, "no stage named '\(s)'", "list them with 'strata stages'")
        case .stagesFailed(let s):
            return (
                "pipeline.stages-failed", .stageFailed,
                "stage(s) failed: \(s.joined(separator: ", ")); their outputs were not recorded and Pipeline.lock keeps their previous entries",
                "fix the stage and run 'strata repro' again"
            )
        case .badParams(let p, let r): return ("pipeline.bad-params", .manifest, "params file '\(p)' does not parse: \(r)", "fix the file; nothing was run")
        case .interrupted: return ("pipeline.interrupted", .interrupted, "interrupted; finished stages are recorded, running ones were stopped", nil)
        }
    }

    public var code: String { parts.code }
    public var category: ErrorCategory { parts.category }
    public var message: String { parts.message }
    public var nextStep: String? { parts.next }
}
