#ifndef STRATA_FAULT_H
#define STRATA_FAULT_H
/// Test-only LD_PRELOAD shim (libStrataFaultInjection.so). Counts write, pwrite, fsync, fdatasync and rename calls
/// (writes only on descriptors above 2, so terminal output does not count) and fails the Nth with EIO:
///   STRATA_FAULT_AT=N          fail call number N (1-based); 0 or unset: never fail
///   STRATA_FAULT_OPS=a,b       which calls count: write, fsync, rename (default: all three)
///   STRATA_FAULT_COUNT_FILE=F  at exit, write the number of counted calls to F
/// Each call after the failing one succeeds again, as after a transient error.
int strata_fault_calls(void);
#endif
