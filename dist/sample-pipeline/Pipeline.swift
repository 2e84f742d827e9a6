// strata-pipeline-version: 1
import PipelineDescription

let tables = ["organisations", "contacts", "sources"]

let pipeline = Pipeline(
    name: "curation",
    stages: [
        .stage(
            name: "extract",
            command: "python3 steps/extract.py raw staging",
            inputs: ["raw/", "steps/extract.py"],
            outputs: [.folder("staging/")]
        ),
    ] + tables.map { table in
        .stage(
            name: "curate-\(table)",
            command: "python3 steps/curate.py \(table)",
            inputs: ["staging/\(table).csv", "steps/curate.py"],
            outputs: [.table("curated/\(table).csv", key: "id", published: table == "organisations"), .evidence("evidence/\(table)/")],
            params: ["threshold": 0.8, "country": "ZA"],
            environment: ["LOCALE"]
        )
    } + [
        .stage(
            name: "report",
            command: "python3 steps/report.py",
            inputs: tables.map { "curated/\($0).csv" } + ["steps/report.py"],
            outputs: [.metrics("reports/summary.json"), .file("reports/summary.md", cache: false)],
            alwaysRun: false
        ),
    ]
)
