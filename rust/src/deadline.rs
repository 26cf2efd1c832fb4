//! The writer's deadline ("lease") cell and the clock it is compared with.
//!
//! Go renews a lease in the background and stores the new deadline straight
//! into the cell with `sync/atomic` — no cgo call, no lock — so a long add or
//! commit running in Rust always sees the latest deadline. Both sides must
//! read the same clock, hence `tg_clock_now_ns`. CLOCK_BOOTTIME keeps counting
//! during suspend, so a laptop that sleeps past its lease is seen as expired.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::error::{BResult, BridgeError, TG_ERR_LEASE_EXPIRED};

/// Nanoseconds on the deadline clock (CLOCK_BOOTTIME on Linux).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn now_ns() -> i64 {
    clock_ns(libc::CLOCK_BOOTTIME)
}

/// Nanoseconds on the deadline clock (CLOCK_MONOTONIC on other unixes).
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
pub(crate) fn now_ns() -> i64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

#[cfg(unix)]
// time_t / c_long are 32-bit on some unix targets; the conversion is not useless there.
#[allow(clippy::useless_conversion)]
fn clock_ns(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        // Only possible with an unsupported clock id; treat the lease as
        // expired rather than running without a guard.
        return i64::MAX;
    }
    // i64::from works whether the fields are 32- or 64-bit on this target.
    i64::from(ts.tv_sec)
        .saturating_mul(1_000_000_000)
        .saturating_add(i64::from(ts.tv_nsec))
}

#[cfg(windows)]
#[link(name = "kernel32")]
extern "system" {
    fn QueryUnbiasedInterruptTime(unbiased_time: *mut u64) -> i32;
}

/// Nanoseconds on the deadline clock (interrupt time in 100 ns units on Windows).
#[cfg(windows)]
pub(crate) fn now_ns() -> i64 {
    let mut t: u64 = 0;
    // SAFETY: `t` is a valid, writable u64.
    if unsafe { QueryUnbiasedInterruptTime(&mut t) } == 0 {
        return i64::MAX;
    }
    (t as i64).saturating_mul(100)
}

/// A heap cell holding the deadline in `now_ns()` units; 0 = no deadline.
/// Boxed so its address is stable for as long as the writer lives.
pub(crate) struct Deadline(Box<AtomicI64>);

impl Default for Deadline {
    fn default() -> Self {
        Deadline(Box::new(AtomicI64::new(0)))
    }
}

impl Deadline {
    /// Raw pointer handed to Go; valid as long as `self` lives.
    pub(crate) fn cell_ptr(&self) -> *mut i64 {
        self.0.as_ptr()
    }

    pub(crate) fn set(&self, ns: i64) {
        self.0.store(ns, Ordering::SeqCst);
    }

    /// Errors with LEASE_EXPIRED unless the deadline is unset or still ahead.
    pub(crate) fn check(&self, before: &str) -> BResult<()> {
        let deadline = self.0.load(Ordering::SeqCst);
        if deadline == 0 {
            return Ok(());
        }
        let now = now_ns();
        if now < deadline {
            return Ok(());
        }
        Err(BridgeError::new(
            TG_ERR_LEASE_EXPIRED,
            format!(
                "lease expired {} ms before {before}; nothing was written",
                now.saturating_sub(deadline) / 1_000_000
            ),
        ))
    }
}

/// Current time on the clock the writer deadline is compared against
/// (CLOCK_BOOTTIME on Linux, CLOCK_MONOTONIC on other unixes, unbiased
/// interrupt time on Windows), in nanoseconds. Use it to compute deadlines.
#[no_mangle]
pub extern "C" fn tg_clock_now_ns() -> i64 {
    now_ns()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_positive() {
        let a = now_ns();
        let b = now_ns();
        assert!(a > 0 && b >= a);
    }

    #[test]
    fn zero_means_no_deadline_and_past_expires() {
        let d = Deadline::default();
        assert!(d.check("x").is_ok());
        d.set(now_ns() + 60_000_000_000);
        assert!(d.check("x").is_ok());
        d.set(now_ns() - 1);
        assert_eq!(d.check("commit").unwrap_err().code, TG_ERR_LEASE_EXPIRED);
        // Stores through the raw pointer (what Go does) are seen.
        unsafe { *d.cell_ptr() = 0 };
        assert!(d.check("x").is_ok());
    }
}
