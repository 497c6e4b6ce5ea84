//! A 64-bit atomic for every target: the real `AtomicU64` where the target has one, otherwise
//! a `u64` behind a short spin lock (for 32-bit embedded targets such as thumbv7em). On those
//! targets, do not draw from the process generator or a `SeededRand` in an interrupt handler
//! that can preempt code doing the same.

#[cfg(target_has_atomic = "64")]
pub(crate) use core::sync::atomic::AtomicU64;

#[cfg(not(target_has_atomic = "64"))]
pub(crate) use fallback::AtomicU64;

#[cfg(not(target_has_atomic = "64"))]
mod fallback {
    use core::cell::UnsafeCell;
    use core::sync::atomic::{AtomicBool, Ordering};

    /// A `u64` whose every access holds a spin lock.
    #[derive(Debug, Default)]
    pub(crate) struct AtomicU64 {
        lock: AtomicBool,
        v: UnsafeCell<u64>,
    }

    // SAFETY: every access to `v` happens while `lock` is held (acquired with Acquire,
    // released with Release), so accesses never overlap.
    unsafe impl Sync for AtomicU64 {}

    impl AtomicU64 {
        pub(crate) const fn new(v: u64) -> Self {
            AtomicU64 {
                lock: AtomicBool::new(false),
                v: UnsafeCell::new(v),
            }
        }
        fn with<T>(&self, f: impl FnOnce(&mut u64) -> T) -> T {
            while self
                .lock
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                core::hint::spin_loop();
            }
            // SAFETY: we hold the lock.
            let r = f(unsafe { &mut *self.v.get() });
            self.lock.store(false, Ordering::Release);
            r
        }
        pub(crate) fn load(&self, _: Ordering) -> u64 {
            self.with(|v| *v)
        }
        pub(crate) fn fetch_add(&self, d: u64, _: Ordering) -> u64 {
            self.with(|v| {
                let old = *v;
                *v = old.wrapping_add(d);
                old
            })
        }
        pub(crate) fn compare_exchange(
            &self,
            cur: u64,
            new: u64,
            _: Ordering,
            _: Ordering,
        ) -> Result<u64, u64> {
            self.with(|v| {
                if *v == cur {
                    *v = new;
                    Ok(cur)
                } else {
                    Err(*v)
                }
            })
        }
    }
}
