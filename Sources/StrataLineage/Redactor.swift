import Foundation
import StrataModel
import StrataPlatform

/// Keeps personal data out of everything lineage emits (POPIA): pseudonymises people, redacts e-mail addresses,
/// phone numbers, South African ID numbers, configured names and configured patterns from every literal, and replaces
/// path segments that hold any of them with stable pseudonyms. Every export goes through `scrub`, so a field that a
/// builder forgot is still caught (docs/privacy.md).
public struct Redactor: Sendable {
    /// The store's secret salt for pseudonyms.
    public let salt: String
    /// Extra regular expressions to redact (config `lineage.redact`, separated by newlines).
    public let patterns: [String]
    /// Personal names to redact wherever they appear as a word (config `lineage.redact-names`, and the file named by
    /// `lineage.redact-names-file`, one per line).
    public let names: [String]

    /// Patterns that need no protection from hashes (they cannot occur inside a hexadecimal run).
    static let textual: [(NSRegularExpression, String)] = [
        (regex(#"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"#), "[email]")
    ]

    /// Digit patterns: applied only outside content hashes and run ids, which they could otherwise match by chance.
    static let numeric: [(NSRegularExpression, String)] = [
        // South African ID number: YYMMDD SSSS C A Z (13 digits, optionally grouped 6-4-3), not part of a longer number.
        (regex(#"(?<![0-9])[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01]) ?[0-9]{4} ?[0-9]{3}(?![0-9])"#), "[id-number]"),
        // South African phone numbers in every common form: 082 123 4567, +27 82 123 4567, +27 (0)21 555 0303,
        // (021) 555-0303, 0215550303, 0027 82 123 4567, with spaces, dashes or dots.
        (
            regex(#"(?<![0-9])(?:(?:\+|00)27[ .-]?(?:\(0\)[ .-]?)?\(?|\(?0)[0-9]{2}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}(?![0-9])"#),
            "[phone]"
        ),
        // Other international numbers (+CC …).
        (regex(#"\+[1-9][0-9]{0,2}[ .-]?(?:\(0\)[ .-]?)?\(?[0-9]{1,4}\)?[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4}(?![0-9])"#), "[phone]"),
    ]

    /// Content hashes and short ids (12+ lower-case hex digits with at least one letter), 64-digit hashes and UUIDs,
    /// never altered. (A run of 12+ plain digits is not protected: a 13-digit one may be an ID number.)
    static let protected = regex(
        #"(?<![0-9A-Za-z])([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=[0-9a-f]*[a-f])[0-9a-f]{12,}|[0-9a-f]{64})(?![0-9A-Za-z])"#)

    /// A built-in pattern (literals checked by the tests; configured ones that do not compile are skipped instead).
    static func regex(_ p: String) -> NSRegularExpression { try! NSRegularExpression(pattern: p) }

    /// Configured patterns and names; a name carries its lower-cased first word, without which it cannot match.
    let configured: [(NSRegularExpression, String, hint: String?)]

    /// Creates a redactor.
    public init(salt: String, patterns: [String] = [], names: [String] = []) {
        self.salt = salt; self.patterns = patterns
        // Names are matched in NFC, as the text is (see `redactPlain`).
        self.names = names.map { $0.trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping }.filter { $0.count >= 2 }
        var c: [(NSRegularExpression, String, hint: String?)] = []
        for p in patterns where !p.isEmpty {
            if let r = try? NSRegularExpression(pattern: p) { c.append((r, "[redacted]", nil)) }
        }
        // Longest names first, so "Thabo Nkosi" goes before "Thabo". Word boundaries in any script.
        for n in self.names.sorted(by: { $0.count > $1.count }) {
            let words = n.split(whereSeparator: { $0 == " " || $0 == "." || $0 == "-" || $0 == "_" }).map {
                NSRegularExpression.escapedPattern(for: String($0))
            }
            let body = words.joined(separator: #"[ ._-]+"#)
            if let r = try? NSRegularExpression(pattern: #"(?<![\p{L}\p{N}])"# + body + #"(?![\p{L}\p{N}])"#, options: [.caseInsensitive]) {
                c.append((r, "[name]", n.split(whereSeparator: { " ._-".contains($0) }).first.map { $0.lowercased() }))
            }
        }
        configured = c
    }

    /// The text with personal data replaced by placeholders. Percent-encoded text (IRIs, URLs) is checked decoded too.
    public func redact(_ text: String) -> String {
        let plain = redactPlain(text)
        guard text.contains("%"), let decoded = text.removingPercentEncoding, decoded != text else { return plain }
        let cleaned = redactPlain(decoded)
        if cleaned == decoded { return plain }
        return cleaned.addingPercentEncoding(withAllowedCharacters: Redactor.iriSafe) ?? "[redacted]"
    }

    static let iriSafe = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~:/"))

    /// Text that is not ASCII is matched in its NFC form: the regular expressions compare code points, so a name
    /// configured as "Andr\u{E9}" (NFC, as typed) did not match "Andre\u{301}" (NFD, as file names copied from a Mac
    /// are) and went out unredacted. Text with nothing to redact is returned exactly as it came.
    func redactPlain(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return redactNFC(text) }
        let nfc = text.precomposedStringWithCanonicalMapping
        let out = redactNFC(nfc)
        return out.utf8.elementsEqual(nfc.utf8) ? text : out
    }

    func redactNFC(_ text: String) -> String {
        var out = text
        // Cheap pre-checks keep the regular expressions off strings that cannot match (most of an export).
        if text.utf8.contains(UInt8(ascii: "@")) { for (r, placeholder) in Redactor.textual { out = replace(r, in: out, with: placeholder) } }
        if !configured.isEmpty {
            let lower = out.lowercased()
            for (r, placeholder, hint) in configured where hint.map(lower.contains) ?? true { out = replace(r, in: out, with: placeholder) }
        }
        var digits = 0
        for b in out.utf8 where b >= 48 && b <= 57 { digits += 1 }
        if digits < 9 { return out }  // every digit pattern needs at least 9 digits
        // Digit patterns run on the pieces between hashes and UUIDs only.
        let ns = out as NSString
        var pieces: [String] = []
        var cursor = 0
        for m in Redactor.protected.matches(in: out, range: NSRange(location: 0, length: ns.length)) {
            pieces.append(numeric(ns.substring(with: NSRange(location: cursor, length: m.range.location - cursor))))
            pieces.append(ns.substring(with: m.range))
            cursor = m.range.location + m.range.length
        }
        pieces.append(numeric(ns.substring(from: cursor)))
        return pieces.joined()
    }

    func numeric(_ s: String) -> String {
        var out = s
        for (r, placeholder) in Redactor.numeric { out = replace(r, in: out, with: placeholder) }
        return out
    }

    func replace(_ r: NSRegularExpression, in s: String, with placeholder: String) -> String {
        r.stringByReplacingMatches(
            in: s, range: NSRange(location: 0, length: (s as NSString).length), withTemplate: NSRegularExpression.escapedTemplate(for: placeholder))
    }

    /// True when the text (or its percent-decoded form) holds personal data.
    public func containsPersonalData(_ text: String) -> Bool { redact(text) != text }

    /// A path with every segment that holds personal data (checked percent-decoded) replaced by a stable pseudonym
    /// `redacted-<16 hex>` (salted, so distinct files stay distinct), keeping a clean file extension. The leading `/`,
    /// a trailing `/` and clean segments are kept as they are.
    public func redactPath(_ path: String) -> String {
        let segments = path.slashSeparated(omittingEmpty: false).map { seg -> String in
            let s = String(seg)
            guard !s.isEmpty, containsPersonalData(s) else { return s }  // (redact checks the percent-decoded form too)
            let token = "redacted-" + String(ObjectID.hash(Array((salt + "\u{0}path\u{0}" + s).utf8)).hex.prefix(16))
            if let dot = s.lastIndex(of: "."), dot != s.startIndex {
                let ext = s[s.index(after: dot)...]
                if (1...8).contains(ext.count), ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) { return token + "." + ext }
            }
            return token
        }
        return segments.joined(separator: "/")
    }

    /// A URL or IRI whose path segments are redacted like `redactPath` (the scheme and host are kept).
    public func redactURL(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return redactPath(url) }
        let afterScheme = url[schemeEnd.upperBound...]
        let slash = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        return String(url[..<slash]) + redactPath(String(url[slash...]))
    }

    /// Every string in a JSON value (objects, arrays, strings) redacted; keys and numbers are kept.
    public func scrub(_ value: Any) -> Any {
        switch value {
        case let s as String: return redact(s)
        case let a as [Any]: return a.map(scrub)
        case let d as [String: Any]: return d.mapValues(scrub)
        default: return value
        }
    }

    /// JSON bytes with every string redacted (bytes that are not JSON are redacted as text).
    public func scrubJSON(_ data: Data, pretty: Bool = false) -> Data {
        guard let v = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return Data(redact(String(decoding: data, as: UTF8.self)).utf8)
        }
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
        if pretty { options.insert(.prettyPrinted) }
        return (try? JSONSerialization.data(withJSONObject: scrub(v), options: options)) ?? Data("null".utf8)
    }

    /// A stable pseudonym for a person (salted SHA-256), as an opaque IRI.
    public func pseudonym(_ person: String) -> String {
        "urn:strata:person:" + String(ObjectID.hash(Array((salt + "\u{0}" + person.lowercased()).utf8)).hex.prefix(24))
    }
}

extension Redactor {
    /// A run as it may be shown: paths pseudonymised, job, branch, command, parameters and error redacted,
    /// environment values dropped (they stay in the store for `reproduce`).
    public func redacted(_ r: RunRecord) -> RunRecord {
        var o = r
        o.job = redact(r.job)
        o.branch = r.branch.map(redact)
        o.command = r.command.map(redact)
        o.error = r.error.map(redact)
        o.workingDirectory = r.workingDirectory.map(redactPath)
        o.params = r.params.map { p in Dictionary(p.map { (redact($0.key), redact($0.value)) }) { a, _ in a } }
        o.environment = nil
        o.inputs = r.inputs.map(redacted)
        o.outputs = r.outputs.map(redacted)
        return o
    }

    /// A dataset reference as it may be shown: path pseudonymised, columns and location redacted.
    public func redacted(_ d: DatasetRef) -> DatasetRef {
        var o = d
        o.path = redactPath(d.path)
        o.columns = d.columns?.map(redact)
        o.location = d.location.map(redactURL)
        return o
    }
}

/// How a config value that holds several entries is split. Line breaks are Characters here, so "\r\n" (one
/// Character, equal to neither "\r" nor "\n") must separate entries too: split at "\n" alone, a names list with
/// Windows line endings stays one long "name" that matches nothing, and every name in it goes unredacted.
enum ConfigList {
    /// Entries separated by commas or line breaks, trimmed, without empty ones (names, keywords, themes).
    static func items(_ value: String) -> [String] {
        value.split(whereSeparator: { $0 == "," || $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// One entry per line, as written (regular expressions, which may contain commas and spaces).
    static func lines(_ value: String) -> [String] {
        value.textLines(omittingEmpty: true).map(String.init)
    }
}
