/// The version of the pipeline description format that this module writes.
public let pipelineDescriptionVersion = 1
