// swift-tools-version: 6.1
import PackageDescription

#if canImport(Glibc)
    import Glibc
#endif

/// The release link on Linux: lld packs the 150,000 relative relocations into a few KiB (RELR)
/// and the binary stops exporting its 55,000 symbols, which the loader otherwise paged in at
/// start: about 5 MiB less resident (Benchmarks/README.md). Only where this system's glibc can
/// load packed relocations (2.36 and newer): an older one would run the binary unrelocated.
/// lld also lays the code a run executes out together (scripts/code-layout.order, in effect when
/// the build puts each function in its own section, as scripts/build-release.sh does): the
/// kernel maps code in 64 KiB and larger steps, so scattered code made 22 MiB resident, gathered 9.
let releaseLinkerFlags: [String] = {
    #if canImport(Glibc)
        var text = [CChar](repeating: 0, count: 64)
        guard confstr(Int32(_CS_GNU_LIBC_VERSION), &text, text.count) > 0 else { return [] }
        let name = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)  // "glibc 2.36"
        let version = name.split(separator: " ").last?.split(separator: ".").compactMap { Int($0) } ?? []
        guard version.count >= 2, (version[0], version[1]) >= (2, 36) else { return [] }
        let layout = Context.packageDirectory + "/scripts/code-layout.order"
        return [
            "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
            // A name the list has and the binary lacks (code changed since the list was made) is skipped.
            "-Xlinker", "--symbol-ordering-file=\(layout)", "-Xlinker", "--no-warn-symbol-ordering",
        ]
    #else
        return []
    #endif
}()

let package = Package(
    name: "audit-forwarder",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "audit-forwarder", targets: ["audit-forwarder"]),
        .executable(name: "forwarder-benchmark", targets: ["ForwarderBenchmark"]),
        .library(name: "Emulators", targets: ["Emulators"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // The PostgreSQL state backend (several agents on one database, DESIGN.md §8).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The state: cursors, spool, sink offsets, dedupe index, dead letters, run lock; in SQLite
        // (StateStore) or PostgreSQL (PostgresStateStore, several agents: DESIGN.md §8).
        .target(
            name: "Checkpoint",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the page append's direct binding (DirectStatement).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The event schema, its encodings, and one translator per upstream and sink.
        .target(
            name: "Connectors",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Configuration, the engine and the modes.
        .target(
            name: "Forwarder",
            dependencies: [
                "Checkpoint",
                "Connectors",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // HTTPHeaders and HTTPMethod of AsyncHTTPClient's delegate API (WireClient).
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CompressNIO", package: "compress-nio"),
                // The telemetry endpoint (/metrics, /healthz, /readyz).
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Faithful fakes of every upstream and sink, written from PROTOCOLS.md. Never imports Connectors.
        .target(
            name: "Emulators",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                // HTTPS listeners, so TLS verification (CA, hostname) is tested over a real handshake.
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
            ]
        ),
        .executableTarget(
            name: "audit-forwarder",
            dependencies: [
                "Forwarder",
                "Emulators",  // only for `demo`
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: [.unsafeFlags(releaseLinkerFlags, .when(platforms: [.linux], configuration: .release))]
        ),
        .executableTarget(
            name: "ForwarderBenchmark",
            // Connectors: a signing key for the --integrity scenario; Checkpoint: a database per
            // run for --postgres.
            dependencies: ["Forwarder", "Emulators", "Connectors", "Checkpoint"],
            path: "Benchmarks/ForwarderBenchmark"
        ),
        // What several test targets share: spawning real programs, a throwaway PostgreSQL server.
        .target(name: "TestSupport", dependencies: ["Checkpoint"], path: "Tests/TestSupport"),
        .testTarget(
            name: "CheckpointTests",
            dependencies: ["Checkpoint", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "ConnectorsTests", dependencies: ["Connectors", "TestSupport"]),
        .testTarget(name: "EmulatorsTests", dependencies: ["Emulators"]),
        .testTarget(
            name: "ForwarderTests",
            dependencies: [
                "Forwarder", "Emulators", "Checkpoint", "Connectors", "TestSupport",
                // The daemon's service group, run in process for the full-disk test.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
