// Runs as the program loads, before Go's runtime starts its threads: each
// thread that allocates gets a glibc malloc arena of its own, and Go's
// first threads allocate before any Go init function runs (measured: five
// arenas existed by then). See rust/src/malloc_arenas.rs for why tguard
// limits them.
#include "tguard_bridge.h"

__attribute__((constructor)) static void tguard_limit_malloc_arenas(void) {
	tg_limit_malloc_arenas();
}
