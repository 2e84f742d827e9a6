import Foundation
import StrataModel
import StrataPlatform

/// Reads selected keys from a JSON or TOML params file, so only those values count as a stage input.
enum ParamsFile {
    /// Canonical text of the selected values (`key=value` lines, sorted); a missing key reads as `<missing>`.
    static func select(_ path: String, keys: [String]) throws -> String {
        let bytes = try Posix.readFile(path)
        var flat: [String: String] = [:]
        if path.hasSuffix(".toml") {
            flat = toml(String(decoding: bytes, as: UTF8.self))
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

    static func canonical(_ v: Any) -> String {
        if let data = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(v)"
    }

    /// A small TOML reader: `[section]` headers and `key = value` lines, values kept as written.
    static func toml(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") { section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces); continue }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let k = line[..<eq].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            let v = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            out[section.isEmpty ? k : section + "." + k] = v
        }
        return out
    }
}
