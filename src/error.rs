//! Errors of the fallible (`try_*`) operations.

use core::alloc::Layout;
use core::fmt;

/// The reason a `try_*` operation could not get the memory it needed. The map is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TryReserveError {
    kind: TryReserveErrorKind,
}

/// Details of a [`TryReserveError`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TryReserveErrorKind {
    /// The size of what was asked for overflows `isize` (or the entry count overflows).
    CapacityOverflow,
    /// The allocator returned an error for this request.
    AllocError {
        /// The request that failed.
        layout: Layout,
    },
}

impl TryReserveError {
    pub(crate) const fn capacity_overflow() -> Self {
        TryReserveError {
            kind: TryReserveErrorKind::CapacityOverflow,
        }
    }
    pub(crate) const fn alloc(layout: Layout) -> Self {
        TryReserveError {
            kind: TryReserveErrorKind::AllocError { layout },
        }
    }
    /// What went wrong (by value, as std's `TryReserveError::kind`).
    pub fn kind(&self) -> TryReserveErrorKind {
        self.kind
    }
}

impl fmt::Display for TryReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TryReserveErrorKind::CapacityOverflow => {
                f.write_str("gomap: capacity overflow: the bucket array would be too large")
            }
            TryReserveErrorKind::AllocError { layout } => write!(
                f,
                "gomap: memory allocation of {} bytes (align {}) failed",
                layout.size(),
                layout.align()
            ),
        }
    }
}

impl core::error::Error for TryReserveError {}

/// The error of [`GoMap::insert_fallible`](crate::GoMap::insert_fallible): the memory error, with the key
/// and value handed back. The map is unchanged.
pub struct TryInsertError<K, V> {
    /// Why the insert failed.
    pub error: TryReserveError,
    /// The key that was not inserted.
    pub key: K,
    /// The value that was not inserted.
    pub value: V,
}

impl<K, V> fmt::Debug for TryInsertError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryInsertError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<K, V> fmt::Display for TryInsertError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<K, V> core::error::Error for TryInsertError<K, V> {}

/// The policy of the infallible methods when memory runs out: report through
/// `handle_alloc_error` (which aborts by default), or panic without the `alloc` feature.
#[cold]
#[inline(never)]
pub(crate) fn handle_error(e: TryReserveError) -> ! {
    match e.kind {
        TryReserveErrorKind::CapacityOverflow => panic!("gomap: capacity overflow"),
        #[cfg(feature = "alloc")]
        TryReserveErrorKind::AllocError { layout } => {
            alloc_crate::alloc::handle_alloc_error(layout)
        }
        #[cfg(not(feature = "alloc"))]
        TryReserveErrorKind::AllocError { layout } => {
            panic!("gomap: memory allocation of {} bytes failed", layout.size())
        }
    }
}
