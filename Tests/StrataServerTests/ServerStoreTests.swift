import Foundation
import StrataTestSupport
import Testing

@testable import StrataServer

func scratchRoot() -> String { NSTemporaryDirectory() + "server-unit-" + UUID().uuidString.prefix(8) }

@Suite struct RefGlobTests {
    @Test func examples() {
        #expect(RefGlob.matches("main", "main"))
        #expect(!RefGlob.matches("main", "main2"))
        #expect(RefGlob.matches("dev/*", "dev/alice"))
        #expect(!RefGlob.matches("dev/*", "dev/a/b"))
        #expect(RefGlob.matches("dev/**", "dev/a/b"))
        #expect(RefGlob.matches("**", "anything/at/all"))
        #expect(RefGlob.matches("*", "main") && !RefGlob.matches("*", "dev/x"))
        #expect(RefGlob.matches("release-?", "release-1") && !RefGlob.matches("release-?", "release-10"))
        #expect(RefGlob.matches("tags/*", "tags/v1"))
        #expect(throws: ServerError.self) { try RefGlob.check("../x") }
        #expect(throws: ServerError.self) { try RefGlob.check("") }
    }

    /// Property: a pattern with no wildcard matches exactly itself; `**` matches everything; `*` never crosses `/`.
    @Test func properties() {
        var g = SplitMix(seed: 11)
        let alphabet = Array("ab/-.")
        for _ in 0..<2_000 {
            let n = Int(g.next() % 8) + 1
            let name = String((0..<n).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
            let other = String((0..<n).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
            #expect(RefGlob.matches(name, name))
            #expect(RefGlob.matches(name, other) == (name == other))
            #expect(RefGlob.matches("**", name))
            #expect(RefGlob.matches("*", name) == !name.contains("/"))
        }
    }
}

@Suite struct ServerStoreTests {
    @Test func tokensAreShownOnceAndStoredAsSaltedHashes() throws {
        let s = try ServerStore(root: scratchRoot(), create: true)
        try s.addUser("alice", actor: "t", source: "cli")
        let (id, token) = try s.createToken(user: "alice", seconds: nil, actor: "t", source: "cli")
        #expect(token.hasPrefix("strata_\(id)_"))
        #expect(try s.authenticate(token) == Principal(user: "alice", tokenID: id))
        // The database never holds the secret.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: s.root + "/server.sqlite"))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: s.root + "/server.sqlite-wal"))) ?? Data()
        let secret = Data(token.split(separator: "_")[2].utf8)
        #expect(bytes.range(of: secret) == nil && wal.range(of: secret) == nil)
        // A second token for the same user has its own salt: equal secrets would not give equal hashes.
        let (id2, token2) = try s.createToken(user: "alice", seconds: nil, actor: "t", source: "cli")
        #expect(id2 != id && token2 != token)
        // Wrong secret, wrong id, revoked, removed user.
        var wrong = token
        wrong.removeLast()
        wrong += token.last == "a" ? "b" : "a"
        #expect(throws: ServerError.self) { try s.authenticate(wrong) }
        #expect(throws: ServerError.self) { try s.authenticate("strata_ffffffffffffffff_" + token.split(separator: "_")[2]) }
        try s.revokeToken(id, actor: "t", source: "cli")
        #expect(throws: ServerError.self) { try s.authenticate(token) }
        try s.removeUser("alice", actor: "t", source: "cli")
        #expect(throws: ServerError.self) { try s.authenticate(token2) }
    }

    @Test func constantTimeComparison() {
        #expect(ServerStore.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!ServerStore.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!ServerStore.constantTimeEqual([1, 2, 3], [1, 2]))
    }

    @Test func rolesResolveToTheStrongestMatchingGrant() throws {
        let s = try ServerStore(root: scratchRoot(), create: true)
        for u in ["alice", "bob"] { try s.addUser(u, actor: "t", source: "cli") }
        try s.setGrant(namespace: "dev", principal: "alice", pattern: "dev/*", role: .writer, actor: "t", source: "cli")
        try s.setGrant(namespace: "dev", principal: "alice", pattern: "main", role: .reader, actor: "t", source: "cli")
        try s.setGrant(namespace: "*", principal: "*", pattern: "docs", role: .reader, actor: "t", source: "cli")
        try s.setGrant(namespace: "dev", principal: "bob", pattern: "**", role: .maintainer, actor: "t", source: "cli")
        let alice = Principal(user: "alice", tokenID: nil), bob = Principal(user: "bob", tokenID: nil)
        #expect(try s.role(for: alice, namespace: "dev", scope: .ref("dev/x")) == .writer)
        #expect(try s.role(for: alice, namespace: "dev", scope: .ref("main")) == .reader)
        #expect(try s.role(for: alice, namespace: "dev", scope: .ref("release")) == nil)
        #expect(try s.role(for: alice, namespace: "dist", scope: .ref("docs")) == .reader)
        #expect(try s.role(for: alice, namespace: "dev", scope: .anyRef) == .writer)
        #expect(try s.role(for: alice, namespace: "dev", scope: .namespace) == nil)
        #expect(try s.role(for: bob, namespace: "dev", scope: .namespace) == .maintainer)
        #expect(try s.role(for: .anonymous, namespace: "dev", scope: .anyRef) == nil)
        try s.setGrant(namespace: "dev", principal: "anonymous", pattern: "main", role: .reader, actor: "t", source: "cli")
        #expect(try s.role(for: .anonymous, namespace: "dev", scope: .ref("main")) == .reader)
        #expect(try s.role(for: bob, namespace: "dev", scope: .ref("main")) == .maintainer)
        try s.setGrant(namespace: "dev", principal: "alice", pattern: "dev/*", role: nil, actor: "t", source: "cli")
        #expect(try s.role(for: alice, namespace: "dev", scope: .ref("dev/x")) == nil)
        #expect(throws: ServerError.self) { try s.setGrant(namespace: "dev", principal: "nobody", pattern: "**", role: .reader, actor: "t", source: "cli") }
    }

    @Test func auditChainLinksEveryChange() throws {
        let s = try ServerStore(root: scratchRoot(), create: true)
        _ = try s.addNamespace("dev", storage: nil, actor: "t", source: "cli")
        try s.addUser("alice", actor: "t", source: "cli")
        try s.protect(namespace: "dev", pattern: "main", requireMerge: true, remove: false, actor: "t", source: "cli")
        try s.audit(actor: "alice", action: "ref.update", namespace: "dev", target: "refs/heads/x", old: "a", new: "b", source: "127.0.0.1")
        let log = try s.auditLog()
        #expect(log.map(\.action) == ["namespace.add", "user.add", "protect", "ref.update"])
        #expect(log[0].prev == "" && log[1].prev == log[0].hash && log[3].prev == log[2].hash)
        #expect(try s.verifyAudit().entries == 4)
        #expect(try s.auditLog(limit: 2).map(\.seq) == [3, 4])
        // Field boundaries are part of the hash: moving text between fields changes it.
        var e = log[3]
        e.target = "refs/heads/x" + "a"
        e.old = ""
        #expect(e.expectedHash != log[3].hash)
    }

    @Test func namesAreChecked() throws {
        let s = try ServerStore(root: scratchRoot(), create: true)
        for bad in ["", "../x", "a b", "metrics", "healthz", "x/y"] {
            #expect(throws: ServerError.self) { _ = try s.addNamespace(bad, storage: nil, actor: "t", source: "cli") }
        }
        #expect(throws: ServerError.self) { try s.addUser("anonymous", actor: "t", source: "cli") }
        try s.addUser("alice", actor: "t", source: "cli")
        #expect(throws: ServerError.self) { try s.addUser("alice", actor: "t", source: "cli") }
        #expect(throws: ServerError.self) { _ = try ServerStore(root: scratchRoot(), create: false) }
    }
}

@Suite struct KeyClassTests {
    @Test func layoutKeysAreClassifiedAndOthersRefused() throws {
        let hex = String(repeating: "a", count: 64)
        #expect(try KeyClass("refs/heads/dev/x") == .ref(full: "refs/heads/dev/x", short: "dev/x", isTag: false))
        #expect(try KeyClass("refs/tags/v1") == .ref(full: "refs/tags/v1", short: "tags/v1", isTag: true))
        #expect(try KeyClass("packs/\(hex).pack") == .pack(hex))
        #expect(try KeyClass("index/\(hex).idx") == .index(hex))
        #expect(try KeyClass("prunes/\(hex).json") == .prune(hex))
        #expect(try KeyClass("HEAD") == .head && KeyClass("STRATA") == .marker && KeyClass("locks/gc.lease") == .lease)
        #expect(try KeyClass(".strata-probe/abc") == .probe)
        for bad in ["../STRATA", "refs/heads/../x", "packs/x.pack", "packs/\(hex).idx", "other", "/abs", "refs/heads/", ".strata-probe/a/b", ".tmp/x"] {
            #expect(throws: (any Error).self) { try KeyClass(bad) }
        }
    }
}
