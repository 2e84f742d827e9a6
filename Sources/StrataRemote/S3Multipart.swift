import Foundation
import StrataModel
import StrataPlatform

extension S3Backend {
    /// Part size of a multipart upload (S3's minimum for every part but the last).
    public static let partSize = 8 << 20

    /// Uploads the file at `path` as a multipart upload (CreateMultipartUpload, UploadPart per 8 MiB read from the
    /// file, CompleteMultipartUpload with `If-None-Match: *`), so that a large pack never sits in memory whole and a
    /// dropped connection costs one part. An upload that fails is aborted.
    func multipartCreate(_ key: String, path: String, size: Int64) throws -> PutOutcome {
        let objectPath = try objectPath(key)
        // An explicit type: URLSession would otherwise call an empty POST a form, which servers (moto) choke on.
        let start = try send("POST", path: objectPath, query: [("uploads", "")], headers: [("Content-Type", "application/octet-stream")], key: key)
        guard start.status == 200, let uploadID = S3Backend.tagValues("UploadId", in: String(decoding: start.body, as: UTF8.self)).first else {
            throw RemoteError.unexpected(remote: displayName, key: key, status: start.status, code: S3Backend.errorCode(start.body))
        }
        func abort() { _ = try? send("DELETE", path: objectPath, query: [("uploadId", uploadID)], key: key) }
        do {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw RemoteError.storage(remote: displayName, key: key, cause: PosixError("open", path)) }
            defer { close(fd) }
            var etags: [String] = []
            var offset: Int64 = 0
            var part = 1
            while offset < size || part == 1 {
                let n = Int(min(Int64(S3Backend.partSize), size - offset))
                var buf = [UInt8](repeating: 0, count: n)
                let got = try buf.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: offset, path: path) }
                guard got == n else { throw RemoteError.storage(remote: displayName, key: key, cause: PosixError("read", path, code: EIO)) }
                let r = try send("PUT", path: objectPath, query: [("partNumber", String(part)), ("uploadId", uploadID)], body: buf, key: key)
                guard r.status == 200 else { throw RemoteError.unexpected(remote: displayName, key: key, status: r.status, code: S3Backend.errorCode(r.body)) }
                etags.append(etag(r))
                offset += Int64(n); part += 1
                if n == 0 { break }
            }
            var xml = "<CompleteMultipartUpload>"
            for (i, e) in etags.enumerated() { xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\"\(e)\"</ETag></Part>" }
            xml += "</CompleteMultipartUpload>"
            let done = try send(
                "POST", path: objectPath, query: [("uploadId", uploadID)], headers: [("If-None-Match", "*"), ("Content-Type", "application/xml")],
                body: Array(xml.utf8), key: key)
            // S3 may answer 200 with an <Error> document when completing fails late.
            let code = S3Backend.errorCode(done.body)
            switch done.status {
            case 200 where code.isEmpty:
                return .written(
                    etag: etag(done).isEmpty ? (S3Backend.tagValues("ETag", in: String(decoding: done.body, as: UTF8.self)).first ?? "") : etag(done))
            case 412, 409: abort(); return .conditionFailed
            default: throw RemoteError.unexpected(remote: displayName, key: key, status: done.status, code: code)
            }
        } catch {
            abort()
            throw error
        }
    }
}
