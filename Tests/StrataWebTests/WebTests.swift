import Foundation
import StrataTestSupport
import StrataWeb
import Testing

@Suite("Web: escaping, graph layout, SVG") struct WebTests {
    /// Property: escaped text has no character that could open markup or end an attribute, and unescapes to itself.
    @Test(arguments: [UInt64(1), 42, 0xBEEF])
    func escapingIsTotal(seed: UInt64) {
        var g = SplitMix(seed: seed)
        let alphabet = Array("<>&\"' abc/=é日\u{0}\n;#x")
        for _ in 0..<500 {
            let s = String((0..<Int.random(in: 0..<40, using: &g)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &g)] })
            let e = HTMLBuilder.esc(s)
            #expect(!e.contains("<") && !e.contains(">") && !e.contains("\"") && !e.contains("'"))
            let back = e.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
            #expect(back == s)
        }
    }

    /// Property: on random acyclic graphs every edge points to a later layer, every node has one place, and no two
    /// nodes share a slot; with cycles added, every node is still placed.
    @Test(arguments: [UInt64(7), 99, 2024])
    func layeredLayout(seed: UInt64) {
        var g = SplitMix(seed: seed)
        for round in 0..<50 {
            var graph = WebGraph()
            let n = Int.random(in: 1..<40, using: &g)
            for i in 0..<n { graph.add(.init(id: "n\(i)", label: "node \(i)", detail: "", kind: i % 2 == 0 ? .dataset : .run)) }
            var edges: [(Int, Int)] = []
            for _ in 0..<Int.random(in: 0..<(n * 2), using: &g) {
                let a = Int.random(in: 0..<n, using: &g), b = Int.random(in: 0..<n, using: &g)
                if a < b { edges.append((a, b)) }
            }
            let cyclic = round % 5 == 4 && n > 2
            for (a, b) in edges { graph.connect("n\(a)", "n\(b)") }
            if cyclic { graph.connect("n\(n - 1)", "n0") }
            let (layers, position) = graph.layout()
            #expect(position.count == n)
            #expect(layers.flatMap { $0 }.sorted() == Array(0..<n))
            for l in layers { #expect(Set(l.map { position[$0]!.slot }).count == l.count) }
            if !cyclic { for (a, b) in edges { #expect(position[a]!.layer < position[b]!.layer) } }
        }
    }

    /// The SVG of a fixed graph is stable byte for byte (golden file; STRATA_UPDATE_SNAPSHOTS=1 rewrites it).
    @Test func svgGolden() throws {
        var graph = WebGraph()
        graph.add(.init(id: "ds:raw", label: "raw/orgs.csv", detail: "sha256 0a1b2c3d4e5f", kind: .dataset, href: "lineage?d=raw"))
        graph.add(.init(id: "run:1", label: "curation.extract", detail: "COMPLETE", kind: .run))
        graph.add(.init(id: "ds:out", label: "curated/orgs.csv", detail: "sha256 99aa", kind: .dataset))
        graph.add(.init(id: "run:2", label: "curation.report <b>", detail: "FAIL", kind: .run, tone: "bad"))
        graph.connect("ds:raw", "run:1")
        graph.connect("run:1", "ds:out")
        graph.connect("ds:out", "run:2")
        let svg = graph.svg(title: "Lineage & co")
        #expect(svg.contains("curation.report &lt;b&gt;") && svg.contains("stroke-dasharray"))
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/graph.svg").path
        if ProcessInfo.processInfo.environment["STRATA_UPDATE_SNAPSHOTS"] == "1" {
            try svg.write(toFile: golden, atomically: true, encoding: .utf8)
        }
        #expect(svg == (try String(contentsOfFile: golden, encoding: .utf8)), "rerun with STRATA_UPDATE_SNAPSHOTS=1 and review the diff")
    }
}
