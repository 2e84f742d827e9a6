import StrataCommands

Strata.runMain()
