import CStrataSpawn
import Foundation
import StrataCommands

// `strata __supervise PROGRAM [ARG...]`: the stage supervisor, for a strata binary copied without its
// `strata-supervise` (internal; see docs/reference/pipeline.md).
if CommandLine.arguments.count > 2 && CommandLine.arguments[1] == "__supervise" {
    exit(strata_supervise_main(CommandLine.argc - 1, CommandLine.unsafeArgv + 1))
}
Strata.runMain()
