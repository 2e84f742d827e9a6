import Foundation
import StrataLineage
import StrataMerge
import StrataModel
import StrataPlatform
import StrataRepository

/// `strata merge`, `resolve` and the merge's lineage, for every client.
public enum MergeWorkflow {
    /// A merger with the store's table declarations (Pipeline.swift's over the config's) and the loader's warning.
    public static func merger(_ repo: Repository) -> (Merger, warning: String?) {
        let (tables, warning) = TableWorkflow.service(repo)
        return (Merger(repo: repo, tables: tables), warning)
    }

    /// Merges and, when a merge commit results, records its `strata.merge` run. A bad lineage configuration stops the
    /// merge before anything changes. `manifestWarning` says why Pipeline.swift's table declarations were not read.
    public static func merge(
        _ repo: Repository, _ request: MergeRequest, lineage: LineageOptions = LineageOptions(), progress: ProgressHandler? = nil
    ) throws -> (outcome: MergeOutcome, deliveryWarning: String?, manifestWarning: String?) {
        let service = try lineage.service(repo)
        let (m, manifestWarning) = merger(repo)
        let outcome = try m.merge(request, progress: progress)
        guard case .merged(let r, _) = outcome else { return (outcome, nil, manifestWarning) }
        _ = try service.recordMerge(r, message: try repo.commit(r.id).message)
        let warning = service.deliveryErrors.last
        try service.checkDelivery()
        return (outcome, warning, manifestWarning)
    }

    /// `strata merge --repro`: settles a merge whose only conflicts are derived data — `Pipeline.lock` and the declared
    /// outputs of stages — by taking our versions, re-running `strata repro` on the merged inputs (only the stages whose
    /// inputs changed run) and concluding the merge. Any other conflict is left for `strata resolve` and named.
    public static func reproAndConclude(
        _ repo: Repository, message: String? = nil, lineage: LineageOptions = LineageOptions(), progress: ProgressHandler? = nil
    ) throws -> (commit: CommitResult, repro: ReproSession.Outcome, deliveryWarning: String?) {
        let merger = merger(repo).0
        guard let state = try repo.mergeState() else { throw RepositoryError.noMergeInProgress }
        let outputs = try PipelineWorkflow.load(repo).spec.stages.flatMap { $0.outputs.map(\.path) }
        func derived(_ p: String) -> Bool {
            p == "Pipeline.lock" || outputs.contains { o in p == o || p.hasPrefix(o.hasSuffix("/") ? o : o + "/") }
        }
        let other = state.unresolved.filter { !derived($0.path) }.map(\.path)
        if !other.isEmpty { throw RepositoryError.unresolvedConflicts(other) }
        for c in state.unresolved { _ = try merger.resolve(c.path, side: .ours) }
        var session = ReproSession(repo: repo)
        session.lineage = lineage
        let outcome = try session.run()
        guard outcome.result.succeeded else {
            let failed = outcome.result.outcomes.filter { $0.action == .failed }.map(\.name)
            throw RepositoryError.invalidArgument(
                "strata repro failed in \(failed.joined(separator: ", ")); the merge is still in progress: fix it and run 'strata merge --repro' again, or 'strata merge --abort'"
            )
        }
        let (r, warning) = try conclude(repo, message: message, lineage: lineage, progress: progress)
        return (r, outcome, warning)
    }

    /// Concludes the merge in progress with its merge commit and records the `strata.merge` run.
    public static func conclude(
        _ repo: Repository, message: String? = nil, lineage: LineageOptions = LineageOptions(), progress: ProgressHandler? = nil
    ) throws -> (commit: CommitResult, deliveryWarning: String?) {
        let service = try lineage.service(repo)
        let r = try merger(repo).0.conclude(message: message, progress: progress)
        _ = try service.recordMerge(r, message: try repo.commit(r.id).message)
        let warning = service.deliveryErrors.last
        try service.checkDelivery()
        return (r, warning)
    }
}
