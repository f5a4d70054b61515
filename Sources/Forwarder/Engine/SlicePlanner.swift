import Connectors
import Foundation

/// Cuts a newest-first walk's window into slices, newest first, sized as the walk goes: a slice
/// should hold about `targetEvents`, so the slice fetched ahead of the one being stored fills its
/// page queue and no more, and a few pages end short (each slice's last page is a partial one).
///
/// The first slices are `firstLength` long: a daemon's or a quarter-hour timer's window is one
/// slice, walked exactly as before, with no extra request. Later ones follow the density of the
/// slices read so far, growing at most `maximumGrowth` times per slice so a quiet stretch does not
/// make one slice of a busy one. No slice is shorter than `minimumLength` (a rest that short joins
/// the slice before it).
struct SlicePlanner {
    let window: PollWindow
    var targetEvents: Int
    var firstLength: TimeInterval = 3600
    var minimumLength: TimeInterval = 300
    var maximumGrowth = 8.0

    /// Where the next slice ends: everything from here to the window end has been handed out.
    private(set) var upper: Date
    private var lastLength: TimeInterval?
    private var readEvents = 0
    private var readSeconds: TimeInterval = 0
    private var lastReadWasEmpty = false

    init(window: PollWindow, targetEvents: Int) {
        self.window = window
        self.targetEvents = max(targetEvents, 1)
        upper = window.end
    }

    /// The next slice, older than all before it; nil once the window is handed out.
    mutating func next() -> Slice? {
        guard upper > window.start else { return nil }
        var length =
            lastLength.map { last in
                guard readSeconds > 0 else { return last }
                // An empty stretch (before the source existed, a quiet weekend) is crossed in big steps.
                guard readEvents > 0, !lastReadWasEmpty else { return last * maximumGrowth }
                let fitting = Double(targetEvents) * readSeconds / Double(readEvents)
                return min(fitting, last * maximumGrowth)
            } ?? firstLength
        length = max(length, minimumLength)
        // Whole seconds, so slices meet where the API's second-precision bounds meet; and no slice
        // shorter than the minimum left over at the window start.
        var start = Date(timeIntervalSince1970: (upper.timeIntervalSince1970 - length).rounded(.down))
        if start.timeIntervalSince(window.start) < minimumLength { start = window.start }
        let slice = Slice(window: PollWindow(start: start, end: upper), isLast: start == window.start)
        upper = start
        lastLength = length
        return slice
    }

    /// What a slice held, once read: the density that sizes the slices after it.
    mutating func read(_ slice: PollWindow, events: Int) {
        readEvents += events
        readSeconds += slice.end.timeIntervalSince(slice.start)
        lastReadWasEmpty = events == 0
    }

    struct Slice: Equatable {
        var window: PollWindow
        /// The oldest slice: its last page ends the whole walk.
        var isLast: Bool
    }
}
