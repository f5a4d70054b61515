import Foundation

extension DeploysEmulator {
    /// `count` items with ids `firstID, firstID+1, …` and `createdAt` spread evenly from `from`
    /// to `to` (both included), truncated to whole seconds, so with many items several share
    /// one second. Resources, actions, actors, channels and outcomes vary deterministically.
    ///
    /// Every string comes from a small table built once per call, so an item costs a few
    /// reference-count increments rather than allocations: a million items take about a second.
    public static func generate(count: Int, firstID: Int64 = 1, from: Date, to: Date) -> [DeploysAuditItem] {
        guard count > 0 else { return [] }
        let catalog = GeneratorCatalog()
        let start = from.timeIntervalSince1970
        let step = count == 1 ? 0 : (to.timeIntervalSince1970 - start) / Double(count - 1)

        var items: [DeploysAuditItem] = []
        items.reserveCapacity(count)
        for i in 0..<count {
            let seconds = (start + step * Double(i)).rounded(.down)
            let kind = catalog.kinds[(i &* 7 &+ i / 5) % catalog.kinds.count]
            let resource = kind.resources[(i / 3 &+ i &* 5) % kind.resources.count]
            let actor = catalog.actors[(i &* 3 &+ i / 7) % catalog.actors.count]
            let outcome = i % 17 == 5 ? 1 : (i % 29 == 11 ? 2 : 0)
            items.append(
                DeploysAuditItem(
                    id: firstID + Int64(i),
                    resourceType: kind.type,
                    resourceID: resource.id,
                    resourceName: resource.name,
                    locationID: catalog.locations[(i / 11) % catalog.locations.count],
                    actorEmail: actor.email,
                    actorType: actor.type,
                    actorLabel: actor.label,
                    channel: actor.channels[(i / 2) % actor.channels.count],
                    action: kind.actions[(i / 13) % kind.actions.count],
                    outcome: catalog.outcomes[outcome],
                    detail: catalog.details[outcome],
                    createdAt: Date(timeIntervalSince1970: seconds)
                )
            )
        }
        return items
    }
}

/// The vocabulary `generate` draws from, shaped like deploys.app's own resources.
private struct GeneratorCatalog {
    struct Kind {
        var type: String
        var actions: [String]
        var resources: [(id: String, name: String)]
    }

    struct Actor {
        var email: String
        var type: String
        var label: String
        var channels: [String]
    }

    let kinds: [Kind] = [
        Kind(
            type: "deployment",
            actions: ["deployment.deploy", "deployment.deploy", "deployment.deploy", "deployment.pause", "deployment.resume", "deployment.delete"],
            resources: ["api", "web", "worker", "billing", "cron"].map { (id: $0, name: $0) }
        ),
        Kind(
            type: "route", actions: ["route.create", "route.delete"],
            resources: [
                (id: "api.acme.example", name: "api.acme.example"), (id: "www.acme.example", name: "www.acme.example"),
            ]),
        Kind(
            type: "disk", actions: ["disk.create", "disk.update", "disk.delete"],
            resources: [
                (id: "pgdata", name: "pgdata"), (id: "uploads", name: "uploads"),
            ]),
        Kind(
            type: "pullSecret", actions: ["pullSecret.create", "pullSecret.delete"],
            resources: [
                (id: "ghcr", name: "ghcr")
            ]),
        Kind(
            type: "serviceAccount", actions: ["serviceAccount.create", "serviceAccount.createKey", "serviceAccount.deleteKey"],
            resources: [
                (id: "ci", name: "ci"), (id: "terraform", name: "terraform"),
            ]),
        Kind(
            type: "role", actions: ["role.create", "role.bind", "role.delete"],
            resources: [
                (id: "viewer", name: "viewer"), (id: "deployer", name: "deployer"),
            ]),
        Kind(
            type: "project", actions: ["project.update", "project.setBilling"],
            resources: [
                (id: "acme", name: "acme")
            ]),
    ]

    let actors: [Actor] = [
        Actor(email: "alice@acme.example", type: "User", label: "Alice Example", channels: ["console", "console", "cli", "mcp"]),
        Actor(email: "bob@acme.example", type: "User", label: "Bob Builder", channels: ["console", "cli"]),
        Actor(email: "carol@acme.example", type: "User", label: "Carol", channels: ["mcp", "console", "api"]),
        Actor(email: "ci@acme.sa.deploys.app", type: "ServiceAccount", label: "ci", channels: ["api"]),
        Actor(email: "terraform@acme.sa.deploys.app", type: "ServiceAccount", label: "terraform", channels: ["api", "cli"]),
    ]

    let locations = ["gke.cluster-rcf2", "gke.cluster-v4s2", "aws.ap-southeast-1"]
    let outcomes = ["success", "forbidden", "error"]
    /// Indexed like `outcomes`.
    let details = ["", "iam: forbidden", "internal error; retry later"]
}
