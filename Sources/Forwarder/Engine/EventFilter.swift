import Checkpoint

/// A sink's `filters`: an event passes when it matches every list that is set.
public struct EventFilter: Sendable, Equatable {
    public var sources: Set<String>?
    public var eventTypes: Set<String>?
    /// Exact actions, or a prefix ending in `*` (`deployment.*`).
    public var actions: [String]?
    public var outcomes: Set<String>?
    public var severities: Set<String>?

    public init() {}

    public var isEmpty: Bool {
        sources == nil && eventTypes == nil && actions == nil && outcomes == nil && severities == nil
    }

    public func matches(_ record: SpoolRecord) -> Bool {
        if let sources, !sources.contains(record.source) { return false }
        if let eventTypes, !eventTypes.contains(record.eventType) { return false }
        if let outcomes, !outcomes.contains(record.outcome) { return false }
        if let severities, !severities.contains(record.severity) { return false }
        if let actions {
            let action = record.action
            let matched = actions.contains { pattern in
                pattern.hasSuffix("*") ? action.hasPrefix(pattern.dropLast()) : action == pattern
            }
            if !matched { return false }
        }
        return true
    }
}
