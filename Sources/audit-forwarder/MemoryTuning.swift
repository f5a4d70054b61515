#if canImport(Glibc)
    import Glibc
#endif

/// glibc raises its mmap threshold to the largest block freed so far (up to 32 MiB); after that,
/// large transient buffers — a sink's batch of a megabyte, a page of events — are carved from the
/// heap and stay there once freed. A fixed threshold of 128 KiB hands them back to the system.
enum MemoryTuning {
    static func apply() {
        #if canImport(Glibc)
            // `mallopt` is in <malloc.h>, which Swift's Glibc module does not import: look it up.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
            guard let symbol = dlsym(nil, "mallopt") else { return }
            _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 128 * 1024)
        #endif
    }
}
