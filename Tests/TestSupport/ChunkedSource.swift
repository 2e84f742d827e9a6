/// A byte source over a string, fed in pieces of `split` bytes, so a parser sees every record boundary cut somewhere
/// (the shape of StrataTables' `ByteSource`).
public func chunkedSource(_ text: String, split: Int) -> ((UnsafeRawBufferPointer) throws -> Void) throws -> Void {
    chunkedSource(Array(text.utf8), split: split)
}

/// A byte source over bytes (which need not be UTF-8), fed in pieces of `split` bytes.
public func chunkedSource(_ bytes: [UInt8], split: Int) -> ((UnsafeRawBufferPointer) throws -> Void) throws -> Void {
    { sink in
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + split)
            try bytes[i..<end].withUnsafeBytes { try sink($0) }
            i = end
        }
    }
}
