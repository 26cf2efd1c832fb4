//! Fewer glibc malloc arenas for the process that indexes.
//!
//! glibc gives each thread that allocates its own arena, up to eight per
//! core, and memory freed into one arena is not reused by the others. A
//! tguard process allocates from many threads: Tantivy's indexing threads,
//! and whichever Go threads make the cgo calls that parse documents. Over a
//! long run each arena keeps its own high-water mark: `tguard index` of four
//! copies of the Go sources (43,000 documents) peaked at 517 MB of RSS for
//! about 140 MB of live malloc memory (massif); with MALLOC_ARENA_MAX=3 it
//! peaked at 364 MB, at the same speed. Set after the first arenas exist
//! (when the first writer opened, or even in a Go init function), the limit
//! saved less (419 MB), hence a C constructor in the bridge package.
//!
//! The same constructor fixes glibc's mmap threshold at 256 KiB. glibc
//! starts it at 128 KiB and raises it each time a large mmapped block is
//! freed (up to 32 MiB), so after the first indexing segment Tantivy's
//! large arena blocks come from the heap and stay there, fragmented, as
//! segments come and go. Fixed, they are mapped and unmapped as they come
//! and go (measured with /proc's RssAnon): peak RSS of `tguard
//! index` over the Go sources twice and four times 201-206 and 215-233 MB
//! with the default, 185-187 and 188-193 MB with the fixed threshold, at
//! the same CPU time.

use std::sync::Once;

/// glibc's mmap threshold, fixed (see above).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 256 << 10;

/// Tantivy's cap on automatically chosen indexing threads (writer.rs).
const MAX_INDEXING_THREADS: usize = 8;

static LIMIT: Once = Once::new();

/// Limits glibc's malloc to one arena per indexing thread Tantivy would
/// start (one per core, at most 8) plus one for the threads that feed them,
/// and fixes its mmap threshold.
/// Process-wide and idempotent; does nothing where the C library is not
/// glibc. Go's bridge package calls it from a C constructor
/// (bridge/malloc_arenas.c), before Go's runtime starts its threads.
#[no_mangle]
pub extern "C" fn tg_limit_malloc_arenas() {
    LIMIT.call_once(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        set_arena_max(cores.min(MAX_INDEXING_THREADS) + 1);
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max(arenas: usize) {
    let arenas = libc::c_int::try_from(arenas).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only reads its two integer arguments. A refusal
    // (returns 0) leaves glibc's default, which is merely larger.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_arenas: usize) {}
