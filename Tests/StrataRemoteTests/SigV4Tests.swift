import Testing
@testable import StrataRemote

/// AWS Signature Version 4, checked against vectors of the AWS SigV4 test suite (credentials AKIDEXAMPLE, region
/// us-east-1, service "service", 2015-08-30T12:36:00Z).
@Suite("SigV4") struct SigV4Tests {
    let signer = SigV4(region: "us-east-1", service: "service")
    let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    let date = "20150830T123600Z"
    let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    struct Vector {
        var name: String
        var method = "GET"
        var path = "/"
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var payloadHash: String? = nil
        var canonical: String
        var signature: String
    }

    var vectors: [Vector] {
        let base = [("Host", "example.amazonaws.com"), ("X-Amz-Date", date)]
        return [
            Vector(
                name: "get-vanilla", headers: base,
                canonical: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
            Vector(
                name: "get-header-key-duplicate",
                headers: [base[0], ("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1"), base[1]],
                canonical:
                    "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(emptyHash)",
                signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
            Vector(
                name: "get-header-value-order",
                headers: [base[0], ("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2"), base[1]],
                canonical:
                    "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(emptyHash)",
                signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
            Vector(
                name: "get-header-value-trim",
                headers: [base[0], ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\""), base[1]],
                canonical:
                    "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n\(emptyHash)",
                signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
            Vector(
                name: "get-unreserved", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", headers: base,
                canonical:
                    "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
            Vector(
                name: "get-vanilla-empty-query-key", query: [("Param1", "value1")], headers: base,
                canonical: "GET\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
            Vector(
                name: "get-vanilla-query-order-key", query: [("Param1", "value2"), ("Param1", "Value1")], headers: base,
                canonical: "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
            Vector(
                name: "get-vanilla-query-order-key-case", query: [("Param2", "value2"), ("Param1", "value1")], headers: base,
                canonical: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
            Vector(
                name: "post-vanilla", method: "POST", headers: base,
                canonical: "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
            Vector(
                name: "post-vanilla-query", method: "POST", query: [("Param1", "value1")], headers: base,
                canonical: "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
            Vector(
                name: "post-x-www-form-urlencoded", method: "POST",
                headers: [("Content-Type", "application/x-www-form-urlencoded")] + base,
                payloadHash: "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                canonical:
                    "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
            Vector(
                name: "post-x-www-form-urlencoded, signed body", method: "POST",
                headers: [
                    ("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", "13"),
                    ("X-Amz-Content-Sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"),
                ] + base,
                payloadHash: "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                canonical:
                    "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\nx-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"),
        ]
    }

    @Test func suiteVectors() {
        for v in vectors {
            let hash = v.payloadHash ?? emptyHash
            let (creq, signed) = SigV4.canonicalRequest(method: v.method, path: v.path, query: v.query, headers: v.headers, payloadHash: hash)
            #expect(creq == v.canonical, "\(v.name): canonical request")
            let auth = signer.authorization(
                method: v.method, path: v.path, query: v.query, headers: v.headers, payloadHash: hash,
                amzDate: date, credentials: credentials)
            #expect(
                auth == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(signed), Signature=\(v.signature)",
                "\(v.name): authorization")
        }
    }

    @Test func stringToSignOfVanilla() {
        let (creq, _) = SigV4.canonicalRequest(
            method: "GET", path: "/", query: [], headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", date)],
            payloadHash: emptyHash)
        #expect(
            signer.stringToSign(canonicalRequest: creq, amzDate: date)
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        )
    }

    @Test func s3PathsAreEncodedOnceAndSecretsNeverPrinted() {
        #expect(SigV4.uriEncode("packs/a b+c.pack", keepSlash: true) == "packs/a%20b%2Bc.pack")
        #expect(SigV4.uriEncode("é") == "%C3%A9")
        let c = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t", sessionToken: "tok3n")
        #expect(!"\(c)".contains("s3cr3t") && !"\(c)".contains("tok3n"))
    }
}
