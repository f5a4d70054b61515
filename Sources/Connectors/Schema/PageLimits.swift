/// How much one upstream page may make the forwarder allocate. A hostile or broken upstream can
/// send a page of a million tiny items that costs gigabytes once parsed and normalized; over
/// these limits the page fails with a clear error and the cursor stays where it was.
///
/// Set by the engine around a source's page reading (`sources[].max_page_items`); the JSON
/// parser reads it, so every connector is bounded without passing it along.
public struct PageLimits: Sendable, Equatable {
    /// Elements of any one array of the page (the items, and anything nested in them).
    public var maxItems: Int
    /// JSON values of the whole page: bounds the parsed tree whatever its shape.
    public var maxValues: Int

    public init(maxItems: Int, maxValues: Int) {
        self.maxItems = maxItems
        self.maxValues = maxValues
    }

    /// Outside a page (sink responses, configuration): only the response size cap applies.
    public static let unbounded = PageLimits(maxItems: .max, maxValues: .max)

    /// A page's values beyond its items: a typical audit entry has 20 to 60 JSON values.
    public static func forPage(maxItems: Int) -> PageLimits {
        PageLimits(maxItems: maxItems, maxValues: max(maxItems * valuesPerItem, 100_000))
    }

    static let valuesPerItem = 200

    @TaskLocal public static var current = PageLimits.unbounded
}
