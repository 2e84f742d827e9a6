import Foundation
import StrataLineage
import StrataRepository

/// Emits lineage for commands; a backend that is down only warns unless delivery is required.
enum LineageEmission {
    static func service(_ repo: Repository, require: Bool) throws -> LineageService {
        var config = LineageConfig.load(storePath: repo.storePath, workspace: repo.root)
        if require { config.requireLineage = true }
        if (try? repo.config("lineage.require")) == "true" { config.requireLineage = true }
        return try LineageService(repo: repo, config: config)
    }

    static func forCommit(_ repo: Repository, _ r: CommitResult, message: String, require: Bool, quiet: Bool) throws {
        let service = try service(repo, require: require)
        _ = try service.recordCommit(r, message: message)
        warn(service, quiet: quiet)
        try service.checkDelivery()
    }

    static func warn(_ service: LineageService, quiet: Bool) {
        if !quiet, let e = service.deliveryErrors.last {
            Out.err("strata: warning: lineage not delivered (\(e)); the events wait in the store: run 'strata lineage flush'")
        }
    }
}
