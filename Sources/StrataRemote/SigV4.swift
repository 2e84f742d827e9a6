import COpenSSL
import StrataModel

/// AWS credentials, as the AWS CLI and SDKs read them. `description` never shows the secret or the token.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    /// `AWS_ACCESS_KEY_ID`.
    public var accessKeyID: String
    /// `AWS_SECRET_ACCESS_KEY`.
    public var secretAccessKey: String
    /// `AWS_SESSION_TOKEN` (temporary credentials), sent as `x-amz-security-token`.
    public var sessionToken: String?

    /// Credentials from values.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID; self.secretAccessKey = secretAccessKey; self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret ***\(sessionToken == nil ? "" : ", session token ***"))" }
}

/// AWS Signature Version 4 for S3 requests (`AWS4-HMAC-SHA256`), with HMAC-SHA256 from libcrypto.
///
/// Canonical request: method, the path with each segment URI-encoded once (S3 does not double-encode), the query
/// with keys and values URI-encoded and sorted, the headers lower-cased, trimmed, inner runs of spaces folded and
/// repeated names joined with commas, the signed header names, and the payload's SHA-256 (which S3 also checks
/// through `x-amz-content-sha256`, so a corrupted upload is rejected). Checked against the AWS test suite vectors.
public struct SigV4: Sendable {
    /// Region (`us-east-1`).
    public var region: String
    /// Service (`s3`).
    public var service: String

    /// A signer for a region and service.
    public init(region: String, service: String = "s3") { self.region = region; self.service = service }

    /// RFC 3986 percent-encoding of everything but the unreserved characters (`A–Z a–z 0–9 - _ . ~`).
    public static func uriEncode(_ s: String, keepSlash: Bool = false) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(b))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// The canonical query string of a raw query (`b=2&a=1` → `a=1&b=2`), for an unencoded query.
    public static func canonicalQuery(_ items: [(String, String)]) -> String {
        items.map { (uriEncode($0.0), uriEncode($0.1)) }
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Canonical headers and the signed header list.
    public static func canonicalHeaders(_ headers: [(String, String)]) -> (text: String, signed: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let folded = value.trimmingSpaces.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[name.lowercased(), default: []].append(folded)
        }
        let names = merged.keys.sorted()
        return (names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined(), names.joined(separator: ";"))
    }

    /// The canonical request and the signed header list.
    public static func canonicalRequest(
        method: String, path: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String
    ) -> (request: String, signedHeaders: String) {
        let (h, signed) = canonicalHeaders(headers)
        let uri = path.isEmpty ? "/" : uriEncode(path, keepSlash: true)
        return ([method, uri, canonicalQuery(query), h, signed, payloadHash].joined(separator: "\n"), signed)
    }

    /// The string to sign for a canonical request at `amzDate` (`20150830T123600Z`).
    public func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        ["AWS4-HMAC-SHA256", amzDate, scope(amzDate), ObjectID.hash(Array(canonicalRequest.utf8)).hex].joined(separator: "\n")
    }

    func scope(_ amzDate: String) -> String { "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request" }

    /// The `Authorization` header value for a request whose headers already include `host` and `x-amz-date` (and
    /// `x-amz-content-sha256` and `x-amz-security-token` where used).
    public func authorization(
        method: String, path: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, amzDate: String, credentials: AWSCredentials
    ) -> String {
        let (creq, signed) = SigV4.canonicalRequest(method: method, path: path, query: query, headers: headers, payloadHash: payloadHash)
        let sts = stringToSign(canonicalRequest: creq, amzDate: amzDate)
        var key = SigV4.hmac(Array(("AWS4" + credentials.secretAccessKey).utf8), Array(amzDate.prefix(8).utf8))
        for part in [region, service, "aws4_request"] { key = SigV4.hmac(key, Array(part.utf8)) }
        let signature = SigV4.hmac(key, Array(sts.utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(amzDate)), SignedHeaders=\(signed), Signature=\(signature)"
    }

    /// HMAC-SHA256.
    public static func hmac(_ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 32
        _ = key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                HMAC(EVP_sha256(), k.baseAddress, Int32(key.count), d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count, &out, &len)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
