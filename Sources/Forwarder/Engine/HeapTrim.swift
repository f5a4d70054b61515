import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Hands the heap's free pages back to the system. glibc keeps what a burst of work freed (a
/// thousand sources polling in the same second, a large catch-up) as resident memory for good;
/// `malloc_trim` returns it, at the cost of a walk over the heap with its arenas locked.
enum HeapTrim {
    /// Once per process per interval, however many engines ask (tests run dozens in one process).
    private static let lastRun = Mutex<ContinuousClock.Instant?>(nil)
    static let interval = Duration.seconds(10)

    static func runIfDue() {
        let now = ContinuousClock.now
        let due = lastRun.withLock { last in
            guard last.map({ now - $0 >= interval }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        #if canImport(Glibc)
            // `malloc_trim` is in <malloc.h>, which Swift's Glibc module does not import.
            typealias MallocTrim = @convention(c) (Int) -> Int32
            guard let symbol = dlsym(nil, "malloc_trim") else { return }
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
