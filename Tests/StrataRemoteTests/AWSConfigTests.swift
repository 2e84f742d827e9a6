import Foundation
import StrataPlatform
import Testing
import StrataRemote

@Suite("AWS settings") struct AWSConfigTests {
    /// The profile files are read as the AWS CLI reads them, whatever their line endings: "\r\n" is one Swift
    /// Character, so a file written on Windows used to be one line, and its profile was never found.
    @Test(arguments: ["\n", "\r\n", "\r"]) func profilesReadWithAnyLineEnding(_ eol: String) throws {
        let home = NSTemporaryDirectory() + "aws-\(Posix.randomHex(6))"
        defer { try? FileManager.default.removeItem(atPath: home) }
        try Posix.makeDirectories(home + "/.aws")
        let credentials = [
            "# keys", "[default]", "aws_access_key_id = AKIDEXAMPLE", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "", "[other]", "aws_access_key_id = B",
        ]
        try Posix.writeAtomically(home + "/.aws/credentials", Array(credentials.joined(separator: eol).utf8))
        try Posix.writeAtomically(home + "/.aws/config", Array(["[default]", "region = af-south-1", ""].joined(separator: eol).utf8))
        let c = AWSConfig(environment: ["HOME": home])
        #expect(c.credentials?.accessKeyID == "AKIDEXAMPLE")
        #expect(c.credentials?.secretAccessKey == "wJalrXUtnFEMI/K7MDENG")
        #expect(c.region == "af-south-1")
    }
}
