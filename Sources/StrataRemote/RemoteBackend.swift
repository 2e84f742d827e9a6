import Foundation
import StrataPlatform

/// What a conditional write did.
public enum PutOutcome: Sendable, Equatable {
    /// The object was written; its new entity tag.
    case written(etag: String)
    /// The condition failed: the object exists (create-only) or changed since it was read (compare-and-swap).
    case conditionFailed
}

/// An object as read from a backend.
public struct StoredObject: Sendable, Equatable {
    /// The bytes.
    public var bytes: [UInt8]
    /// The entity tag to pass to `put(_:_:ifMatch:)` to replace exactly this version.
    public var etag: String
    /// Creates a value.
    public init(bytes: [UInt8], etag: String) { self.bytes = bytes; self.etag = etag }
}

/// The storage a remote lives on: S3-compatible object storage or a shared folder. One protocol serves both, so the
/// remote layout and protocol (store/FORMAT.md, "Remotes") are written once, and one conformance suite
/// (`BackendConformance`) checks every backend.
///
/// Keys are `/`-separated relative names (`packs/pack-….pack`, `refs/heads/main`); a key that is empty, absolute,
/// or has an empty, `.` or `..` component is refused with `RemoteError.invalidKey`. Conditional writes are the only
/// coordination there is: `create` must fail when the key exists (S3 `If-None-Match: *`), and `put(ifMatch:)` must
/// fail when the object changed (S3 `If-Match: <etag>`) — two writers racing on one key, exactly one wins.
public protocol RemoteBackend: Sendable {
    /// A description for messages, without credentials (`file:///mnt/shared/strata`, `s3://bucket/prefix`).
    var displayName: String { get }
    /// The object, or nil when there is none.
    func get(_ key: String) throws -> StoredObject?
    /// `length` bytes from `offset` (fewer at the end of the object); throws `notFound` when the object is missing.
    func getRange(_ key: String, offset: Int64, length: Int) throws -> [UInt8]
    /// The object's entity tag, or nil when there is none.
    func head(_ key: String) throws -> String?
    /// Writes `bytes` under `key` only when no object has that key.
    func create(_ key: String, _ bytes: [UInt8]) throws -> PutOutcome
    /// Replaces the object only when its entity tag is still `etag`.
    func put(_ key: String, _ bytes: [UInt8], ifMatch etag: String) throws -> PutOutcome
    /// Every key that starts with `prefix`, in byte order.
    func list(prefix: String) throws -> [String]
    /// Removes the object (nothing when it is already gone).
    func delete(_ key: String) throws
    /// Creates `key` (create-only) from the file at `path`, whose SHA-256 is `sha256` (hex); streamed where the
    /// backend can, so a pack never has to sit in memory.
    func createFile(_ key: String, path: String, sha256: String, size: Int64) throws -> PutOutcome
    /// Every key that starts with `prefix` with its size and last-modified time (seconds), in byte order.
    func listDetailed(prefix: String) throws -> [ListedObject]
}

/// A key as a detailed listing shows it.
public struct ListedObject: Sendable, Equatable {
    /// The key.
    public var key: String
    /// Its size in bytes.
    public var size: Int64
    /// When it was last written (seconds since the epoch).
    public var modified: Int64
    /// Creates a value.
    public init(key: String, size: Int64, modified: Int64) { self.key = key; self.size = size; self.modified = modified }
}

extension RemoteBackend {
    /// Reads the file and creates the key from its bytes.
    public func createFile(_ key: String, path: String, sha256: String, size: Int64) throws -> PutOutcome {
        let bytes: [UInt8]
        do { bytes = try Posix.readFile(path) } catch let e as PosixError { throw RemoteError.storage(remote: displayName, key: key, cause: e) }
        return try create(key, bytes)
    }
}

/// Failures of remote storage, with the remote named and a next step.
public enum RemoteError: StrataError {
    /// A key that could leave the remote's namespace.
    case invalidKey(String)
    /// The object does not exist.
    case notFound(remote: String, key: String)
    /// The storage refused or failed.
    case storage(remote: String, key: String, cause: PosixError)
    /// The server refused the credentials or the signature (HTTP 401/403 and the S3 error code).
    case refused(remote: String, key: String, status: Int, code: String)
    /// The server could not be reached, or kept failing, after the retries.
    case unreachable(remote: String, key: String, reason: String)
    /// An answer the protocol does not expect.
    case unexpected(remote: String, key: String, status: Int, code: String)
    /// A Strata server refused the token (missing, unknown, expired or revoked): HTTP 401 with its reason.
    case unauthenticated(remote: String, key: String, reason: String)
    /// A Strata server refused the action (role missing, protected branch): HTTP 403 with its code, reason and the
    /// next step it gave.
    case forbidden(remote: String, key: String, code: String, reason: String, next: String?)

    public var code: String {
        switch self {
        case .invalidKey: "remote.invalid-key"
        case .notFound: "remote.not-found"
        case .storage: "remote.storage"
        case .refused: "remote.refused"
        case .unreachable: "remote.unreachable"
        case .unexpected: "remote.unexpected-answer"
        case .unauthenticated: "remote.unauthenticated"
        case .forbidden(_, _, let c, _, _): c.isEmpty ? "remote.forbidden" : c
        }
    }
    public var category: ErrorCategory {
        switch self {
        case .invalidKey: .integrity
        case .notFound: .notFound
        case .storage, .refused, .unreachable, .unexpected: .failure
        case .unauthenticated: .unauthenticated
        case .forbidden: .forbidden
        }
    }
    public var message: String {
        switch self {
        case .invalidKey(let k): "refusing remote key '\(k)': keys are relative names without empty, '.' or '..' parts"
        case .notFound(let r, let k): "'\(k)' is not on the remote \(r)"
        case .storage(let r, let k, let e): "the remote \(r) failed on '\(k)': \(e.message)"
        case .refused(let r, let k, let s, let c): "the remote \(r) refused the request for '\(k)' (HTTP \(s)\(c.isEmpty ? "" : " " + c))"
        case .unreachable(let r, let k, let why): "the remote \(r) did not answer for '\(k)' after retries (\(why))"
        case .unexpected(let r, let k, let s, let c): "the remote \(r) answered HTTP \(s)\(c.isEmpty ? "" : " " + c) for '\(k)'"
        case .unauthenticated(let r, let k, let why): "the server \(r) did not accept the credentials for '\(k)'\(why.isEmpty ? "" : ": " + why)"
        case .forbidden(let r, let k, _, let why, _): "the server \(r) refused '\(k)'\(why.isEmpty ? "" : ": " + why)"
        }
    }
    public var nextStep: String? {
        switch self {
        case .invalidKey: "the remote may be damaged or hostile; check it with 'strata fsck'"
        case .notFound: "fetch again; if it persists, the remote lost data: run fsck against it"
        case .storage(_, _, let e): e.nextStep ?? "check that the remote is reachable and writable, then retry"
        case .refused(_, _, _, let c) where c == "SignatureDoesNotMatch" || c == "InvalidAccessKeyId":
            "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the profile in ~/.aws/credentials) for this endpoint"
        case .refused: "check that the credentials may read and write this bucket and prefix"
        case .unreachable: "check the endpoint URL and the network, then retry"
        case .unexpected: "check that the endpoint is S3-compatible and supports conditional writes"
        case .unauthenticated: "set STRATA_TOKEN or the credentials file (~/.config/strata/credentials, mode 600) to a valid token"
        case .forbidden(_, _, _, _, let next): next ?? "ask an administrator of the server for the role (strata policy show lists the grants)"
        }
    }
    public var cause: (any Error)? {
        if case .storage(_, _, let e) = self { return e }
        return nil
    }

    /// Throws unless `key` is a safe relative key.
    public static func check(_ key: String) throws {
        let parts = key.slashSeparated(omittingEmpty: false)
        if key.isEmpty || key.hasPrefix("/") || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
            || key.utf8.contains(0)
        {
            throw RemoteError.invalidKey(key)
        }
    }
}

/// The pause before a retry of a remote request: exponential from 0.1 s, at most 2 s, with jitter (the S3 and the
/// strata server backends retry 5xx answers and dropped connections the same way).
enum RemoteRetry {
    static func pause(_ attempt: Int) {
        usleep(UInt32(min(2.0, 0.1 * pow(2, Double(attempt - 1))) * Double.random(in: 0.5...1.0) * 1e6))
    }
}
