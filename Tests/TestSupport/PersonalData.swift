/// Generators of personal data for the privacy property tests: South African ID numbers with valid checksums,
/// phone numbers in every common South African form, e-mail addresses and names from a list.
public enum PersonalData {
    /// Names a test configures as `lineage.redact-names`.
    public static let names = ["Thabo Nkosi", "Naledi Dlamini", "Pieter van der Merwe", "Lerato Mokoena", "Sipho", "Anneke"]

    /// A 13-digit South African ID number (YYMMDD SSSS C A Z) with a valid Luhn check digit.
    public static func idNumber<R: RandomNumberGenerator>(_ g: inout R) -> String {
        let yy = Int.random(in: 0...99, using: &g), mm = Int.random(in: 1...12, using: &g), dd = Int.random(in: 1...28, using: &g)
        var digits = String(format2(yy) + format2(mm) + format2(dd)).map { Int(String($0))! }
        for _ in 0..<4 { digits.append(Int.random(in: 0...9, using: &g)) }
        digits.append(Int.random(in: 0...1, using: &g))
        digits.append(8)
        digits.append(luhnCheckDigit(digits))
        return digits.map(String.init).joined()
    }

    /// The Luhn check digit for `digits`.
    public static func luhnCheckDigit(_ digits: [Int]) -> Int {
        var sum = 0
        for (i, d) in digits.reversed().enumerated() {
            var v = d
            if i % 2 == 0 { v *= 2; if v > 9 { v -= 9 } }
            sum += v
        }
        return (10 - sum % 10) % 10
    }

    /// A phone number in one of the common South African forms (`form` 0…5, else random).
    public static func phone<R: RandomNumberGenerator>(_ g: inout R, form: Int? = nil) -> String {
        let area = [21, 11, 31, 82, 83, 72, 61][Int.random(in: 0..<7, using: &g)]
        let a = Int.random(in: 100...999, using: &g), b = Int.random(in: 0...9999, using: &g)
        let four = String(repeating: "0", count: 4 - String(b).count) + String(b)
        switch form ?? Int.random(in: 0...5, using: &g) {
        case 0: return "0\(area) \(a) \(four)"
        case 1: return "+27 \(area) \(a) \(four)"
        case 2: return "+27 (0)\(area) \(a) \(four)"
        case 3: return "(0\(area)) \(a)-\(four)"
        case 4: return "0\(area)\(a)\(four)"
        default: return "0\(area)-\(a)-\(four)"
        }
    }

    /// An e-mail address.
    public static func email<R: RandomNumberGenerator>(_ g: inout R) -> String {
        let first = ["thabo", "naledi", "pieter", "lerato", "zanele"][Int.random(in: 0..<5, using: &g)]
        return "\(first).\(Int.random(in: 1...999, using: &g))@example.co.za"
    }

    static func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
