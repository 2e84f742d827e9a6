import Foundation
import StrataModel

/// What the policy engine needs to know about one commit.
public struct HistoryCommit: Sendable, Hashable {
    /// Commit id.
    public var id: ObjectID
    /// Commit time, seconds since the epoch.
    public var time: Int64
    /// Parents, first parent first.
    public var parents: [ObjectID]
    /// Creates a history entry.
    public init(id: ObjectID, time: Int64, parents: [ObjectID]) { self.id = id; self.time = time; self.parents = parents }
}

/// A reflog entry, as far as retention cares.
public struct ReflogRoot: Sendable, Hashable {
    /// `HEAD` or `refs/heads/NAME`…
    public var ref: String
    /// The commit the entry names.
    public var commit: ObjectID
    /// When the entry was written.
    public var time: Int64
    /// Creates a reflog root.
    public init(ref: String, commit: ObjectID, time: Int64) { self.ref = ref; self.commit = commit; self.time = time }
}

/// Everything about a store's history that retention decides on.
public struct RetentionInput: Sendable {
    /// Every commit in the store.
    public var commits: [ObjectID: HistoryCommit]
    /// Branch heads.
    public var branches: [(name: String, head: ObjectID)]
    /// Tags.
    public var tags: [(name: String, target: ObjectID)]
    /// HEAD's commit.
    public var head: ObjectID?
    /// Reflog entries (both the old and new values of each movement).
    public var reflog: [ReflogRoot]
    /// Further commits that must be kept, with the reason (e.g. a pipeline lockfile's outputs).
    public var protected: [ObjectID: String]
    /// Creates an input.
    public init(
        commits: [ObjectID: HistoryCommit], branches: [(name: String, head: ObjectID)], tags: [(name: String, target: ObjectID)],
        head: ObjectID?, reflog: [ReflogRoot], protected: [ObjectID: String] = [:]
    ) {
        self.commits = commits; self.branches = branches; self.tags = tags; self.head = head; self.reflog = reflog; self.protected = protected
    }
}

/// One commit's verdict and why.
public struct RetentionDecision: Sendable, Equatable {
    /// The commit.
    public var id: ObjectID
    /// Its time.
    public var time: Int64
    /// Keep (true) or forget.
    public var keep: Bool
    /// Every reason it is kept (empty when forgotten), e.g. `daily 2026-11-03`, `branch head main`.
    public var reasons: [String]
    /// Branches whose first-parent history holds it.
    public var branches: [String]
}

/// The outcome of applying policies: a decision per commit, newest first.
public struct RetentionPlan: Sendable {
    /// Decisions, newest first.
    public var decisions: [RetentionDecision]
    /// Commits to forget.
    public var forget: [ObjectID] { decisions.filter { !$0.keep }.map(\.id) }
}

/// Applies retention policies with restic's counting (newest commit per period; only periods with commits count;
/// one commit may satisfy several rules; the oldest commit fills a bucket that still has room), with windows
/// anchored at `now` and periods evaluated in an explicit time zone (ISO weeks).
public struct PolicyEngine: Sendable {
    /// The instant windows are measured from.
    public var now: Date
    /// The zone in which periods (days, weeks…) are cut.
    public var timeZone: TimeZone
    /// Reflog entries older than this protect nothing.
    public var reflogExpire: RetentionDuration

    /// Creates an engine.
    public init(now: Date, timeZone: TimeZone, reflogExpire: RetentionDuration) {
        self.now = now; self.timeZone = timeZone; self.reflogExpire = reflogExpire
    }

    var calendar: Calendar { var c = Calendar(identifier: .gregorian); c.timeZone = timeZone; return c }
    var isoCalendar: Calendar { var c = Calendar(identifier: .iso8601); c.timeZone = timeZone; return c }

    /// The period key of a time, e.g. `2026-11-03` (daily) or `2026-W44` (weekly).
    public func key(_ period: RetentionPeriod, _ time: Int64) -> String {
        let d = Date(timeIntervalSince1970: TimeInterval(time))
        let c = calendar.dateComponents([.year, .month, .day, .hour], from: d)
        func two(_ n: Int?) -> String { let v = n ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        switch period {
        case .hourly: return "\(c.year!)-\(two(c.month))-\(two(c.day))T\(two(c.hour))"
        case .daily: return "\(c.year!)-\(two(c.month))-\(two(c.day))"
        case .weekly:
            let w = isoCalendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: d)
            return "\(w.yearForWeekOfYear!)-W\(two(w.weekOfYear))"
        case .monthly: return "\(c.year!)-\(two(c.month))"
        case .yearly: return "\(c.year!)"
        }
    }

    /// Applies every policy to the branches it covers and decides every commit of the store.
    public func plan(_ input: RetentionInput, policies: [RetentionPolicy]) throws -> RetentionPlan {
        if policies.isEmpty || policies.contains(where: \.isEmpty) { throw RetentionError.emptyPolicy }
        var reasons: [ObjectID: [String]] = [:]
        var inScope = Set<ObjectID>()
        var onBranch: [ObjectID: [String]] = [:]
        func add(_ id: ObjectID, _ r: String) { if !(reasons[id]?.contains(r) ?? false) { reasons[id, default: []].append(r) } }

        var tagsByCommit: [ObjectID: [String]] = [:]
        for t in input.tags { tagsByCommit[t.target, default: []].append(t.name) }

        for b in input.branches {
            var history: [HistoryCommit] = []
            var cur: ObjectID? = b.head
            var seen = Set<ObjectID>()
            while let id = cur, let c = input.commits[id], seen.insert(id).inserted {
                history.append(c); onBranch[id, default: []].append(b.name); cur = c.parents.first
            }
            add(b.head, "branch head \(b.name)")
            let applicable = policies.filter { $0.applies(to: b.name) }
            if applicable.isEmpty {
                for c in history { add(c.id, "branch \(b.name) is outside every policy") }
                continue
            }
            for c in history { inScope.insert(c.id) }
            // Newest first by time; the first-parent order breaks ties.
            let ordered = history.enumerated().sorted { ($0.element.time, -$0.offset) > ($1.element.time, -$1.offset) }.map(\.element)
            for p in applicable {
                for (id, r) in apply(p, to: ordered, tags: tagsByCommit) { add(id, r) }
            }
        }
        for t in input.tags { add(t.target, "tag \(t.name)") }
        if let h = input.head { add(h, "HEAD") }
        for (id, r) in input.protected { add(id, r) }

        // Commits reachable from branches and tags (any parent).
        var reachable = Set<ObjectID>()
        var stack = input.branches.map(\.head) + input.tags.map(\.target) + (input.head.map { [$0] } ?? [])
        while let id = stack.popLast() {
            guard reachable.insert(id).inserted, let c = input.commits[id] else { continue }
            stack.append(contentsOf: c.parents)
        }
        // Commits only the reflog reaches stay until their entry expires.
        let expiry = Int64(reflogExpire.before(now, calendar: calendar).timeIntervalSince1970)
        var reflogStack: [(ObjectID, String)] = []
        for e in input.reflog where e.time > expiry && !reachable.contains(e.commit) {
            reflogStack.append((e.commit, "reflog \(e.ref) (until \(Self.day(e.time + (Int64(now.timeIntervalSince1970) - expiry))))"))
        }
        var viaReflog = Set<ObjectID>()
        while let (id, r) = reflogStack.popLast() {
            guard !reachable.contains(id), viaReflog.insert(id).inserted, let c = input.commits[id] else { continue }
            add(id, r)
            for p in c.parents { reflogStack.append((p, r)) }
        }
        for id in reachable where !inScope.contains(id) && input.commits[id] != nil { add(id, "outside every policy's scope") }

        let decisions = input.commits.values.sorted { ($0.time, $0.id) > ($1.time, $1.id) }.map { c in
            RetentionDecision(
                id: c.id, time: c.time, keep: !(reasons[c.id]?.isEmpty ?? true), reasons: reasons[c.id] ?? [],
                branches: onBranch[c.id] ?? [])
        }
        return RetentionPlan(decisions: decisions)
    }

    static func day(_ t: Int64) -> String {
        let f = DateFormatter(); f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    /// restic's bucket algorithm over one branch's history (newest first).
    func apply(_ p: RetentionPolicy, to list: [HistoryCommit], tags: [ObjectID: [String]]) -> [(ObjectID, String)] {
        var out: [(ObjectID, String)] = []
        struct Bucket { var name: String; var remaining: Int; var last: String?; var key: (Int, HistoryCommit) -> String }
        var buckets: [Bucket] = []
        if let n = p.keepLast, n != 0 { buckets.append(Bucket(name: "last", remaining: n, last: nil) { i, _ in String(i) }) }
        for period in RetentionPeriod.allCases {
            if let n = p.keepPeriods[period], n != 0 {
                buckets.append(Bucket(name: period.rawValue, remaining: n, last: nil) { _, c in self.key(period, c.time) })
            }
        }
        var withins: [(RetentionPeriod, Int64, String?)] = RetentionPeriod.allCases.compactMap { period in
            p.keepWithinPeriods[period].map { (period, Int64($0.before(now, calendar: calendar).timeIntervalSince1970), nil) }
        }
        let withinLimit = p.keepWithin.map { Int64($0.before(now, calendar: calendar).timeIntervalSince1970) }
        for (i, c) in list.enumerated() {
            for pattern in p.keepTags {
                for t in tags[c.id] ?? [] where Glob.match(pattern, t) { out.append((c.id, "keep-tag \(pattern) (\(t))")) }
            }
            if let limit = withinLimit, c.time > limit { out.append((c.id, "within \(p.keepWithin!)")) }
            for b in buckets.indices where buckets[b].remaining != 0 {
                let k = buckets[b].key(i, c)
                let oldest = i == list.count - 1
                if k != buckets[b].last || oldest {
                    let isNew = k != buckets[b].last
                    out.append((c.id, buckets[b].name == "last" ? "last \(i + 1)" : (isNew ? "" : "oldest ") + "\(buckets[b].name) \(k)"))
                    buckets[b].last = k
                    if buckets[b].remaining > 0 { buckets[b].remaining -= 1 }
                }
            }
            for w in withins.indices where c.time > withins[w].1 {
                let k = key(withins[w].0, c.time)
                if k != withins[w].2 {
                    out.append((c.id, "within-\(withins[w].0.rawValue) \(p.keepWithinPeriods[withins[w].0]!) \(k)"))
                    withins[w].2 = k
                }
            }
        }
        return out
    }
}
