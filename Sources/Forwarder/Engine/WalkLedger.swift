import Checkpoint
import Connectors
import Foundation

/// What a group of pages spooled in one transaction does to the source's cursor and to the saved
/// position of a newest-first walk: the same as storing each page on its own, one after another,
/// so the group's last word counts.
struct WalkLedger {
    let window: PollWindow
    /// The cursor when the walk began; the cursor never moves below it (a clock step, a hand-set cursor).
    let cursor: Date?
    /// Whether a walk position is saved in the state right now (a resumed walk starts with one).
    private(set) var progressSaved: Bool

    init(window: PollWindow, cursor: Date?, resumed: Bool) {
        self.window = window
        self.cursor = cursor
        progressSaved = resumed
    }

    struct Entry: Equatable {
        /// The cursor to write with the group (nil: leave it).
        var cursor: Date?
        var walk: WalkUpdate
        /// A checkpoint past the window end, if a page gave one: upstream clocks run ahead of ours.
        var aheadOfWindow: Date?
    }

    mutating func record<Content>(_ pages: [PageWalker.FetchedPage<Content>]) -> Entry {
        var entry = Entry(cursor: nil, walk: .unchanged, aheadOfWindow: nil)
        for page in pages {
            if let checkpoint = page.checkpoint {
                // Entries dated after the window end (an upstream clock ahead of ours, an API that
                // ignores the end) are spooled, but the cursor stops at the window end: a cursor in
                // the future would skip everything written upstream until our clock caught up.
                if checkpoint > window.end, entry.aheadOfWindow == nil { entry.aheadOfWindow = checkpoint }
                let capped = min(checkpoint, window.end)
                entry.cursor = max(capped, cursor ?? capped)
            }
            if let resumeAt = page.resumeAt {
                entry.walk = .save(WalkProgress(windowStart: window.start, windowEnd: window.end, position: resumeAt))
                progressSaved = true
            } else if progressSaved {
                entry.walk = .clear
                progressSaved = false
            }
        }
        return entry
    }
}
