//! MIT-SHM for X11 capture: the X server writes the picture straight into
//! memory shared with us, instead of sending megabytes through its socket.

use x11rb::connection::{Connection, RequestConnection as _};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

/// A System V shared-memory segment attached to the X server.
pub struct ShmSegment {
    seg: shm::Seg,
    addr: *mut u8,
    size: usize,
}

// SAFETY: the mapping is owned by this value alone; it is read only through
// `&mut self` (one capture at a time) and unmapped on drop.
unsafe impl Send for ShmSegment {}

impl ShmSegment {
    /// Whether the X server offers MIT-SHM.
    pub fn supported(conn: &RustConnection) -> bool {
        conn.extension_information(shm::X11_EXTENSION_NAME)
            .ok()
            .flatten()
            .is_some()
            && conn
                .shm_query_version()
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some()
    }

    /// A segment of `size` bytes, shared with the X server; `None` if the
    /// system or the server will not (then plain GetImage is used).
    pub fn new(conn: &RustConnection, size: usize) -> Option<ShmSegment> {
        // SAFETY: plain System V calls; every failure is checked and undone.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, size, libc::IPC_CREAT | 0o600) };
        if id < 0 {
            return None;
        }
        let addr = unsafe { libc::shmat(id, std::ptr::null(), 0) };
        let attached = addr as isize != -1;
        let seg = conn.generate_id().ok();
        let shared = attached
            && seg.is_some_and(|seg| {
                conn.shm_attach(seg, id as u32, false)
                    .ok()
                    .and_then(|c| c.check().ok())
                    .is_some()
            });
        // Removed once both sides detach (or now, if attaching failed).
        unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
        if !shared {
            if attached {
                unsafe { libc::shmdt(addr) };
            }
            return None;
        }
        Some(ShmSegment {
            seg: seg.expect("checked above"),
            addr: addr.cast(),
            size,
        })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// The window's pixels (32 bits each), `width` × `height` from its origin.
    pub fn grab(
        &mut self,
        conn: &RustConnection,
        window: Window,
        width: u16,
        height: u16,
    ) -> Result<&[u8], String> {
        let bytes = width as usize * height as usize * 4;
        if bytes > self.size {
            return Err("the segment is too small".into());
        }
        conn.shm_get_image(
            window,
            0,
            0,
            width,
            height,
            !0,
            ImageFormat::Z_PIXMAP.into(),
            self.seg,
            0,
        )
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?;
        // SAFETY: the server has written `bytes` (≤ size) bytes and replied.
        Ok(unsafe { std::slice::from_raw_parts(self.addr, bytes) })
    }

    /// Detaches from the server and unmaps.
    pub fn release(self, conn: &RustConnection) {
        let _ = conn.shm_detach(self.seg);
        let _ = conn.flush();
        // SAFETY: `addr` came from shmat and is not used after this.
        unsafe { libc::shmdt(self.addr.cast()) };
    }
}
