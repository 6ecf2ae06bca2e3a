//! The binary's allocator: mimalloc for small blocks, the system's allocator for large ones.
//!
//! A bundle of thousands of small files makes millions of small allocations on every core;
//! glibc's arenas grow by `mprotect` calls that stall the other cores' page faults, and
//! mimalloc's per-thread heaps do not. Large blocks (a file's bytes, an output, a buffer that
//! grows to hold a 100 MB record) stay with glibc, whose `realloc` of a large block moves its
//! pages (`mremap`) instead of copying them: mimalloc's copy holds the old and the new block
//! at once, and the memory bounds of `tests/bad_input.rs` (a 1 GiB zip entry, a 100 MB text
//! node copied in pieces) no longer held.

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks of this size and larger are the system allocator's.
const LARGE: usize = 1 << 20;

/// Small blocks to mimalloc, large ones to [`System`]; a block's size says whose it is.
pub struct Allocator;

fn large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: every block is allocated, resized and freed by the allocator its size names
// (GlobalAlloc passes the layout it was allocated with to `dealloc` and `realloc`); a block
// whose size crosses `LARGE` in a `realloc` is moved from one allocator to the other.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, passed on.
        unsafe {
            match large(layout.size()) {
                true => System.alloc(layout),
                false => MiMalloc.alloc(layout),
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            match large(layout.size()) {
                true => System.alloc_zeroed(layout),
                false => MiMalloc.alloc_zeroed(layout),
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated with `layout`, so by the allocator its size names.
        unsafe {
            match large(layout.size()) {
                true => System.dealloc(ptr, layout),
                false => MiMalloc.dealloc(ptr, layout),
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` and `layout` as in `dealloc`; a block moved between the allocators is
        // copied up to the smaller size and then freed by its own.
        unsafe {
            match (large(layout.size()), large(new_size)) {
                (true, true) => System.realloc(ptr, layout, new_size),
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                _ => {
                    let new = Layout::from_size_align_unchecked(new_size, layout.align());
                    let moved = self.alloc(new);
                    if !moved.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    moved
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block grown past `LARGE` moves to the system allocator and back when it shrinks,
    /// its bytes kept each way, at the default alignment and a larger one.
    #[test]
    fn a_block_crossing_the_large_size_keeps_its_bytes_both_ways() {
        for align in [8, 4096] {
            let small = Layout::from_size_align(1000, align).unwrap();
            // SAFETY: each pointer is used with the layout it was last allocated or resized to.
            unsafe {
                let p = Allocator.alloc(small);
                assert!(!p.is_null());
                for i in 0..1000 {
                    *p.add(i) = i as u8;
                }
                let p = Allocator.realloc(p, small, 3 * LARGE);
                assert!(!p.is_null() && p.align_offset(align) == 0);
                assert!((0..1000).all(|i| *p.add(i) == i as u8));
                *p.add(3 * LARGE - 1) = 7;
                let big = Layout::from_size_align(3 * LARGE, align).unwrap();
                let p = Allocator.realloc(p, big, 500);
                assert!(!p.is_null() && p.align_offset(align) == 0);
                assert!((0..500).all(|i| *p.add(i) == i as u8));
                Allocator.dealloc(p, Layout::from_size_align(500, align).unwrap());
            }
        }
    }
}
