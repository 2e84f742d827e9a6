import Foundation

/// Builds a W3C PROV-O JSON-LD document (inline `@context`, absolute IRIs, typed nodes) for a run.
struct ProvBuilder {
    let service: LineageService

    static var context: [String: Any] {
        [
            "prov": "http://www.w3.org/ns/prov#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "dct": "http://purl.org/dc/terms/",
            "spdx": "http://spdx.org/rdf/terms#",
            "strata": "https://github.com/strata-versioning/strata/ns#",
        ]
    }

    static func iri(_ kind: String, _ value: String) -> String {
        "urn:strata:\(kind):" + (value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value)
    }

    static func time(_ ms: Int64) -> [String: Any] {
        let f = ISO8601DateFormatter(); f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return ["@value": f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000)), "@type": "xsd:dateTime"]
    }

    func document(for r: RunRecord) throws -> Data {
        let red = service.redactor
        let activity = ProvBuilder.iri("run", r.runId)
        let software = "urn:strata:software:strata/" + LineageService.version
        let person = r.agent ?? red.pseudonym("unknown")
        var graph: [[String: Any]] = [
            ["@id": software, "@type": "prov:SoftwareAgent", "dct:title": "strata " + LineageService.version],
            ["@id": person, "@type": "prov:Person"],
        ]
        var act: [String: Any] = [
            "@id": activity,
            "@type": ["prov:Activity", r.kind == .commit ? "strata:Commit" : (r.kind == .stage ? "strata:StageRun" : "strata:PipelineRun")],
            "dct:identifier": r.runId,
            "dct:title": red.redact(r.job),
            "prov:startedAtTime": ProvBuilder.time(r.started),
            "prov:wasAssociatedWith": [["@id": software], ["@id": person]],
            "strata:status": r.status.rawValue,
        ]
        if let e = r.ended { act["prov:endedAtTime"] = ProvBuilder.time(e) }
        if let p = r.parent { act["prov:wasInformedBy"] = ["@id": ProvBuilder.iri("run", p)] }
        if let c = r.commit { act["strata:commit"] = c }
        if let cmd = r.command {
            let plan = ProvBuilder.iri("plan", red.redact(r.job))
            graph.append(["@id": plan, "@type": "prov:Plan", "strata:command": red.redact(cmd)])
            act["prov:qualifiedAssociation"] = ["@type": "prov:Association", "prov:agent": ["@id": software], "prov:hadPlan": ["@id": plan]]
        }
        func entity(_ d: DatasetRef, generated: Bool) -> String? {
            guard let hash = d.sha256 else { return nil }
            let path = red.redactPath(d.path)
            let id = ProvBuilder.iri("version", hash + "/" + path)
            let dataset = ProvBuilder.iri("dataset", path)
            var types = ["prov:Entity", "strata:DatasetVersion"]
            if d.kind == "evidence" { types.append("strata:EvidenceLog") }
            if !generated && r.kind == .stage { types.append("strata:SourceDocument") }
            var e: [String: Any] = [
                "@id": id, "@type": types, "prov:specializationOf": ["@id": dataset], "strata:contentHash": "sha256:" + hash,
                "strata:path": path, "strata:size": ["@value": String(d.size), "@type": "xsd:nonNegativeInteger"],
            ]
            if let c = d.commit ?? (generated ? r.commit : nil) { e["strata:commit"] = c }
            if let loc = d.location {
                e["prov:atLocation"] = ["@id": EventBuilder.publishedURL(red.redactURL(loc), path: path), "@type": "prov:Location"]
            }
            if generated {
                e["prov:wasGeneratedBy"] = ["@id": activity]
                e["prov:wasAttributedTo"] = ["@id": person]
                let sources = r.inputs.compactMap { i in i.sha256.map { ProvBuilder.iri("version", $0 + "/" + red.redactPath(i.path)) } }
                if !sources.isEmpty { e["prov:wasDerivedFrom"] = sources.map { ["@id": $0] } }
            }
            graph.append(e)
            graph.append(["@id": dataset, "@type": "prov:Entity", "strata:path": path])
            return id
        }
        let used = r.inputs.compactMap { entity($0, generated: false) }
        if !used.isEmpty { act["prov:used"] = used.map { ["@id": $0] } }
        _ = r.outputs.compactMap { entity($0, generated: true) }
        graph.insert(act, at: 0)
        return try JSONSerialization.data(
            withJSONObject: red.scrub(["@context": ProvBuilder.context, "@graph": graph]),
            options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }
}
