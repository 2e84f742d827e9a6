/// SplitMix64: a small, seeded, reproducible generator for property tests and generated test data, shared by the
/// test targets so that a printed seed reproduces the same run everywhere.
public struct SplitMix: RandomNumberGenerator, Sendable {
    /// The generator's state.
    public var state: UInt64
    /// Starts from a seed.
    public init(seed: UInt64) { state = seed }
    /// Starts from a raw state (the same as a seed).
    public init(state: UInt64) { self.state = state }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
