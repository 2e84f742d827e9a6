import Foundation
import StrataModel
import StrataPlatform

/// An evaluated manifest and how it was obtained.
public struct LoadedPipeline: Sendable {
    /// The description.
    public var spec: PipelineSpec
    /// True when it came from the cache (nothing was compiled).
    public var cached: Bool
    /// Warnings for the user (e.g. no sandbox available).
    public var warnings: [String]
    /// SHA-256 of the manifest bytes.
    public var manifestHash: ObjectID
}

/// Evaluates `Pipeline.swift` the way SwiftPM evaluates `Package.swift`: compiled against the
/// `PipelineDescription` module, run as a sandboxed subprocess that writes versioned JSON, decoded here, and cached
/// by SHA-256 of (manifest, DSL, compiler, flags) so a warm run compiles nothing.
public struct ManifestLoader: Sendable {
    /// Workspace root.
    public let root: String
    /// Cache folder (`.strata/cache/manifests`).
    public let cacheDir: String
    /// Compile time limit.
    public var compileTimeout: Double = 120
    /// Run time limit.
    public var runTimeout: Double = 30

    /// Creates a loader for a workspace.
    public init(root: String, storePath: String) {
        self.root = root
        cacheDir = storePath + "/cache/manifests"
    }

    /// The manifest's path.
    public var manifestPath: String { root + "/Pipeline.swift" }

    /// True when the workspace has a manifest.
    public var exists: Bool { (try? Posix.lstat(manifestPath)) != nil }

    static let flags = ["-Onone", "-swift-version", "6"]

    /// Where the prebuilt DSL module lives: `STRATA_DSL_DIR`, next to the executable (build folder), or `../lib/strata`.
    static func moduleDirectory() -> String? {
        var candidates: [String] = []
        if let d = ProcessInfo.processInfo.environment["STRATA_DSL_DIR"] { candidates.append(d) }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let real = Posix.realpath("/proc/self/exe").map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        for base in [real, exe].compactMap({ $0 }) { candidates += [base, base + "/../lib/strata"] }
        for c in candidates {
            let lib = c + "/libPipelineDescription.so"
            let mod1 = c + "/Modules/PipelineDescription.swiftmodule", mod2 = c + "/PipelineDescription.swiftmodule"
            if FileManager.default.fileExists(atPath: lib) && (FileManager.default.fileExists(atPath: mod1) || FileManager.default.fileExists(atPath: mod2)) {
                return c
            }
        }
        return nil
    }

    /// `swiftc --version`, cached per compiler binary (path, size, mtime).
    func compilerIdentity(_ swiftc: String) throws -> String {
        let st = try Posix.lstat(Posix.realpath(swiftc) ?? swiftc)
        let key = ObjectID.hash(Array("\(swiftc) \(st?.size ?? 0) \(st?.mtimeNs ?? 0)".utf8)).short
        let file = cacheDir + "/compiler-" + key
        if let b = try? Posix.readFile(file) { return String(decoding: b, as: UTF8.self) }
        let r = try StageExecutor.run(swiftc, ["--version"], environment: ["PATH": "/usr/bin:/bin"], directory: root, timeout: 30)
        let v = String(decoding: r.stdout + r.stderr, as: UTF8.self)
        try Posix.makeDirectories(cacheDir)
        try Posix.writeAtomically(file, Array(v.utf8))
        return v
    }

    /// Evaluates the manifest (or returns the cached description).
    public func load() throws -> LoadedPipeline {
        guard let manifest = try? Posix.readFile(manifestPath) else { throw PipelineError.noManifest(root) }
        let manifestHash = ObjectID.hash(manifest)
        guard let swiftc = StageExecutor.which("swiftc") else { throw PipelineError.noCompiler }
        let compiler = try compilerIdentity(swiftc)
        let moduleDir = ManifestLoader.moduleDirectory()
        let dslIdentity =
            moduleDir.map { dir -> String in
                let st = try? Posix.lstat(dir + "/libPipelineDescription.so")
                return "module \((st ?? nil)?.size ?? 0) \((st ?? nil)?.mtimeNs ?? 0)"
            } ?? "source \(ObjectID.hash(EmbeddedDSL.source).hex)"
        var keyBytes = manifest
        keyBytes += Array("\u{0}dsl:\(EmbeddedDSL.version) \(dslIdentity)\u{0}swiftc:\(compiler)\u{0}flags:\(ManifestLoader.flags)".utf8)
        let key = ObjectID.hash(keyBytes).hex
        let cacheFile = cacheDir + "/" + key + ".json"
        if let cached = try? Posix.readFile(cacheFile), let spec = try? decode(cached) {
            return LoadedPipeline(spec: spec, cached: true, warnings: [], manifestHash: manifestHash)
        }
        try Posix.makeDirectories(cacheDir)
        let work = cacheDir + "/build-" + Posix.randomHex(6)
        try Posix.makeDirectories(work)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var warnings: [String] = []
        let binary = work + "/manifest"
        var compiled = false
        if let dir = moduleDir {
            let modules = FileManager.default.fileExists(atPath: dir + "/Modules/PipelineDescription.swiftmodule") ? dir + "/Modules" : dir
            let r = try StageExecutor.run(
                swiftc,
                ManifestLoader.flags + [
                    "-I", modules, "-L", dir, "-lPipelineDescription",
                    "-Xlinker", "-rpath", "-Xlinker", dir, manifestPath, "-o", binary,
                ],
                environment: compileEnvironment(), directory: work, timeout: compileTimeout)
            if r.timedOut { throw PipelineError.timeout(seconds: Int(compileTimeout)) }
            let text = String(decoding: r.stderr + r.stdout, as: UTF8.self)
            if r.status == 0 {
                compiled = true
            } else if !text.contains("compiled with") && !text.contains("cannot load module") && !text.contains("no such module") {
                throw PipelineError.compileFailed(ManifestLoader.diagnostics(text))
            }
        }
        if !compiled {
            // The DSL source ships inside strata: compile it with the manifest, keeping the user's line numbers.
            let lines = String(decoding: manifest, as: UTF8.self).textLines().map { line in
                line.trimmingCharacters(in: .whitespaces) == "import PipelineDescription" ? "" : String(line)
            }
            let main =
                String(decoding: EmbeddedDSL.source, as: UTF8.self) + "\n#sourceLocation(file: \"\(manifestPath)\", line: 1)\n" + lines.joined(separator: "\n")
            try Posix.writeAtomically(work + "/main.swift", Array(main.utf8))
            let r = try StageExecutor.run(
                swiftc, ManifestLoader.flags + [work + "/main.swift", "-o", binary],
                environment: compileEnvironment(), directory: work, timeout: compileTimeout)
            if r.timedOut { throw PipelineError.timeout(seconds: Int(compileTimeout)) }
            if r.status != 0 {
                // The excerpts count lines of the combined file; shift them back to the manifest's own numbers.
                let offset = String(decoding: EmbeddedDSL.source, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).count + 1
                throw PipelineError.compileFailed(ManifestLoader.diagnostics(String(decoding: r.stderr + r.stdout, as: UTF8.self), lineOffset: offset))
            }
        }
        let out = work + "/description.json"
        let (exe, args, warning) = sandboxed(binary, ["--strata-dump", out], work: work, readable: [moduleDir, root].compactMap { $0 })
        if let warning { warnings.append(warning) }
        let r = try StageExecutor.run(exe, args, environment: ["PATH": "/usr/bin:/bin", "HOME": work], directory: root, timeout: runTimeout)
        if r.timedOut { throw PipelineError.timeout(seconds: Int(runTimeout)) }
        if r.status != 0 {
            throw PipelineError.evaluationFailed(
                "the manifest program exited with status \(r.status): \(String(decoding: r.stderr.suffix(2000), as: UTF8.self))")
        }
        guard let bytes = try? Posix.readFile(out) else {
            throw PipelineError.evaluationFailed("Pipeline.swift declares no Pipeline (write `let pipeline = Pipeline(name: …, stages: […])`)")
        }
        let spec = try decode(bytes)
        try Posix.writeAtomically(cacheFile, bytes)
        return LoadedPipeline(spec: spec, cached: false, warnings: warnings, manifestHash: manifestHash)
    }

    func compileEnvironment() -> [String: String] {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        if let home = ProcessInfo.processInfo.environment["HOME"] { env["HOME"] = home }
        return env
    }

    /// Wraps the manifest program in bubblewrap: the whole file system read-only, a private `/tmp`, the scratch
    /// folder `work` the only writable place, no network, a cleared environment, and the process dying with strata.
    /// `readable` folders (the DSL library, the workspace) are bound back read-only above the private `/tmp`, so a
    /// build or a workspace that lives under /tmp still works. Without bubblewrap, `unshare -n` still cuts the
    /// network but leaves the file system writable, and every evaluation says so.
    func sandboxed(_ binary: String, _ args: [String], work: String, readable: [String]) -> (String, [String], String?) {
        if ProcessInfo.processInfo.environment["STRATA_NO_SANDBOX"] == "1" {
            return (binary, args, "Pipeline.swift was evaluated without a sandbox (STRATA_NO_SANDBOX=1): it could write files and reach the network")
        }
        if let bwrap = StageExecutor.which("bwrap"), probe(bwrap, ["--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "/bin/true"]) {
            var a = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
            for dir in readable { a += ["--ro-bind", dir, dir] }
            a += [
                "--bind", work, work, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
                "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", work, "--chdir", root,
            ]
            return (bwrap, a + [binary] + args, nil)
        }
        let why =
            "Pipeline.swift was evaluated without a file-system sandbox (install bubblewrap: apt-get install bubblewrap): it could write outside its scratch folder"
        if let unshare = StageExecutor.which("unshare"), probe(unshare, ["-n", "/bin/true"]) {
            return (unshare, ["-n", binary] + args, why)
        }
        return (binary, args, why + " and reach the network")
    }

    func probe(_ exe: String, _ args: [String]) -> Bool {
        (try? StageExecutor.run(exe, args, environment: ["PATH": "/usr/bin:/bin"], directory: "/", timeout: 5).status) == 0
    }

    func decode(_ bytes: [UInt8]) throws -> PipelineSpec {
        do {
            let spec = try JSONDecoder().decode(PipelineSpec.self, from: Data(bytes))
            guard spec.version == 1 else { throw PipelineError.badDescription("version \(spec.version) is not 1") }
            return spec
        } catch let e as PipelineError { throw e } catch { throw PipelineError.badDescription("\(error)") }
    }

    /// Keeps the compiler's diagnostics about the manifest (errors, notes, source lines), dropping noise.
    static func diagnostics(_ text: String, lineOffset: Int = 0) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            guard lineOffset > 0, let bar = line.firstIndex(of: "|"), let n = Int(line[..<bar].trimmingCharacters(in: .whitespaces)), n > lineOffset else {
                return line
            }
            let shifted = String(n - lineOffset)
            return Substring(
                String(repeating: " ", count: max(0, line.distance(from: line.startIndex, to: bar) - shifted.count - 1)) + shifted + " " + line[bar...])
        }
        let kept = lines.filter { !$0.hasPrefix("<unknown>") && !$0.contains("error: fatalError") }
        let trimmed = kept.prefix(60).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? text : trimmed
    }
}
