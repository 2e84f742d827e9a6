import Foundation
import StrataTestSupport
import Testing

@Suite("The tests' own harness") struct HarnessTests {
    /// A child that outlives its limit is killed and reported, so a hang fails one test instead of holding the suite;
    /// one that ends in time is left alone.
    @Test func watchdogEndsAChildThatHangs() throws {
        let hung = Process()
        hung.executableURL = URL(fileURLWithPath: "/bin/sleep")
        hung.arguments = ["600"]
        try hung.run()
        #expect(hung.waitUntilExit(within: 1) == false)
        #expect(hung.terminationReason == .uncaughtSignal, "\(hung.terminationReason.rawValue) \(hung.terminationStatus)")
        let quick = Process()
        quick.executableURL = URL(fileURLWithPath: "/bin/true")
        try quick.run()
        #expect(quick.waitUntilExit(within: 60))
        #expect(quick.terminationStatus == 0)
        let (status, out) = try python(["-c", "import time; print('started', flush=True); time.sleep(600)"], timeout: 1)
        #expect(status != 0 && out.contains("started") && out.contains("killed by the tests' watchdog"), "\(status) \(out)")
    }

    /// A disarmed watchdog lets go of its process at once, and with it the process's pipes: a watchdog that held them
    /// until its deadline left thousands of pipes open in the test process, and Foundation's Process.run crashed
    /// reading /proc/self/fd.
    @Test func disarmedWatchdogHoldsNothing() throws {
        weak var gone: Process?
        do {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/true")
            p.standardOutput = Pipe()
            try p.run()
            #expect(p.waitUntilExit(within: 60))
            gone = p
        }
        for _ in 0..<50 where gone != nil { usleep(100_000) }
        #expect(gone == nil, "the finished process is still held")
    }
}
