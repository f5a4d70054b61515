import Foundation

extension PagedJSONEmulator {
    /// One page in the style of `path`.
    func page(_ path: String, _ parameters: PageParameters, _ request: RecordedRequest) -> EmulatorResponse {
        switch path {
        case "/page-number":
            let (skip, overflow) = (parameters.page - 1).multipliedReportingOverflow(by: parameters.perPage)
            let (items, more, _) = positional(parameters, skip: overflow ? Int.max : skip)
            return .json(#"{"results":"# + Self.array(items) + #","has_more":"# + (more ? "true" : "false") + "}")
        case "/offset":
            let (items, _, total) = positional(parameters, skip: parameters.offset)
            return .json(#"{"items":"# + Self.array(items) + #","total":"# + String(total) + "}")
        case "/cursor", "/search":
            let (items, next) = keyset(parameters, newestFirst: false)
            return .json(#"{"entries":"# + Self.array(items) + #","next_cursor":"# + JSONText.quote(next?.text ?? "") + "}")
        case "/link-header":
            let (items, next) = keyset(parameters, newestFirst: false)
            var response = EmulatorResponse.json(Self.array(items))
            if let next { response.headers.append(("Link", "<\(link(request, next))>; rel=\"next\"")) }
            return response
        default:  // "/next-link", "/newest"
            let (items, next) = keyset(parameters, newestFirst: path == "/newest")
            let url = next.map { JSONText.quote(link(request, $0)) } ?? "null"
            return .json(#"{"data":{"items":"# + Self.array(items) + #"},"links":{"next":"# + url + "}}")
        }
    }

    /// Items after the cursor in the window, oldest first (or before it, newest first), and
    /// the cursor of the last one when more follow. Keyed on (ts, uuid), so items inserted
    /// behind the cursor are not seen, as with a real keyset API.
    private func keyset(_ parameters: PageParameters, newestFirst: Bool) -> ([PagedJSONItem], PageCursor?) {
        store.withLockedValue { store in
            let window = store.window(from: parameters.since, to: parameters.until)
            func isAfter(_ stored: StoredPagedItem, _ cursor: PageCursor) -> Bool {
                stored.orderTime > cursor.time || (stored.orderTime == cursor.time && stored.orderID > cursor.id)
            }
            let page: ArraySlice<StoredPagedItem>
            let more: Bool
            if newestFirst {
                // Everything strictly before the cursor; the page is the newest of those.
                let end =
                    parameters.cursor.map { cursor in
                        window.partitioningIndex { isAfter($0, cursor) || ($0.orderTime == cursor.time && $0.orderID == cursor.id) }
                    } ?? window.endIndex
                let start = max(window.startIndex, end - parameters.perPage)
                page = window[start..<end]
                more = start > window.startIndex
                let items = page.reversed().map(\.item)
                return (items, more ? page.first.map { PageCursor(time: $0.orderTime, id: $0.orderID) } : nil)
            }
            let start = parameters.cursor.map { cursor in window.partitioningIndex { isAfter($0, cursor) } } ?? window.startIndex
            let end = min(window.endIndex, start + parameters.perPage)
            page = window[start..<end]
            more = end < window.endIndex
            return (page.map(\.item), more ? page.last.map { PageCursor(time: $0.orderTime, id: $0.orderID) } : nil)
        }
    }

    /// `perPage` items after the first `skip` of the window, oldest first, whether more
    /// follow, and the window's size.
    private func positional(_ parameters: PageParameters, skip: Int) -> ([PagedJSONItem], Bool, Int) {
        store.withLockedValue { store in
            let window = store.window(from: parameters.since, to: parameters.until)
            let start = window.startIndex + min(skip, window.count)
            let end = min(window.endIndex, start + parameters.perPage)
            return (window[start..<end].map(\.item), end < window.endIndex, window.count)
        }
    }

    /// This request's absolute URL with `cursor` set to `next`, the other parameters kept.
    private func link(_ request: RecordedRequest, _ next: PageCursor) -> String {
        let base = server.baseURL?.absoluteString ?? ""
        let kept = request.queryItems.filter { $0.name != "cursor" }
        return base + request.pathWithoutQuery + "?" + QueryString.encode(kept + [("cursor", next.text)])
    }

    private static func array(_ items: [PagedJSONItem]) -> String {
        "[" + items.map(\.json).joined(separator: ",") + "]"
    }
}
