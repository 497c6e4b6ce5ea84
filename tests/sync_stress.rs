//! Correct use never trips `CheckedMap`'s detector: many threads, 10^6 operations, every
//! writer holding an external lock (readers hold its shared side, or run in phases where
//! nobody writes). A false positive would abort this test binary.
//!
//! The operations are also checked: a model `HashMap` is updated under the same write lock,
//! so a read under the shared lock must see exactly what the model holds.

use std::collections::HashMap;
use std::sync::{Barrier, Mutex, RwLock};
use std::thread;

use gomap::sync::CheckedMap;

/// xorshift64*: a small deterministic generator per thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn a_million_correctly_synchronized_operations() {
    let threads = if cfg!(miri) { 3 } else { 8 };
    let total: usize = if cfg!(miri) { 600 } else { 1_000_000 };
    let per_thread = total / threads;
    let keys = if cfg!(miri) { 16 } else { 1024 };

    let m: CheckedMap<u64, u64> = CheckedMap::new();
    let lock = RwLock::new(());
    let model: Mutex<HashMap<u64, u64>> = Mutex::new(HashMap::new());
    let unlocked_phase = Barrier::new(threads);
    let mut counts = vec![];

    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (m, lock, model, phase) = (&m, &lock, &model, &unlocked_phase);
                s.spawn(move || {
                    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1));
                    let (mut reads, mut writes) = (0usize, 0usize);
                    for i in 0..per_thread {
                        if i == per_thread / 2 {
                            // A phase without writers: every thread reads at once, without
                            // the lock (more readers than the detector has slots for).
                            phase.wait();
                            for _ in 0..per_thread / 10 {
                                let k = rng.next() % keys;
                                let _ = m.get(&k);
                                reads += 1;
                            }
                            phase.wait();
                        }
                        let r = rng.next();
                        let k = r % keys;
                        if (r >> 32) % 100 < 70 {
                            let _shared = lock.read().unwrap();
                            let want = model.lock().unwrap().get(&k).copied();
                            match (r >> 40) % 4 {
                                0 => assert_eq!(m.get(&k), want),
                                1 => assert_eq!(m.contains_key(&k), want.is_some()),
                                2 => assert_eq!(m.len(), model.lock().unwrap().len()),
                                _ => {
                                    // Visit a few entries.
                                    let mut n = 0;
                                    m.range(|k, v| {
                                        assert_eq!(model.lock().unwrap().get(k), Some(v));
                                        n += 1;
                                        n < 4
                                    });
                                }
                            }
                            reads += 1;
                        } else {
                            let _exclusive = lock.write().unwrap();
                            let mut model = model.lock().unwrap();
                            match (r >> 40) % 8 {
                                0..=4 => assert_eq!(m.insert(k, r), model.insert(k, r)),
                                5 | 6 => assert_eq!(m.remove(&k), model.remove(&k)),
                                _ => {
                                    m.retain(|k, _| k % 7 != 0);
                                    model.retain(|k, _| k % 7 != 0);
                                }
                            }
                            writes += 1;
                        }
                    }
                    (reads, writes)
                })
            })
            .collect();
        for h in handles {
            counts.push(h.join().unwrap());
        }
    });

    let reads: usize = counts.iter().map(|c| c.0).sum();
    let writes: usize = counts.iter().map(|c| c.1).sum();
    assert!(reads + writes >= total, "{reads} + {writes}");
    assert!(writes > total / 5, "writes happened: {writes}");
    let model = model.into_inner().unwrap();
    let mut got: Vec<_> = m.into_inner().into_iter().collect();
    let mut want: Vec<_> = model.into_iter().collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}
