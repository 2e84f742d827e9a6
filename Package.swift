// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .library(name: "StrataRepository", targets: ["StrataRepository"]),
        .library(name: "PipelineDescription", type: .dynamic, targets: ["PipelineDescription"]),
        // Test support: an LD_PRELOAD shim that fails the Nth write, fsync or rename (fault-injection tests).
        .library(name: "StrataFaultInjection", type: .dynamic, targets: ["StrataFaultInjection"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
    ],
    targets: [
        // System libraries: SHA-256 (OpenSSL libcrypto), zstd, SQLite.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        // pipe2(O_CLOEXEC), which Glibc's Swift overlay does not expose, and the stage supervisor's code.
        .target(name: "CStrataSpawn"),
        // mallopt, which Glibc's Swift overlay does not expose: the heap setting of the remote commands (Heap.swift).
        .target(name: "CStrataHeap"),
        // libcurl's functions, looked up in libcurl.so.4 when the first HTTP request is made, not loaded at every start
        // (8.4 ms per process); see curl_lazy.c and dist/release-flags.sh.
        .target(name: "CStrataCurlLazy", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CStrataKafka", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        // Pure values: ObjectID, Tree, Commit, names, revisions, canonical encoding. No I/O.
        .target(name: "StrataModel", dependencies: ["COpenSSL", "StrataPlatform"]),
        // POSIX file calls with typed errors: stat, atomic writes, locks; the error protocol every module conforms to.
        .target(name: "StrataPlatform", dependencies: ["CStrataHeap"]),
        // A thin wrapper over the SQLite C API: one connection, prepared statements, transactions.
        .target(name: "StrataSQLite", dependencies: ["CSQLite", "StrataPlatform"]),
        // Content addressing and object storage: hashing, chunking, compression, packs, the object index.
        .target(name: "StrataObjects", dependencies: ["StrataModel", "StrataSQLite", "StrataPlatform", "CZstd", "COpenSSL"]),
        // Refs (branches, tags, HEAD) moved by compare-and-swap, and the reflog.
        .target(name: "StrataRefs", dependencies: ["StrataModel", "StrataSQLite", "StrataPlatform"]),
        // The workspace: scanning with ignore rules, the stat cache, safe file materialisation.
        .target(name: "StrataWorkspace", dependencies: ["StrataModel", "StrataSQLite", "StrataPlatform"]),
        // File-level diff of two trees, descending only into differing subtrees.
        .target(name: "StrataDiff", dependencies: ["StrataModel", "StrataPlatform"]),
        // The facade: init/open, status, commit, checkout, log, diff, refs, fsck.
        .target(
            name: "StrataRepository",
            dependencies: [
                "StrataModel", "StrataSQLite", "StrataPlatform", "StrataObjects", "StrataRefs", "StrataWorkspace", "StrataDiff",
            ]),
        // Retention: policies, prune (forget commits' data), gc (mark and sweep), the maintenance lock.
        .target(name: "StrataMaintenance", dependencies: ["StrataRepository", "StrataObjects", "StrataModel", "StrataPlatform", "StrataSQLite"]),
        // Pipelines: evaluating Pipeline.swift, the stage graph, Pipeline.lock, repro with a run cache.
        .target(
            name: "StrataPipeline",
            dependencies: [
                "StrataRepository", "StrataModel", "StrataPlatform", "StrataSQLite", "StrataWorkspace", "CStrataSpawn",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // Lineage: OpenLineage events, PROV-O and DCAT documents, redaction, transports, runs and reproduction.
        .target(
            name: "StrataLineage",
            dependencies: [
                "StrataPipeline", "StrataRepository", "StrataModel", "StrataPlatform", "StrataSQLite", "StrataDiff", "CZlib", "CStrataKafka", "StrataTables",
                .product(name: "Yams", package: "Yams"),
            ]),
        // Remotes: the storage protocol (shared folders, S3-compatible storage) checked by one conformance suite, the
        // remote layout, and push, fetch, clone and remote gc on top of it.
        .target(
            name: "StrataRemote",
            dependencies: ["StrataRepository", "StrataObjects", "StrataSQLite", "StrataModel", "StrataPlatform", "COpenSSL"]),
        // Tables as tables: row parsers (CSV, TSV, JSONL), the bounded-memory row diff, table declarations.
        .target(name: "StrataTables", dependencies: ["StrataRepository", "StrataObjects", "StrataModel", "StrataPlatform", "CSnappy", "CZlib", "CZstd"]),
        // Merge: three-way, file by file and row by row for declared tables; merge state, resolve and conclusion.
        .target(
            name: "StrataMerge", dependencies: ["StrataTables", "StrataRepository", "StrataDiff", "StrataObjects", "StrataModel", "StrataPlatform"]),
        // Workflows that span services, for every client (command line, server, MCP): commit with lineage, a repro
        // session, status with out-of-date stages, prune under declared policies.
        .target(
            name: "StrataWorkflows",
            dependencies: [
                "StrataRemote", "StrataTables", "StrataRepository", "StrataModel", "StrataPlatform", "StrataMaintenance", "StrataPipeline",
                "StrataLineage", "StrataMerge",
            ]),
        // The team server (`strata serve`): identities and tokens, roles per branch pattern, protected branches, the
        // hash-chained audit log, the remote protocol over HTTP(S) and the JSON API, on Hummingbird 2.
        .target(
            name: "StrataServer",
            dependencies: [
                "StrataWorkflows", "StrataRemote", "StrataLineage", "StrataTables", "StrataRepository", "StrataDiff", "StrataObjects", "StrataModel",
                "StrataPlatform", "StrataSQLite", "COpenSSL", "StrataWeb", "StrataMCP", "StrataPipeline", "StrataMaintenance",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]),
        // MCP for agents (`strata mcp`): the store's tools with JSON Schemas, over the MCP Swift SDK's stdio transport.
        .target(
            name: "StrataMCP",
            dependencies: [
                "StrataWorkflows", "StrataLineage", "StrataTables", "StrataPipeline", "StrataMaintenance", "StrataRepository", "StrataDiff",
                "StrataModel", "StrataPlatform", "StrataWeb", .product(name: "MCP", package: "swift-sdk"),
            ]),
        // The web UI's pages and the static site: server-rendered HTML with SVG graphs over a local store or a server
        // namespace (no HTTP here; `strata serve` and `strata ui` serve them).
        .target(
            name: "StrataWeb",
            dependencies: [
                "StrataWorkflows", "StrataLineage", "StrataTables", "StrataPipeline", "StrataMaintenance", "StrataMerge", "StrataRepository",
                "StrataDiff", "StrataModel", "StrataPlatform",
            ]),
        // The command line: parsing, rendering, progress, errors to exit statuses. No logic.
        .target(
            name: "StrataCommands",
            dependencies: [
                "StrataRepository", "StrataModel", "StrataPlatform", "StrataDiff", "StrataMaintenance", "StrataPipeline", "StrataLineage",
                "StrataWorkflows", "StrataRemote", "StrataTables", "StrataMerge", "StrataServer", "StrataMCP", "StrataWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "strata", dependencies: ["StrataCommands", "CStrataSpawn", "CStrataCurlLazy"]),
        // The supervisor each stage command runs under: leads its process group, dies with strata (lifeline pipe).
        // Linked as a static executable: SwiftPM links the Swift runtime and libstdc++ into every executable, and loading
        // them cost about 1.5 ms per stage (measured: 2.7 ms per exec dynamic, 1.4 ms static, 1.4 ms for gcc -static).
        .executableTarget(name: "strata-supervise", dependencies: ["CStrataSpawn"], linkerSettings: [.unsafeFlags(["-static-executable"])]),
        // Benchmark helper: a store with a million objects, to measure gc's peak memory.
        .executableTarget(
            name: "strata-gc-memory-bench", dependencies: ["StrataRepository", "StrataObjects", "StrataRefs", "StrataModel"], path: "Benchmarks/GCMemory"),
        // The DSL that Pipeline.swift imports. Depends on nothing.
        .target(name: "PipelineDescription"),

        .target(name: "StrataFaultInjection", path: "Tests/FaultInjection", linkerSettings: [.linkedLibrary("dl")]),
        // Test support shared by the test targets (the seeded generator).
        .target(name: "StrataTestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "StrataRemoteTests", dependencies: ["StrataRemote", "StrataRepository", "StrataModel", "StrataPlatform", "StrataTestSupport"]),
        .testTarget(name: "StrataPlatformTests", dependencies: ["StrataPlatform"]),
        .testTarget(name: "CStrataCurlLazyTests", dependencies: ["CStrataCurlLazy"]),
        .testTarget(name: "StrataWebTests", dependencies: ["StrataWeb", "StrataTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "StrataServerTests", dependencies: ["StrataServer", "StrataTestSupport"]),
        .testTarget(name: "StrataMergeTests", dependencies: ["StrataMerge", "StrataTables", "StrataRepository", "StrataTestSupport"]),
        .testTarget(name: "StrataTablesTests", dependencies: ["StrataTables", "StrataObjects", "StrataTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "StrataSQLiteTests", dependencies: ["StrataSQLite", "StrataPlatform"]),
        .testTarget(name: "StrataModelTests", dependencies: ["StrataModel", "StrataTestSupport"]),
        .testTarget(name: "StrataObjectsTests", dependencies: ["StrataObjects", "StrataSQLite", "StrataModel"]),
        .testTarget(name: "StrataRefsTests", dependencies: ["StrataRefs", "StrataSQLite", "StrataModel"]),
        .testTarget(name: "StrataWorkspaceTests", dependencies: ["StrataWorkspace", "StrataModel"]),
        .testTarget(name: "StrataDiffTests", dependencies: ["StrataDiff", "StrataModel"]),
        .testTarget(name: "StrataRepositoryTests", dependencies: ["StrataRepository", "StrataObjects", "StrataModel", "StrataSQLite", "StrataPlatform"]),
        .testTarget(
            name: "StrataMaintenanceTests",
            dependencies: ["StrataTestSupport", "StrataMaintenance", "StrataModel", "StrataObjects", "StrataRefs", "StrataRepository"]),
        .testTarget(name: "StrataPipelineTests", dependencies: ["StrataPipeline", "PipelineDescription"]),
        .testTarget(name: "StrataLineageTests", dependencies: ["StrataLineage", "StrataTestSupport"]),
        .testTarget(
            name: "EndToEndTests", dependencies: ["StrataWorkflows", "StrataRemote", "StrataTestSupport", "StrataModel", "StrataObjects", "StrataRepository"]),
    ],
    swiftLanguageModes: [.v6]
)
