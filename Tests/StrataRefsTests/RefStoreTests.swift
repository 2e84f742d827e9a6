import Foundation
import Testing
import StrataModel
import StrataRefs
import StrataSQLite

@Suite("Refs") struct RefStoreTests {
    func make() throws -> RefStore {
        let path = NSTemporaryDirectory() + "refs-\(UUID().uuidString).db"
        let db = try Database(path: path)
        try Migrator.migrate(db, schemas: [RefStore.schema], storeVersion: 1, now: 0)
        return try RefStore(db: db)
    }

    @Test func compareAndSwap() throws {
        let refs = try make()
        let a = ObjectID.hash([1]), b = ObjectID.hash([2]), c = ObjectID.hash([3])
        try refs.updateBranch(.main, expected: nil, new: a, message: "commit", time: 1)
        #expect(try refs.branch(.main) == a)
        try refs.updateBranch(.main, expected: a, new: b, message: "commit", time: 2)
        #expect(throws: RefError.self) { try refs.updateBranch(.main, expected: a, new: c, message: "stale", time: 3) }
        #expect(try refs.branch(.main) == b)
        #expect(throws: RefError.self) { try refs.updateBranch(.main, expected: nil, new: c, message: "create twice", time: 3) }
        let log = try refs.reflog("refs/heads/main")
        #expect(log.map(\.new) == [b, a])
        #expect(try refs.reflog("HEAD").count == 2)
    }

    /// Names are matched byte for byte, and a new name equal to an existing one under Unicode normalization (an NFC
    /// "café" against an NFD one) is refused. Before, both could be created, and `tag(_:)` returned whichever of the
    /// two tags sorted first, so a revision named by the other resolved to the wrong commit.
    @Test func namesEqualUnderNormalizationAreNotTwoRefs() throws {
        let refs = try make()
        let a = ObjectID.hash([1]), b = ObjectID.hash([2])
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        try refs.updateBranch(try BranchName(nfc), expected: nil, new: a, message: "branch", time: 1)
        do {
            try refs.updateBranch(try BranchName(nfd), expected: nil, new: b, message: "branch", time: 2)
            Issue.record("an NFD twin of a branch was created")
        } catch let e as RefError {
            #expect(e.code == "ref.equivalent-name" && e.message.contains("cafe\\u{301}") && e.message.contains("caf\\u{E9}"), "\(e.message)")
        }
        try refs.updateTag(try TagName(nfd), expected: nil, new: b, message: nil, tagger: nil, time: 3)
        #expect(throws: RefError.self) { try refs.updateTag(try TagName(nfc), expected: nil, new: a, message: nil, tagger: nil, time: 4) }
        // A store written before the rule may hold both: each name finds its own.
        try refs.db.run("INSERT INTO refs (name, target) VALUES (?, ?)", [.text("refs/tags/" + nfc), .blob(a.bytes)])
        #expect(try refs.tag(try TagName(nfc))?.target == a)
        #expect(try refs.tag(try TagName(nfd))?.target == b)
    }

    @Test func headAndTags() throws {
        let refs = try make()
        #expect(try refs.head() == .branch(.main))
        #expect(try refs.headCommit() == nil)
        let a = ObjectID.hash([1])
        try refs.setHead(.detached(a), message: "checkout", time: 1)
        #expect(try refs.headCommit() == a)
        let t = try TagName("v1")
        try refs.updateTag(t, expected: nil, new: a, message: "first release", tagger: "A <a@b>", time: 5)
        #expect(try refs.tag(t)?.message == "first release")
        try refs.updateTag(t, expected: a, new: nil, message: nil, tagger: nil, time: 6)
        #expect(try refs.tag(t) == nil)
    }
}
