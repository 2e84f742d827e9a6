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
    /// merge before anything changes.
    public static func merge(
        _ repo: Repository, _ request: MergeRequest, lineage: LineageOptions = LineageOptions(), progress: ProgressHandler? = nil
    ) throws -> (outcome: MergeOutcome, deliveryWarning: String?) {
        let service = try lineage.service(repo)
        let outcome = try merger(repo).0.merge(request, progress: progress)
        guard case .merged(let r, _) = outcome else { return (outcome, nil) }
        _ = try service.recordMerge(r, message: try repo.commit(r.id).message)
        let warning = service.deliveryErrors.last
        try service.checkDelivery()
        return (outcome, warning)
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
