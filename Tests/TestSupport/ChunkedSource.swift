/// A byte source over a string, fed in pieces of `split` bytes, so a parser sees every record boundary cut somewhere
/// (the shape of StrataTables' `ByteSource`).
public func chunkedSource(_ text: String, split: Int) -> ((UnsafeRawBufferPointer) throws -> Void) throws -> Void {
    { sink in
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + split)
            try bytes[i..<end].withUnsafeBytes { try sink($0) }
            i = end
        }
    }
}
