#if canImport(Glibc)
    import Glibc
#endif

/// Hands the heap's free pages back to the system. glibc keeps what a burst of work freed (a
/// thousand sources polling in the same second, a large catch-up) as resident memory for good;
/// `malloc_trim` returns it, at the cost of a walk over the heap (about a millisecond here).
enum HeapTrim {
    static func run() {
        #if canImport(Glibc)
            // `malloc_trim` is in <malloc.h>, which Swift's Glibc module does not import.
            typealias MallocTrim = @convention(c) (Int) -> Int32
            guard let symbol = dlsym(nil, "malloc_trim") else { return }
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
