import Foundation
import Testing
import StrataModel
@testable import StrataMaintenance

/// Builds a linear history of commits at the given ISO times (oldest first) on branch main.
func history(_ times: [String], branch: String = "main") -> (RetentionInput, [ObjectID]) {
    let f = ISO8601DateFormatter()
    var commits: [ObjectID: HistoryCommit] = [:]
    var ids: [ObjectID] = []
    for (i, t) in times.enumerated() {
        let id = ObjectID.hash(Array("\(branch)-\(i)-\(t)".utf8))
        let time = Int64(f.date(from: t)!.timeIntervalSince1970)
        commits[id] = HistoryCommit(id: id, time: time, parents: ids.last.map { [$0] } ?? [])
        ids.append(id)
    }
    return (RetentionInput(commits: commits, branches: [(branch, ids.last!)], tags: [], head: ids.last!, reflog: []), ids)
}

func engine(_ now: String = "2026-01-18T23:00:00Z", tz: String = "UTC") -> PolicyEngine {
    PolicyEngine(now: ISO8601DateFormatter().date(from: now)!, timeZone: TimeZone(identifier: tz)!, reflogExpire: try! RetentionDuration(parsing: "90d"))
}

func policy(_ build: (inout RetentionPolicy) -> Void) -> RetentionPolicy { var p = RetentionPolicy(); build(&p); return p }

@Suite("Retention policy engine") struct PolicyEngineTests {
    /// 14 daily commits at 12:00, Mon 2026-01-05 … Sun 2026-01-18 (the worked example of anchor-semantics.md).
    var fortnight: [String] { (5...18).map { String(format: "2026-01-%02dT12:00:00Z", $0) } }

    @Test func resticWorkedExampleDailyThreeWeeklyTwo() throws {
        let (input, ids) = history(fortnight)
        let plan = try engine().plan(input, policies: [policy { $0.keepPeriods = [.daily: 3, .weekly: 2] }])
        let kept = Set(plan.decisions.filter(\.keep).map(\.id))
        // restic keeps Sun 18 (daily+weekly, head), Sat 17, Fri 16 (daily), Sun 11 (weekly): 4 commits.
        #expect(kept == Set([ids[13], ids[12], ids[11], ids[6]]))
        let sunday = plan.decisions.first { $0.id == ids[13] }!
        #expect(sunday.reasons.contains("daily 2026-01-18") && sunday.reasons.contains("weekly 2026-W03"))
        #expect(plan.decisions.first { $0.id == ids[6] }!.reasons == ["weekly 2026-W02"])
    }

    @Test func gapsDoNotConsumeCountsAndOldestRuleApplies() throws {
        // Three commits spread over weeks: keep-daily 7 keeps all of them (only days with commits count).
        let (input, ids) = history(["2025-12-01T10:00:00Z", "2026-01-02T10:00:00Z", "2026-01-15T10:00:00Z"])
        let plan = try engine().plan(input, policies: [policy { $0.keepPeriods = [.daily: 7] }])
        #expect(plan.forget.isEmpty)
        // Two commits on the same day plus an older one: keep-daily 5 keeps the newest of the day, and the oldest
        // commit through the oldest-commit rule while the bucket has room.
        let (input2, ids2) = history(["2026-01-10T08:00:00Z", "2026-01-10T09:00:00Z", "2026-01-10T10:00:00Z"])
        let plan2 = try engine().plan(input2, policies: [policy { $0.keepPeriods = [.daily: 5] }])
        #expect(Set(plan2.forget) == [ids2[1]])
        #expect(plan2.decisions.first { $0.id == ids2[0] }!.reasons == ["oldest daily 2026-01-10"])
        _ = ids
    }

    @Test func keepLastAndWithinAnchoredAtNow() throws {
        let (input, ids) = history(fortnight)
        let p1 = try engine().plan(input, policies: [policy { $0.keepLast = 2 }])
        #expect(Set(p1.decisions.filter(\.keep).map(\.id)) == [ids[13], ids[12]])
        // within 3d of now (2026-01-18T23:00) keeps commits after 2026-01-15T23:00: the 16th, 17th, 18th.
        let p2 = try engine().plan(input, policies: [policy { $0.keepWithin = try! RetentionDuration(parsing: "3d") }])
        #expect(Set(p2.decisions.filter(\.keep).map(\.id)) == Set(ids[11...13]))
        // The same policy a week later keeps only the branch head.
        let p3 = try engine("2026-01-25T23:00:00Z").plan(input, policies: [policy { $0.keepWithin = try! RetentionDuration(parsing: "3d") }])
        #expect(p3.decisions.filter(\.keep).map(\.id) == [ids[13]])
    }

    @Test func isoWeekBoundaryAndTimeZones() throws {
        // Sunday 2026-01-04 23:30 UTC is Monday 01:30 in Johannesburg (UTC+2): a different ISO week there.
        let e = engine()
        let t = Int64(ISO8601DateFormatter().date(from: "2026-01-04T23:30:00Z")!.timeIntervalSince1970)
        #expect(e.key(.weekly, t) == "2026-W01")
        #expect(engine(tz: "Africa/Johannesburg").key(.weekly, t) == "2026-W02")
        #expect(engine(tz: "Africa/Johannesburg").key(.daily, t) == "2026-01-05")
        // ISO week 1 of 2026 starts on Monday 2025-12-29.
        #expect(e.key(.weekly, Int64(ISO8601DateFormatter().date(from: "2025-12-29T00:00:00Z")!.timeIntervalSince1970)) == "2026-W01")
        #expect(e.key(.weekly, Int64(ISO8601DateFormatter().date(from: "2025-12-28T23:59:00Z")!.timeIntervalSince1970)) == "2025-W52")
    }

    @Test func daylightSavingDaysAreCalendarDays() throws {
        // Europe/Berlin switches to summer time on 2026-03-29: that day has 23 hours, still one daily period.
        let (input, ids) = history(["2026-03-28T22:30:00Z", "2026-03-29T21:30:00Z", "2026-03-29T22:30:00Z"])
        let plan = try engine("2026-04-01T00:00:00Z", tz: "Europe/Berlin").plan(input, policies: [policy { $0.keepPeriods = [.daily: 10] }])
        // Local times: 28th 23:30, 29th 23:30, 30th 00:30 → three different days, all kept.
        #expect(plan.forget.isEmpty)
        #expect(plan.decisions.first { $0.id == ids[1] }!.reasons.contains("daily 2026-03-29"))
    }

    @Test func severalBranchesSharingHistoryAndTags() throws {
        var (input, ids) = history(fortnight)
        // Branch dev forks at the 9th commit (2026-01-13) with one commit of its own.
        let dev = ObjectID.hash(Array("dev".utf8))
        input.commits[dev] = HistoryCommit(
            id: dev, time: Int64(ISO8601DateFormatter().date(from: "2026-01-14T09:00:00Z")!.timeIntervalSince1970), parents: [ids[8]])
        input.branches.append(("dev", dev))
        input.tags = [("v1", ids[2])]
        // main keeps 1, dev keeps within 10d: the shared commits inside dev's window are kept (the longest window wins).
        let plan = try engine().plan(
            input,
            policies: [
                policy {
                    $0.keepLast = 1; $0.branches = ["main"]
                },
                policy {
                    $0.keepWithin = try! RetentionDuration(parsing: "10d"); $0.branches = ["d*"]
                },
            ])
        let kept = Set(plan.decisions.filter(\.keep).map(\.id))
        #expect(kept.contains(ids[13]) && kept.contains(dev))
        #expect(kept.contains(ids[8]) && kept.contains(ids[4]))  // on dev's first-parent history, within 10 days
        #expect(kept.contains(ids[2]))  // tag v1
        #expect(plan.decisions.first { $0.id == ids[2] }!.reasons.contains("tag v1"))
        #expect(!kept.contains(ids[10]))  // only on main, outside main's keep-last 1
    }

    @Test func reflogProtectsUntilExpiry() throws {
        var (input, ids) = history(fortnight)
        // A reset left ids[13] behind: main now points at ids[11]; only the reflog reaches 12 and 13.
        input.branches = [("main", ids[11])]
        input.head = ids[11]
        let recent = Int64(ISO8601DateFormatter().date(from: "2026-01-18T12:00:00Z")!.timeIntervalSince1970)
        input.reflog = [ReflogRoot(ref: "refs/heads/main", commit: ids[13], time: recent)]
        let p = policy { $0.keepLast = 1 }
        let plan = try engine().plan(input, policies: [p])
        #expect(plan.decisions.first { $0.id == ids[13] }!.keep)
        #expect(plan.decisions.first { $0.id == ids[12] }!.keep)
        let later = try engine("2026-06-01T00:00:00Z").plan(input, policies: [p])
        #expect(!later.decisions.first { $0.id == ids[13] }!.keep)
    }

    @Test func emptyPolicyIsRefused() {
        let (input, _) = history(fortnight)
        #expect(throws: RetentionError.self) { try engine().plan(input, policies: [RetentionPolicy()]) }
        #expect(throws: RetentionError.self) { try engine().plan(input, policies: []) }
    }

    @Test func propertiesIdempotentAndMonotone() throws {
        var g = SystemRandomNumberGenerator()
        for round in 0..<30 {
            var times: [Date] = []
            var t = ISO8601DateFormatter().date(from: "2024-01-01T00:00:00Z")!
            for _ in 0..<Int.random(in: 5...120, using: &g) {
                t = t.addingTimeInterval(Double(Int.random(in: 600...(86400 * 9), using: &g)))
                times.append(t)
            }
            let iso = ISO8601DateFormatter()
            let (input, _) = history(times.map { iso.string(from: $0) }, branch: "b\(round)")
            let now = iso.string(from: t.addingTimeInterval(3600))
            let narrow = policy { $0.keepPeriods = [.daily: Int.random(in: 1...5, using: &g), .monthly: Int.random(in: 0...3, using: &g)] }
            var wide = narrow
            wide.keepPeriods[.daily]! += Int.random(in: 1...5, using: &g)
            wide.keepWithin = try RetentionDuration(parsing: "\(Int.random(in: 1...60, using: &g))d")
            let a = try engine(now).plan(input, policies: [narrow])
            let b = try engine(now).plan(input, policies: [wide])
            // A wider policy keeps a superset.
            #expect(Set(a.decisions.filter(\.keep).map(\.id)).isSubset(of: Set(b.decisions.filter(\.keep).map(\.id))))
            // Pruning twice equals pruning once: the plan depends only on history and time, not on earlier prunes.
            let again = try engine(now).plan(input, policies: [narrow])
            #expect(again.forget == a.forget)
        }
    }

    @Test func durations() throws {
        let d = try RetentionDuration(parsing: "1y6m")
        #expect(d.years == 1 && d.months == 6)
        #expect(try RetentionDuration(parsing: "2w").weeks == 2)
        #expect(try RetentionDuration(parsing: "36h").hours == 36)
        #expect(throws: RetentionError.self) { try RetentionDuration(parsing: "3x") }
        #expect(throws: RetentionError.self) { try RetentionDuration(parsing: "") }
        #expect(Glob.match("release/*", "release/2026-11"))
        #expect(!Glob.match("release/*", "main"))
    }
}
