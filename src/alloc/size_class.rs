//! Go's malloc size classes (`runtime/sizeclasses.go`, Go 1.19–1.21) and `roundupsize`.

/// Objects smaller than this are served from size classes (`_MaxSmallSize`).
pub const MAX_SMALL_SIZE: usize = 32768;
/// Go's page size (`_PageSize`); larger objects are rounded up to a multiple of it.
pub const PAGE_SIZE: usize = 8192;

/// Go's `class_to_size`: the object size of each size class (class 0 is unused).
pub const CLASS_TO_SIZE: [u16; 68] = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320,
    352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
    2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728,
    10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672,
    32768,
];

/// Go's `class_to_allocnpages`: how many 8192-byte pages one span of each size class spans
/// (class 0 is unused). A span of class `c` holds `pages * 8192 / CLASS_TO_SIZE[c]` objects.
pub const CLASS_TO_ALLOCNPAGES: [u8; 68] = [
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8,
    3, 10, 7, 4,
];

/// The alignment every object of size class `c` has in Go's heap: spans start on a page, so
/// an object at `i * size` is aligned to the largest power of two dividing `size`, at most the
/// page size (the "min align" column of Go's size class table). 0 for class 0.
pub const fn class_align(c: usize) -> usize {
    let size = CLASS_TO_SIZE[c] as usize;
    if size == 0 {
        return 0;
    }
    let a = 1usize << size.trailing_zeros();
    if a > PAGE_SIZE {
        PAGE_SIZE
    } else {
        a
    }
}

/// The size class that serves `size` bytes (1..=67), or `None` for a large object (>= 32768
/// bytes, which Go serves with whole pages) or for size 0.
pub const fn size_class(size: usize) -> Option<usize> {
    if size == 0 || size >= MAX_SMALL_SIZE {
        return None;
    }
    // Binary search for the first class whose size is >= size.
    let (mut lo, mut hi) = (1usize, CLASS_TO_SIZE.len() - 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if (CLASS_TO_SIZE[mid] as usize) < size {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

/// Go's `roundupsize(size)`: the size of the memory block Go's heap returns for a request of
/// `size` bytes. Below 32768 that is the smallest size class that fits; above, the next
/// multiple of the 8192-byte page. `None` if rounding up overflows (Go returns `size`
/// unchanged in that case, which its callers then reject).
pub const fn roundupsize(size: usize) -> Option<usize> {
    if size < MAX_SMALL_SIZE {
        return match size_class(size) {
            Some(c) => Some(CLASS_TO_SIZE[c] as usize),
            None => Some(0),
        };
    }
    match size.checked_add(PAGE_SIZE - 1) {
        Some(s) => Some(s & !(PAGE_SIZE - 1)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_sorted_and_rounding_is_minimal() {
        for w in CLASS_TO_SIZE.windows(2) {
            assert!(w[0] < w[1]);
        }
        for size in 1..MAX_SMALL_SIZE {
            let up = roundupsize(size).unwrap();
            assert!(up >= size);
            let c = size_class(size).unwrap();
            assert!((CLASS_TO_SIZE[c - 1] as usize) < size);
            assert_eq!(up, CLASS_TO_SIZE[c] as usize);
        }
        assert_eq!(roundupsize(0), Some(0));
        assert_eq!(roundupsize(32768), Some(32768));
        assert_eq!(roundupsize(32769), Some(40960));
        assert_eq!(roundupsize(usize::MAX), None);
    }
}
