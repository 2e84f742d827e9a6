/// Prints the warning of a lineage backend that is down (the events wait in the store).
enum LineageWarning {
    static func print(_ warning: String?, quiet: Bool) {
        if !quiet, let warning {
            Out.err("strata: warning: lineage not delivered (\(warning)); the events wait in the store: run 'strata lineage flush'")
        }
    }
}
