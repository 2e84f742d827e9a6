import Foundation
import TOMLKit
import StrataModel
import StrataPlatform

/// Reads selected keys from a JSON or TOML params file, so only those values count as a stage input.
enum ParamsFile {
    /// Canonical text of the selected values (`key=value` lines, sorted); a missing key reads as `<missing>`.
    static func select(_ path: String, keys: [String]) throws -> String {
        let bytes = try Posix.readFile(path)
        var flat: [String: String] = [:]
        if path.hasSuffix(".toml") {
            // TOMLKit (toml++) parses; the document is then read as JSON, so values hash in the same canonical form
            // whatever the formatting, comments or quoting of the file.
            let table: TOMLTable
            do { table = try TOMLTable(string: String(decoding: bytes, as: UTF8.self)) } catch let e as TOMLParseError {
                throw PipelineError.badParams(path, reason: "line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
            }
            let obj = try JSONSerialization.jsonObject(with: Data(table.convert(to: .json).utf8), options: [.fragmentsAllowed])
            flatten(obj, "", &flat)
        } else {
            let obj = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            flatten(obj, "", &flat)
        }
        return keys.sorted().map { "\($0)=\(flat[$0] ?? "<missing>")" }.joined(separator: "\n")
    }

    static func flatten(_ v: Any, _ prefix: String, _ out: inout [String: String]) {
        if let d = v as? [String: Any] {
            for (k, x) in d { flatten(x, prefix.isEmpty ? k : prefix + "." + k, &out) }
            if !prefix.isEmpty { out[prefix] = canonical(v) }
        } else {
            out[prefix] = canonical(v)
        }
    }

    /// Canonical JSON text of a value: keys sorted, no spaces, integers as integers and other numbers in their shortest
    /// round-trip form (`0.8`, whether written `0.8`, `8.0e-1` or `0.80`), so formatting never changes a stage key.
    static func canonical(_ v: Any) -> String {
        switch v {
        case let d as [String: Any]:
            return "{" + d.keys.sorted().map { canonicalString($0) + ":" + canonical(d[$0]!) }.joined(separator: ",") + "}"
        case let a as [Any]:
            return "[" + a.map(canonical).joined(separator: ",") + "]"
        case let s as String:
            return canonicalString(s)
        case is NSNull:
            return "null"
        case let n as NSNumber:
            if String(cString: n.objCType) == "c" || type(of: v) == Bool.self { return n.boolValue ? "true" : "false" }
            let d = n.doubleValue
            if d.rounded() == d && abs(d) < 9.0e15 { return String(Int64(d)) }
            return "\(d)"
        default:
            return "\(v)"
        }
    }

    static func canonicalString(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: s, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

}
