//! The wall clock RedEX stamps entries with: a coarse clock read once per append call.
//!
//! Promises: [`coarse_now_ns`] returns unix nanoseconds that lag the precise wall clock
//! ([`super::now_ns`]) by less than [`coarse_resolution_ns`] (the kernel tick, typically
//! 1-4 ms on Linux), and costs a few nanoseconds instead of tens: on Linux it reads
//! `CLOCK_REALTIME_COARSE`, the kernel's per-tick cached wall time, without a hardware clock
//! read. On other platforms, and if the coarse clock is unavailable, it falls back to the
//! precise clock (resolution 1 ns).
//!
//! Does not promise: monotonicity (it is wall time and follows clock steps, like
//! `SystemTime`), or that a coarse stamp is `>=` a precise [`super::now_ns`] read taken just
//! before it.

/// Unix nanoseconds from the coarse wall clock (see the module docs for its resolution).
#[inline]
pub fn coarse_now_ns() -> u64 {
    imp::coarse().unwrap_or_else(super::now_ns)
}

/// The coarse clock's resolution in nanoseconds (1 when the precise clock is used instead).
pub fn coarse_resolution_ns() -> u64 {
    imp::resolution().unwrap_or(1)
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod imp {
    /// `struct timespec` on 64-bit Linux (`time_t` and `long` are both 64-bit).
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }

    /// `CLOCK_REALTIME_COARSE` (the same value on every Linux architecture).
    const CLOCK_REALTIME_COARSE: i32 = 5;

    unsafe extern "C" {
        fn clock_gettime(clock_id: i32, tp: *mut Timespec) -> i32;
        fn clock_getres(clock_id: i32, res: *mut Timespec) -> i32;
    }

    fn to_ns(ts: &Timespec) -> Option<u64> {
        let secs = u64::try_from(ts.tv_sec).ok()?;
        let nanos = u64::try_from(ts.tv_nsec).ok()?;
        secs.checked_mul(1_000_000_000)?.checked_add(nanos)
    }

    #[inline]
    pub fn coarse() -> Option<u64> {
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `struct timespec` for the duration of the call
        // (the layout above matches 64-bit Linux); the clock id is a constant the kernel
        // either supports or rejects with a non-zero return, which we check.
        let rc = unsafe { clock_gettime(CLOCK_REALTIME_COARSE, &mut ts) };
        if rc == 0 { to_ns(&ts) } else { None }
    }

    pub fn resolution() -> Option<u64> {
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: as in `coarse`: `ts` is a valid `struct timespec` and the return is checked.
        let rc = unsafe { clock_getres(CLOCK_REALTIME_COARSE, &mut ts) };
        if rc == 0 { to_ns(&ts) } else { None }
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
mod imp {
    #[inline]
    pub fn coarse() -> Option<u64> {
        None
    }

    pub fn resolution() -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_clock_tracks_the_precise_clock_within_its_resolution() {
        let res = coarse_resolution_ns();
        assert!((1..=100_000_000).contains(&res), "resolution {res} ns");
        for _ in 0..1000 {
            let before = super::super::now_ns();
            let c = coarse_now_ns();
            let after = super::super::now_ns();
            // The coarse stamp is at most one tick behind and never ahead of the precise clock
            // (allow one extra tick for a tick landing between the reads).
            assert!(c <= after, "coarse {c} ahead of precise {after}");
            assert!(
                before - c.min(before) <= 2 * res,
                "coarse {c} lags {before} by > 2 ticks"
            );
        }
    }
}
