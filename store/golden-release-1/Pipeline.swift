import PipelineDescription
let pipeline = Pipeline(name: "golden", stages: [
    .stage(name: "curate", command: "head -n 1001 raw/orgs.csv > curated.csv", inputs: ["raw/orgs.csv"], outputs: [.file("curated.csv")]),
])
