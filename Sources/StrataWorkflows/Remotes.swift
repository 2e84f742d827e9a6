import Foundation
import StrataRemote
import StrataRepository

/// A configured remote, as `remote list` shows it (never with credentials: none are stored).
public struct RemoteEntry: Sendable, Equatable {
    /// Its name (`origin`).
    public var name: String
    /// Where it is.
    public var location: RemoteLocation
    /// What the probe found when it was added.
    public var capabilities: RemoteCapabilities
    /// Added with `--single-writer` (the storage ignores conditional writes).
    public var singleWriter: Bool
    /// The remote repository's id, from its `STRATA` marker.
    public var repoId: String?
}

/// `strata remote add | list | remove` as library calls. Remotes live in the store's config (`remote.NAME.*`);
/// credentials never do: they come from the environment or the AWS profile each time.
public enum RemoteWorkflow {
    /// Adds a remote after probing its storage's conditional writes; storage that ignores them is refused unless
    /// `singleWriter`. Returns what the probe found.
    /// `backend` replaces the one the location names (tests use it to bring storage that misbehaves).
    public static func add(
        _ repo: Repository, name: String, location: RemoteLocation, singleWriter: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        backend given: (any RemoteBackend)? = nil
    ) throws -> RemoteEntry {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), name.first?.isLetter == true else {
            throw RemoteSetupError.badName(name, reason: "use letters, digits, '-' and '_', starting with a letter")
        }
        if try repo.config("remote.\(name).url") != nil { throw RemoteSetupError.badName(name, reason: "a remote of that name exists (remove it first)") }
        let backend = try given ?? location.backend(environment: environment)
        let caps = try RemoteProbe.probe(backend)
        if !caps.safeForManyWriters && !singleWriter { throw RemoteSetupError.unsafeStorage(location.url, caps) }
        let marker = try RemoteMarker.ensure(backend)
        try repo.setConfig("remote.\(name).url", location.url)
        try repo.setConfig("remote.\(name).endpoint", location.endpoint)
        try repo.setConfig("remote.\(name).region", location.region)
        try repo.setConfig("remote.\(name).capabilities", caps.summary)
        try repo.setConfig("remote.\(name).single-writer", singleWriter ? "true" : nil)
        try repo.setConfig("remote.\(name).repo-id", marker.repoId)
        return RemoteEntry(name: name, location: location, capabilities: caps, singleWriter: singleWriter, repoId: marker.repoId)
    }

    /// Every configured remote, by name.
    public static func list(_ repo: Repository) throws -> [RemoteEntry] {
        var byName: [String: [String: String]] = [:]
        for (k, v) in try repo.allConfig() where k.hasPrefix("remote.") {
            let rest = k.dropFirst("remote.".count)
            guard let dot = rest.lastIndex(of: ".") else { continue }
            byName[String(rest[..<dot]), default: [:]][String(rest[rest.index(after: dot)...])] = v
        }
        return try byName.keys.sorted().compactMap { name in
            let f = byName[name]!
            guard let url = f["url"] else { return nil }
            let caps = Set((f["capabilities"] ?? "").split(separator: ",").map(String.init))
            return RemoteEntry(
                name: name, location: try RemoteLocation(url: url, endpoint: f["endpoint"], region: f["region"]),
                capabilities: RemoteCapabilities(createOnly: caps.contains("create-only"), compareAndSwap: caps.contains("compare-and-swap")),
                singleWriter: f["single-writer"] == "true", repoId: f["repo-id"])
        }
    }

    /// Removes a remote's configuration (nothing on the remote changes).
    public static func remove(_ repo: Repository, name: String) throws {
        guard try repo.config("remote.\(name).url") != nil else { throw RemoteSetupError.unknownRemote(name) }
        for key in ["url", "endpoint", "region", "capabilities", "single-writer", "repo-id"] { try repo.setConfig("remote.\(name).\(key)", nil) }
    }
}
