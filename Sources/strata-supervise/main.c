// strata-supervise PROGRAM [ARG...]: the supervisor every stage command runs under (see CStrataSpawn/supervise.c).
#include "strata_spawn.h"

int main(int argc, char **argv) { return strata_supervise_main(argc, argv); }
