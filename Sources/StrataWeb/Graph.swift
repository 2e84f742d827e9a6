import Foundation

/// A directed graph to draw: datasets and runs (lineage), or stages (a pipeline).
public struct WebGraph: Sendable {
    /// One box.
    public struct Node: Sendable, Equatable {
        /// What the node is: it sets the shape (datasets are rectangles, runs and stages have round corners).
        public enum Kind: String, Sendable { case dataset, run, stage }
        /// Unique within the graph.
        public var id: String
        /// The first line (a path, a job or a stage name).
        public var label: String
        /// The second line (a short hash, a status or a reason).
        public var detail: String
        /// The shape.
        public var kind: Kind
        /// `ok`, `warn` or `bad`: drawn as a border style and a word, never by colour alone.
        public var tone: String
        /// Where the node links to (nil: no link).
        public var href: String?
        /// The whole text of the node for its tooltip and for screen readers.
        public var title: String

        /// A node.
        public init(id: String, label: String, detail: String, kind: Kind, tone: String = "ok", href: String? = nil, title: String? = nil) {
            self.id = id; self.label = label; self.detail = detail; self.kind = kind; self.tone = tone; self.href = href
            self.title = title ?? label + " " + detail
        }
    }
    /// The nodes, in the order they were added.
    public private(set) var nodes: [Node] = []
    /// Edges as (from, to) node ids.
    public private(set) var edges: [(String, String)] = []
    private var index: [String: Int] = [:]
    private var edgeSet: Set<String> = []

    /// An empty graph.
    public init() {}

    /// Adds a node (a second node with the same id is ignored).
    public mutating func add(_ n: Node) {
        if index[n.id] != nil { return }
        index[n.id] = nodes.count
        nodes.append(n)
    }
    /// Adds an edge between two added nodes (once).
    public mutating func connect(_ a: String, _ b: String) {
        guard index[a] != nil, index[b] != nil, a != b, edgeSet.insert(a + "\u{0}" + b).inserted else { return }
        edges.append((a, b))
    }

    /// Layers by longest path from the sources (edges that would close a cycle are ignored), then the order within each
    /// layer by the barycentre of the neighbours in the layer before and after, a few sweeps each way (Sugiyama).
    public func layout() -> (layers: [[Int]], position: [Int: (layer: Int, slot: Int)]) {
        let n = nodes.count
        var out = [[Int]](repeating: [], count: n), inn = [[Int]](repeating: [], count: n)
        // Depth-first search drops back edges, so the rest is acyclic.
        var state = [UInt8](repeating: 0, count: n)
        var kept: [(Int, Int)] = []
        var adj = [[Int]](repeating: [], count: n)
        for (a, b) in edges { adj[index[a]!].append(index[b]!) }
        for s in 0..<n where state[s] == 0 {
            var stack: [(Int, Int)] = [(s, 0)]
            state[s] = 1
            while let (v, i) = stack.last {
                if i < adj[v].count {
                    stack[stack.count - 1].1 += 1
                    let w = adj[v][i]
                    if state[w] == 1 { continue }
                    kept.append((v, w))
                    if state[w] == 0 {
                        state[w] = 1
                        stack.append((w, 0))
                    }
                } else {
                    state[v] = 2
                    stack.removeLast()
                }
            }
        }
        for (a, b) in kept {
            out[a].append(b)
            inn[b].append(a)
        }
        // Longest path layering in topological order (Kahn).
        var layer = [Int](repeating: 0, count: n)
        var indeg = inn.map(\.count)
        var queue = (0..<n).filter { indeg[$0] == 0 }
        var head = 0
        while head < queue.count {
            let v = queue[head]
            head += 1
            for w in out[v] {
                layer[w] = max(layer[w], layer[v] + 1)
                indeg[w] -= 1
                if indeg[w] == 0 { queue.append(w) }
            }
        }
        let depth = (layer.max() ?? -1) + 1
        var layers = [[Int]](repeating: [], count: depth)
        for v in 0..<n { layers[layer[v]].append(v) }
        var slot = [Int](repeating: 0, count: n)
        func renumber() { for l in layers { for (i, v) in l.enumerated() { slot[v] = i } } }
        renumber()
        for sweep in 0..<8 {
            let down = sweep % 2 == 0
            let range = down ? Array(1..<max(1, depth)) : Array((0..<max(0, depth - 1)).reversed())
            for l in range {
                let key = layers[l].map { v -> (Int, Double) in
                    let ns = down ? inn[v] : out[v]
                    if ns.isEmpty { return (v, Double(slot[v])) }
                    return (v, Double(ns.map { slot[$0] }.reduce(0, +)) / Double(ns.count))
                }
                layers[l] = key.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : slot[$0.0] < slot[$1.0] }.map(\.0)
                for (i, v) in layers[l].enumerated() { slot[v] = i }
            }
        }
        var position: [Int: (layer: Int, slot: Int)] = [:]
        for (l, vs) in layers.enumerated() { for (i, v) in vs.enumerated() { position[v] = (l, i) } }
        return (layers, position)
    }

    /// The graph as SVG, left to right, with a title and a description for screen readers; each node is a link when
    /// it has one and carries its whole text as a tooltip.
    public func svg(title: String) -> String {
        let (layers, position) = layout()
        let w = 210.0, h = 46.0, gx = 70.0, gy = 18.0, pad = 12.0
        let tallest = Double(layers.map(\.count).max() ?? 0)
        let width = Double(layers.count) * (w + gx) - gx + 2 * pad
        let height = max(tallest * (h + gy) - gy, h) + 2 * pad
        func origin(_ v: Int) -> (Double, Double) {
            let p = position[v]!
            let count = Double(layers[p.layer].count)
            let top = (height - 2 * pad - (count * (h + gy) - gy)) / 2
            return (pad + Double(p.layer) * (w + gx), pad + top + Double(p.slot) * (h + gy))
        }
        var s = HTMLBuilder()
        // A stable id (FNV-1a of the title): the same graph renders to the same bytes.
        var fnv: UInt32 = 2_166_136_261
        for b in title.utf8 { fnv = (fnv ^ UInt32(b)) &* 16_777_619 }
        let titleID = "g-" + String(fnv, radix: 16)
        s.raw(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" role=\"\(nodes.contains { $0.href != nil } ? "group" : "img")\" viewBox=\"0 0 \(Int(max(width, 200))) \(Int(height))\" width=\"\(Int(max(width, 200)))\" height=\"\(Int(height))\" aria-labelledby=\"\(titleID)\">"
        )
        s.el("title", title, [("id", titleID)])
        s.el("desc", "\(nodes.count) nodes and \(edges.count) edges, drawn left to right: sources on the left.")
        s.raw(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#57606a\"/></marker></defs>"
        )
        for (a, b) in edges {
            let (ax, ay) = origin(index[a]!), (bx, by) = origin(index[b]!)
            let x1 = ax + w, y1 = ay + h / 2, x2 = bx, y2 = by + h / 2
            let mid = (x1 + x2) / 2
            s.raw(
                "<path d=\"M\(f(x1)),\(f(y1)) C\(f(mid)),\(f(y1)) \(f(mid)),\(f(y2)) \(f(x2)),\(f(y2))\" fill=\"none\" stroke=\"#57606a\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"/>"
            )
        }
        for (v, node) in nodes.enumerated() {
            let (x, y) = origin(v)
            if let href = node.href { s.open("a", [("href", href)]) }
            s.open("g", [("class", "node " + node.kind.rawValue + " " + node.tone), ("data-node", node.id)])
            s.el("title", node.title)
            let stroke = node.tone == "bad" ? "#a40e26" : node.tone == "warn" ? "#7d4e00" : "#0550ae"
            let fill = node.kind == .dataset ? "#f6f8fa" : node.tone == "bad" ? "#ffebe9" : node.tone == "warn" ? "#fff8c5" : "#ddf4ff"
            let dash = node.tone == "bad" ? " stroke-dasharray=\"5 3\"" : node.tone == "warn" ? " stroke-dasharray=\"2 2\"" : ""
            let radius = node.kind == .dataset ? 2 : 12
            s.raw(
                "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(h))\" rx=\"\(radius)\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(node.tone == "ok" ? 1.5 : 2.5)\"\(dash)/>"
            )
            s.raw("<text x=\"\(f(x + 8))\" y=\"\(f(y + 19))\" font-size=\"13\" font-family=\"system-ui,sans-serif\" fill=\"#1b1f24\">")
            s.text(clip(node.label, 30))
            s.raw("</text><text x=\"\(f(x + 8))\" y=\"\(f(y + 37))\" font-size=\"11\" font-family=\"ui-monospace,monospace\" fill=\"#3d444d\">")
            s.text(clip(node.detail, 34))
            s.raw("</text></g>")
            if node.href != nil { s.close("a") }
        }
        s.raw("</svg>")
        return s.out
    }

    private func f(_ v: Double) -> String { String(Int(v.rounded())) }
    private func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : "…" + s.suffix(n - 1) }
}
