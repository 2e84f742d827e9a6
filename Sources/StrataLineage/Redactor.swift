import Foundation
import StrataModel

/// Keeps personal data out of lineage: pseudonymises people and redacts e-mail addresses, phone numbers,
/// South African ID numbers and configured patterns from every literal (POPIA).
public struct Redactor: Sendable {
    /// The store's secret salt for pseudonyms.
    public let salt: String
    /// Extra regular expressions to redact (config `lineage.redact`, separated by newlines).
    public let patterns: [String]

    static let builtIn: [(String, String)] = [
        (#"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#, "[email]"),
        // South African ID number: YYMMDD SSSS C A Z (13 digits), not part of a longer number.
        (#"(?<![0-9])[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{7}(?![0-9])"#, "[id-number]"),
        // Phone numbers: +27 / 0 followed by 9 digits, with optional spaces or dashes; other international numbers.
        (#"(?<![0-9])(\+27|0027|0)[ -]?\(?[0-9]{2}\)?[ -]?[0-9]{3}[ -]?[0-9]{4}(?![0-9])"#, "[phone]"),
        (#"\+[1-9][0-9]{0,2}[ -]?[0-9]{2,4}[ -]?[0-9]{3,4}[ -]?[0-9]{3,4}(?![0-9])"#, "[phone]"),
    ]

    /// Creates a redactor.
    public init(salt: String, patterns: [String] = []) { self.salt = salt; self.patterns = patterns }

    /// The text with personal data replaced by placeholders.
    public func redact(_ text: String) -> String {
        var out = text
        for (p, r) in Redactor.builtIn { out = out.replacingOccurrences(of: p, with: r, options: .regularExpression) }
        for p in patterns where !p.isEmpty { out = out.replacingOccurrences(of: p, with: "[redacted]", options: .regularExpression) }
        return out
    }

    /// A stable pseudonym for a person (salted SHA-256), as an opaque IRI.
    public func pseudonym(_ person: String) -> String {
        "urn:strata:person:" + String(ObjectID.hash(Array((salt + "\u{0}" + person.lowercased()).utf8)).hex.prefix(24))
    }
}
