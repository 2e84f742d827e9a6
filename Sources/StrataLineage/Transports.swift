import CStrataKafka
import CZlib
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StrataModel
import StrataPlatform

/// Why an event could not be delivered (never containing the API key).
public struct DeliveryError: StrataError {
    /// What went wrong.
    public let message: String
    public var code: String { "lineage.delivery-failed" }
    public var category: ErrorCategory { .lineage }
    public var nextStep: String? { "the events wait in the store; 'strata lineage flush' sends them" }
}

/// Delivers serialised events to the configured destinations.
enum Delivery {
    /// Sends one event (JSON bytes) to one destination.
    static func send(_ event: Data, runID: String, to t: LineageConfig.Transport) throws {
        switch t {
        case .runFiles(let dir):
            try Posix.makeDirectories(dir)
            try append(event, to: dir + "/" + runID + ".jsonl")
        case .file(let path, let appendMode):
            // The client's file transport: one file, appended to; or one file per event, named by the time.
            try Posix.makeDirectories(Posix.dirname(path))
            if appendMode {
                try append(event, to: path)
            } else {
                let f = DateFormatter()
                f.locale = Locale(identifier: "en_US_POSIX"); f.dateFormat = "yyyyMMdd-HHmmss.SSSSSS"
                let stamp: String = f.string(from: Date())
                var name: String = path + "-" + stamp + ".json"
                var n = 2
                while FileManager.default.fileExists(atPath: name) { name = path + "-" + stamp + "-\(n).json"; n += 1 }
                var bytes = [UInt8](event)
                bytes.append(10)
                try Posix.writeAtomically(name, bytes)
            }
        case .console:
            FileHandle.standardError.write(event + Data("\n".utf8))
        case .noop:
            return
        case .http(let url, let endpoint, let key, let timeout, let retries, let gzip):
            try post(event, url: url, endpoint: endpoint, apiKey: key, timeout: timeout, retries: retries, gzip: gzip)
        case .kafka(let k):
            try produce(event, to: k)
        case .composite(let members, let continueOnFailure):
            var failures: [String] = []
            for m in members {
                do { try send(event, runID: runID, to: m) } catch {
                    failures.append((error as? DeliveryError)?.message ?? "\(error)")
                    if !continueOnFailure { break }
                }
            }
            if !failures.isEmpty { throw DeliveryError(message: failures.joined(separator: "; ")) }
        }
    }

    static func append(_ event: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw DeliveryError(message: "cannot write \(path)") }
        defer { close(fd) }
        try Posix.writeAll(fd, Array(event) + [10], path: path)
    }

    /// The librdkafka to load: `STRATA_LIBRDKAFKA`, else the system's `librdkafka.so.1`.
    static var kafkaLibrary: String? { ProcessInfo.processInfo.environment["STRATA_LIBRDKAFKA"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The client's default message key: `run:{parent job}` when the event has a parent (its root when given), else
    /// `run:{job}`, so that a run hierarchy stays on one partition, in order.
    static func messageKey(_ event: Data) -> String {
        guard let e = try? JSONSerialization.jsonObject(with: event) as? [String: Any] else { return "" }
        let facets = (e["run"] as? [String: Any])?["facets"] as? [String: Any]
        let parent = facets?["parent"] as? [String: Any]
        let job = ((parent?["root"] as? [String: Any])?["job"] ?? parent?["job"] ?? e["job"]) as? [String: Any]
        return "run:\(job?["namespace"] as? String ?? "")/\(job?["name"] as? String ?? "")"
    }

    /// Produces one event through librdkafka (dlopen'ed on first use; Strata runs without it).
    static func produce(_ event: Data, to k: LineageConfig.KafkaSettings) throws {
        let props = k.properties.sorted { $0.key < $1.key }
        let key = k.messageKey ?? messageKey(event)
        var err = [CChar](repeating: 0, count: 1024)
        let timeout = Int32(Int(k.properties["message.timeout.ms"] ?? "") ?? 5000)
        let rc = withCStrings(props.map(\.key)) { keys in
            withCStrings(props.map(\.value)) { values in
                event.withUnsafeBytes { body in
                    strata_kafka_produce(
                        kafkaLibrary, keys, values, Int32(props.count), k.topic, key, key.utf8.count,
                        body.baseAddress?.assumingMemoryBound(to: CChar.self), body.count, k.flush ? 1 : 0, timeout, &err, err.count)
                }
            }
        }
        if rc != 0 {
            let message = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if rc == -1 {
                throw DeliveryError(
                    message: message
                        + "; install librdkafka 2.x (apt install librdkafka1), or set STRATA_LIBRDKAFKA to a librdkafka.so such as the one in the confluent-kafka wheel (docs/reference/lineage.md)"
                )
            }
            throw DeliveryError(message: message)
        }
    }

    /// Runs `body` with a C array of C strings (valid only during the call).
    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { for c in copies { free(c) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress ?? UnsafePointer(bitPattern: 1)!) }
    }

    static func post(_ body: Data, url: String, endpoint: String, apiKey: String?, timeout: Double, retries: Int, gzip: Bool) throws {
        let base = url.hasSuffix("/") ? url : url + "/"
        let ep = endpoint.hasPrefix("/") ? String(endpoint.dropFirst()) : endpoint
        guard let target = URL(string: base + ep) else { throw DeliveryError(message: "OPENLINEAGE_URL '\(URLRedaction.redact(url))' is not a URL") }
        var request = URLRequest(url: target, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let apiKey, !apiKey.isEmpty { request.setValue("Bearer " + apiKey, forHTTPHeaderField: "Authorization") }
        if gzip, let z = gzipped(body) {
            request.httpBody = z; request.setValue("gzip", forHTTPHeaderField: "Content-Encoding")
        } else {
            request.httpBody = body
        }
        var lastError = ""
        for attempt in 0...max(0, retries) {
            if attempt > 0 { usleep(UInt32(min(2.0, 0.3 * pow(2.0, Double(attempt - 1))) * 1_000_000)) }
            let (status, error) = perform(request, timeout: timeout)
            if let status, (200..<300).contains(status) { return }
            if let status {
                lastError = "HTTP \(status) from \(target.host ?? "the lineage backend")"
                if ![429, 500, 502, 503, 504].contains(status) { break }
            } else {
                lastError = "\(target.host ?? "the lineage backend") did not answer (\(error ?? "no response"))"
                if attempt >= 2 { break }  // unreachable: queue rather than hold the command up
            }
        }
        throw DeliveryError(message: lastError)
    }

    static func perform(_ request: URLRequest, timeout: Double) -> (Int?, String?) {
        let box = ResponseBox()
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: config)
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { _, response, error in
            box.set((response as? HTTPURLResponse)?.statusCode, error.map { ($0 as NSError).localizedDescription })
            done.signal()
        }.resume()
        if done.wait(timeout: .now() + timeout + 1) == .timedOut { session.invalidateAndCancel(); return (nil, "timed out") }
        session.finishTasksAndInvalidate()
        return box.get
    }

    /// gzip (level 3) through zlib.
    static func gzipped(_ data: Data) -> Data? {
        var stream = z_stream()
        guard deflateInit2_(&stream, 3, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return nil
        }
        defer { deflateEnd(&stream) }
        var input = [UInt8](data)
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        let r: Int32 = input.withUnsafeMutableBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                stream.next_in = inp.baseAddress; stream.avail_in = uInt(inp.count)
                stream.next_out = o.baseAddress; stream.avail_out = uInt(o.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard r == Z_STREAM_END else { return nil }
        return Data(out[0..<Int(stream.total_out)])
    }
}

/// The answer of one HTTP attempt; `lock` guards `value`.
final class ResponseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Int?, String?) = (nil, nil)
    func set(_ s: Int?, _ e: String?) { lock.lock(); value = (s, e); lock.unlock() }
    var get: (Int?, String?) { lock.lock(); defer { lock.unlock() }; return value }
}
