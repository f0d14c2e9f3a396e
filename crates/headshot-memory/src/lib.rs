//! The process's memory, as glibc's allocator keeps it.
//!
//! glibc's malloc hands memory back to the system reluctantly, and two of its habits made
//! headshot's resident memory much larger than what it had allocated (a 24 MP photo through
//! every use, on one core: 193 MB of heap at its peak, 326 MB resident):
//! - Each thread that allocates while another does gets an arena of its own, up to eight per
//!   core, and memory freed in one arena serves only that arena's threads.
//! - Freed memory inside an arena stays resident until the arena's top is free. A photo's big
//!   steps (the decoded photo, the matting model's activations, the renders) leave holes below
//!   whatever was allocated after them, which the next step, asking for other sizes, rarely
//!   fills.
//!
//! `limit_arenas` bounds the arenas by the cores at start-up, and `hand_back` returns the free
//! pages after a step that freed a lot. The runs that only report on their photos go the other
//! way (`keep_freed_memory`): their buffers are small, and reusing them saves the page faults.
//! Off glibc all three do nothing: other allocators (musl's, macOS', Windows') keep no such
//! reserves.

/// Limits malloc to one arena per core the process may use (glibc's default allows eight per
/// core; the threads that share an arena take turns at its lock, which with one arena per core
/// they seldom wait for). Call once, at start-up, before threads are started.
pub fn limit_arenas() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    imp::limit_arenas(i32::try_from(cores).unwrap_or(i32::MAX));
}

/// For a run that only reports on its photos and then ends (`analyze`, `eval`): keeps the
/// buffers a photo frees for the next photo, rather than handing them back to the kernel to be
/// asked for, and zeroed page by page, again. glibc serves every block over its mmap threshold
/// (128 KiB at first, raised to each such block freed) with a mapping of its own, unmapped when
/// freed, and returns the free top of the heap over its trim threshold (twice the mmap one): a
/// photo's decoded copy, its analysis copy and its mattes, tens of megabytes, came as fresh
/// pages every time. Here blocks up to 32 MiB (the largest mmap threshold glibc accepts) come
/// from the heap, and up to 128 MiB of its free top is kept. On one core, 6 photos of 12 MP:
/// `analyze` 65,000-87,000 page faults -> 25,000 and 1.48-1.54 s -> 1.34-1.38 s, peak resident
/// 111-115 -> 123-125 MiB. The studio gained 2 % from it, and its peak at 24 MP rose by up to
/// 18 MiB (its renders are kept as well): it, the server and the worker keep glibc's defaults.
pub fn keep_freed_memory() {
    imp::keep_freed_memory();
}

/// Hands the allocator's free pages back to the system (`malloc_trim`): all of them, in every
/// arena, not only those at an arena's top. It walks the arenas, taking each one's lock in turn,
/// and costs about a millisecond; call it where a step has just freed tens of megabytes (a
/// photo's matte made, a photo's outputs written), not in inner loops.
pub fn hand_back() {
    imp::hand_back();
}

/// Asks the kernel to reclaim the pages that lie wholly within `data` (Linux's
/// `MADV_PAGEOUT`), for data read once and not again soon, such as a model's file embedded in the
/// binary after its plan is made: those pages are read from the binary's file again if touched.
/// The data's content is unchanged whatever memory it is in (anonymous memory is swapped out,
/// or kept where there is no swap); the call is advice, and a kernel without it ignores it.
pub fn page_out(data: &[u8]) {
    #[cfg(target_os = "linux")]
    {
        // Whole pages only: the page size of every Linux target is a power of two.
        // SAFETY: sysconf reads a constant of the system.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096).max(1);
        let start = (data.as_ptr() as usize).next_multiple_of(page);
        let end = (data.as_ptr() as usize + data.len()) / page * page;
        if end > start {
            // SAFETY: [start, end) lies within `data`, which is mapped for as long as the
            // borrow lasts; MADV_PAGEOUT never changes the content of the pages it reclaims (they
            // are written to swap or dropped only where the file holds them), so no memory the
            // program can see changes. An error (an old kernel) leaves the pages as they were.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = data;
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    pub(super) fn limit_arenas(n: i32) {
        // SAFETY: mallopt takes two integers and changes a setting of the allocator, under its
        // own lock; M_ARENA_MAX with any positive value is valid, and a refusal (0) only leaves
        // glibc's default, which is what would happen without the call.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, n.max(1));
        }
    }

    pub(super) fn keep_freed_memory() {
        // SAFETY: as in `limit_arenas`: mallopt changes two settings under the allocator's lock;
        // 32 MiB is the largest mmap threshold glibc accepts on 64-bit targets (a refusal leaves
        // the default, as without the call), and any trim threshold is valid.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
        }
    }

    pub(super) fn hand_back() {
        // SAFETY: malloc_trim takes a size and only releases pages the allocator holds free,
        // under each arena's lock; no memory the program uses is touched.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub(super) fn limit_arenas(_: i32) {}
    pub(super) fn keep_freed_memory() {}
    pub(super) fn hand_back() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paging data out never changes it, in the binary's data or on the heap (where a
    /// destructive advice such as MADV_DONTNEED would read back zeros), whole pages and ragged
    /// ends alike; handing free memory back leaves what is still allocated as it was; and memory
    /// kept for reuse still comes back zeroed where zeroes are asked for.
    #[test]
    fn the_memory_advice_never_changes_what_the_program_reads() {
        static EMBEDDED: [u8; 3 * 4096 + 123] = {
            let mut a = [0u8; 3 * 4096 + 123];
            let mut i = 0;
            while i < a.len() {
                a[i] = (i * 31 % 251) as u8;
                i += 1;
            }
            a
        };
        let heap: Vec<u8> = (0..5 * 4096 + 77).map(|i| (i * 17 % 253) as u8).collect();
        let expected = heap.clone();
        page_out(&EMBEDDED);
        page_out(&heap[1..]);
        limit_arenas();
        drop(vec![1u8; 64 << 20]);
        keep_freed_memory();
        drop((0..20 << 20).map(|i| (i % 241) as u8 + 1).collect::<Vec<u8>>());
        assert!(vec![0u8; 20 << 20].iter().all(|&v| v == 0));
        hand_back();
        assert!(EMBEDDED.iter().enumerate().all(|(i, &v)| v == (i * 31 % 251) as u8));
        assert_eq!(heap, expected);
    }
}
