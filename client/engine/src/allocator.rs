//! glibc's allocator, tuned for a process that makes and ends calls: each
//! call starts threads (a sender per source, a decoder per remote video),
//! and glibc gives new threads arenas of their own that keep what was freed
//! in them. Fifty joins and leaves grew a process by 50 MB that way; with
//! two arenas and big buffers mapped and unmapped on their own, by 2 MB
//! (`tests/tests/call_lifecycle.rs`). The binaries call this first thing,
//! before any thread starts.

/// Frames (hundreds of KiB each) are mapped and given back on their own:
/// glibc otherwise raises this threshold after such frees and keeps them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;
/// Arenas shared by all threads: the encoders and decoders allocate their
/// big buffers by mmap (above), so little contends for these.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

/// Applies the tuning; a no-op where the allocator is not glibc's.
pub fn keep_memory_small() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}
