//! Insert: Go's `mapassign`.

use allocator_api2::alloc::Allocator;

use super::{group, KeyOps, RawMap};
use crate::error::TryReserveError;
use crate::layout::*;
use crate::rand::RandSource;

/// Where `assign` put a key: (bucket, slot).
pub(crate) enum Slot {
    /// The key was already present.
    Found(*mut u8, usize),
    /// A new slot: tophash set, `count` incremented, indirect boxes allocated and linked. The
    /// key and elem memory is uninitialized; the caller must write both before anything else
    /// touches the map.
    New(*mut u8, usize),
}

impl<S: KeyOps, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// Go's `mapassign`: with `HASH_WRITING` set, allocate the first bucket if needed, do
    /// `grow_work` while growing, search the whole chain for the key (remembering the first
    /// empty slot), and for a new key start a grow if the map is overloaded or has too many
    /// overflow buckets (then start over), else take the first empty slot or a new overflow
    /// bucket.
    #[inline]
    pub(crate) fn assign(
        &mut self,
        hash: u64,
        mut eq: impl FnMut(&S::K) -> bool,
    ) -> Result<Slot, TryReserveError> {
        let mut g = self.start_write();
        if g.h.buckets.is_null() {
            // Go: h.buckets = newobject(t.bucket); B stays 0.
            g.h.buckets = g.alloc_heap_bucket()?;
        }
        let top = tophash(hash);
        loop {
            let bucket = hash as usize & bucket_mask(g.h.B);
            if g.h.growing() {
                g.grow_work(bucket)?;
            }
            let mut ins: Option<(*mut u8, usize)> = None;
            let lastb;
            // SAFETY: `bucket` indexes the current array (invariant 1); chains are intact
            // (invariant 3); a slot whose tophash equals `top` is live, so its key may be read
            // (invariant 4). The current array holds no evacuated states.
            unsafe {
                let mut b = g.bucket_at(g.h.buckets, bucket);
                loop {
                    let tops = Self::tops(b);
                    // Exactly the slots whose tophash is `top`; none lies past an EMPTY_REST
                    // (every slot from there on is EMPTY_REST), so Go's loop, which stops
                    // there, sees the same ones.
                    let mut cand = group::match_exact(tops, top);
                    while cand != 0 {
                        let i = group::lowest(cand);
                        if eq(&*g.key_ptr(b, i)) {
                            return Ok(Slot::Found(b, i));
                        }
                        cand &= cand - 1;
                    }
                    if ins.is_none() {
                        let e = group::first_empty(tops);
                        if e < BUCKET_CNT {
                            ins = Some((b, e));
                        }
                    }
                    if group::zero_bytes(tops) != 0 {
                        // An EMPTY_REST: nothing further in the chain.
                        lastb = b;
                        break;
                    }
                    let ovf = g.overflow(b);
                    if ovf.is_null() {
                        lastb = b;
                        break;
                    }
                    b = ovf;
                }
            }
            // The key is new. Growth starts only here: a new key, no grow running.
            if !g.h.growing()
                && (over_load_factor(g.h.count + 1, g.h.B)
                    || too_many_overflow_buckets(g.h.noverflow, g.h.B))
            {
                g.hash_grow()?;
                continue; // growing invalidates everything: try again
            }
            let (kb, vb) = g.alloc_indirect()?;
            let (ib, ii) = match ins {
                Some(x) => x,
                // SAFETY: `lastb` is the last bucket of the chain.
                None => match unsafe { g.new_overflow(lastb) } {
                    Ok(nb) => (nb, 0),
                    Err(e) => {
                        // SAFETY: the boxes were just allocated and are referenced by nothing.
                        unsafe { g.free_indirect(kb, vb) };
                        return Err(e);
                    }
                },
            };
            // SAFETY: (ib, ii) is an empty slot of the current array's chain.
            unsafe {
                if g.l().indirect_key {
                    g.key_slot(ib, ii).cast::<*mut u8>().write(kb);
                }
                if g.l().indirect_elem {
                    g.elem_slot(ib, ii).cast::<*mut u8>().write(vb);
                }
                Self::set_top(ib, ii, top);
            }
            g.h.count += 1;
            return Ok(Slot::New(ib, ii));
        }
    }
}
