import Emulators
import Foundation

extension SplunkIndexedEvent {
    /// Our event id, from the indexed `fields` the Splunk sink attaches to every envelope.
    var forwardedEventID: String? {
        (try? JSONSerialization.jsonObject(with: Data((fields ?? "{}").utf8)) as? [String: Any])?["id"] as? String
    }
}
