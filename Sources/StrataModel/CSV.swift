/// An RFC 4180 CSV reader: fields separated by commas, records by CRLF or LF, fields optionally quoted with `"`,
/// quotes inside quoted fields doubled (`""`), and commas and line breaks allowed inside quotes. It reads from the
/// bytes it is given and stops at the last complete record, so a prefix of a large file (the first 64 KiB) yields
/// its header and first rows without the whole file ever being loaded.
public enum CSV {
    /// The complete records found in `bytes`, at most `limit`. A record cut off by the end of `bytes` is left out
    /// unless `atEnd` says the bytes are the whole file. Invalid UTF-8 is repaired (U+FFFD).
    public static func records(in bytes: some Collection<UInt8>, limit: Int = .max, atEnd: Bool = false) -> [[String]] {
        var out: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var quoted = false, wasQuoted = false
        var it = bytes.makeIterator()
        var pending: UInt8? = nil
        func next() -> UInt8? {
            if let p = pending { pending = nil; return p }
            return it.next()
        }
        func endField() {
            record.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true); wasQuoted = false
        }
        while out.count < limit, let c = next() {
            if quoted {
                if c == UInt8(ascii: "\"") {
                    if let d = next() {
                        if d == UInt8(ascii: "\"") { field.append(d) } else { quoted = false; pending = d }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case UInt8(ascii: "\""):
                if field.isEmpty && !wasQuoted { quoted = true; wasQuoted = true } else { field.append(c) }
            case UInt8(ascii: ","):
                endField()
            case UInt8(ascii: "\r"):
                if let d = next(), d != UInt8(ascii: "\n") { pending = d }
                endField(); out.append(record); record = []
            case UInt8(ascii: "\n"):
                endField(); out.append(record); record = []
            default:
                field.append(c)
            }
        }
        if atEnd && out.count < limit && !quoted && (!field.isEmpty || !record.isEmpty || wasQuoted) {
            endField(); out.append(record)
        }
        return out
    }
}
