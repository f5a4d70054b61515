import Foundation

/// Writes deploys.app items straight into the native encoding, as the spool stores them: the
/// mapping of `DeploysMapping` in the layout of `NativeEncoding.write`, without an `AuditEvent`
/// (and its `details` dictionary, hashed and then sorted) built and copied in between.
///
/// For items that kept their own text (the raw field is that text, verbatim); a test holds what
/// this writes to what normalizing and then encoding gives, byte for byte.
enum DeploysNativeWriter {
    /// The items' entries, or nil when some item has no text of its own.
    static func encode(_ items: [DeploysPageReader.Item], configuration: DeploysConfiguration, receivedAt: Date) -> [EncodedEntry]? {
        let receivedText = RFC3339.format(receivedAt)
        var entries: [EncodedEntry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            // The tree reader's items may lack their text; such a page goes the long way.
            guard let text = item.text else { return nil }
            entries.append(encode(item, text: text, configuration: configuration, receivedText: receivedText))
        }
        return entries
    }

    private static func encode(
        _ item: DeploysPageReader.Item, text: Data, configuration: DeploysConfiguration, receivedText: String
    ) -> EncodedEntry {
        let mapped = DeploysMapping(item.fields)
        let id = AuditEvent.stableID(sourceName: configuration.name, upstreamID: item.upstreamID)
        let payload = NativeEncoding.write(
            action: mapped.action, actor: mapped.actor, changes: nil,
            details: { writer in
                // The keys of `DeploysMapping.details`, in sorted order.
                writer.object("details") { details in
                    details.field("channel", json: mapped.channel)
                    details.field("upstream_outcome", mapped.upstreamOutcome)
                }
            },
            eventType: mapped.eventType, id: id, message: mapped.message, organization: nil, outcome: mapped.outcome,
            project: configuration.project, raw: { $0.field("raw", verbatim: text) },
            receivedAt: receivedText, severity: mapped.severity,
            source: .init(name: configuration.name, type: DeploysSource.type, eventID: item.upstreamID), target: mapped.target,
            time: RFC3339.format(item.time))
        return EncodedEntry(
            upstreamID: item.upstreamID, eventID: id, time: item.time, eventType: mapped.eventType.rawValue,
            severity: mapped.severity.rawValue, action: mapped.action, outcome: mapped.outcome.rawValue, payload: payload)
    }
}
