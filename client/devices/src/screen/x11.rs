//! Screen capture on X11 through x11rb: the whole screen (the root window) or
//! one window, through shared memory (MIT-SHM) where the server offers it and
//! GetImage otherwise, the cursor drawn in from XFixes, converted to I420.
//! Needs a 24/32-bit TrueColor display, which is what X servers use.

use super::x11_shm::ShmSegment;
use super::{ScreenError, ScreenSourceInfo, ScreenTarget};
use huddle_engine::media::convert::{self, PixelFormat};
use huddle_engine::media::frame::VideoFrame;
use std::sync::Mutex;
use x11rb::connection::Connection;
use x11rb::protocol::xfixes::ConnectionExt as _;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, ImageFormat, MapState, Window};
use x11rb::rust_connection::RustConnection;

/// Thumbnails in the picker are this wide.
const THUMBNAIL_WIDTH: usize = 160;

/// An open X display to capture from.
pub struct X11Display {
    conn: RustConnection,
    root: Window,
    /// XFixes answers: the cursor can be drawn in.
    cursor: bool,
    /// The server offers MIT-SHM.
    shm_supported: bool,
    /// The shared segment captures go through, grown to the largest capture.
    shm: Mutex<Option<ShmSegment>>,
}

impl Drop for X11Display {
    fn drop(&mut self) {
        if let Some(segment) = self.shm.get_mut().ok().and_then(Option::take) {
            segment.release(&self.conn);
        }
    }
}

impl X11Display {
    /// Connects to `$DISPLAY`.
    pub fn open() -> Result<X11Display, ScreenError> {
        let (conn, screen) = x11rb::connect(None)
            .map_err(|e| ScreenError::Unavailable(format!("cannot open the X display: {e}")))?;
        let setup = conn.setup();
        let root_screen = &setup.roots[screen];
        let bits = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == root_screen.root_depth)
            .map(|f| f.bits_per_pixel);
        if root_screen.root_depth < 24 || bits != Some(32) {
            return Err(ScreenError::Unavailable(format!(
                "the X display has {} bits per pixel at depth {}; only 24/32-bit colour can be captured",
                bits.unwrap_or(0),
                root_screen.root_depth
            )));
        }
        let root = root_screen.root;
        // XFixes 4+ gives the cursor image; without it the cursor is left out.
        let cursor = conn
            .xfixes_query_version(4, 0)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some();
        let shm_supported = ShmSegment::supported(&conn);
        Ok(X11Display {
            conn,
            root,
            cursor,
            shm_supported,
            shm: Mutex::new(None),
        })
    }

    /// The whole screen and every visible, titled top-level window.
    pub fn sources(&self) -> Result<Vec<ScreenSourceInfo>, ScreenError> {
        let mut sources = vec![ScreenSourceInfo {
            target: ScreenTarget::X11Window(self.root),
            title: "Entire screen".into(),
            thumbnail: self.thumbnail(self.root),
        }];
        for window in self.top_level_windows()? {
            let Some(title) = self.title(window) else {
                continue;
            };
            sources.push(ScreenSourceInfo {
                target: ScreenTarget::X11Window(window),
                thumbnail: self.thumbnail(window),
                title,
            });
        }
        Ok(sources)
    }

    /// One picture of a window (the root is the whole screen), cursor included.
    pub fn grab(&self, window: Window) -> Result<VideoFrame, ScreenError> {
        let gone = |e: &dyn std::fmt::Display| {
            ScreenError::Lost(format!("the shared window is gone or hidden: {e}"))
        };
        let geometry = self
            .conn
            .get_geometry(window)
            .map_err(|e| gone(&e))?
            .reply()
            .map_err(|e| gone(&e))?;
        let (width, height) = (geometry.width as usize, geometry.height as usize);
        let mut bgrx = match self.grab_shared(window, geometry.width, geometry.height) {
            Some(pixels) => pixels,
            None => {
                self.conn
                    .get_image(
                        ImageFormat::Z_PIXMAP,
                        window,
                        0,
                        0,
                        geometry.width,
                        geometry.height,
                        !0,
                    )
                    .map_err(|e| gone(&e))?
                    .reply()
                    .map_err(|e| gone(&e))?
                    .data
            }
        };
        if self.cursor {
            self.draw_cursor(window, &mut bgrx, width, height);
        }
        convert::to_i420(PixelFormat::Bgrx, width, height, &bgrx)
            .map_err(|e| ScreenError::Lost(format!("an unusable picture of the screen: {e}")))
    }

    /// The window's pixels through shared memory; `None` to fall back to GetImage.
    fn grab_shared(&self, window: Window, width: u16, height: u16) -> Option<Vec<u8>> {
        if !self.shm_supported {
            return None;
        }
        let needed = width as usize * height as usize * 4;
        let mut slot = self.shm.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|s| s.size() < needed) {
            if let Some(old) = slot.take() {
                old.release(&self.conn);
            }
            *slot = ShmSegment::new(&self.conn, needed);
        }
        let pixels = slot.as_mut()?.grab(&self.conn, window, width, height);
        match pixels {
            Ok(pixels) => Some(pixels.to_vec()),
            Err(err) => {
                tracing::debug!("shared-memory capture failed, using GetImage: {err}");
                None
            }
        }
    }

    /// Blends the pointer's image in, where it is over `window`.
    fn draw_cursor(&self, window: Window, bgrx: &mut [u8], width: usize, height: usize) {
        let Some(cursor) = self
            .conn
            .xfixes_get_cursor_image()
            .ok()
            .and_then(|c| c.reply().ok())
        else {
            return;
        };
        // The cursor's position is in root coordinates.
        let origin = if window == self.root {
            (0, 0)
        } else {
            match self
                .conn
                .translate_coordinates(window, self.root, 0, 0)
                .ok()
                .and_then(|c| c.reply().ok())
            {
                Some(t) => (t.dst_x as i32, t.dst_y as i32),
                None => return,
            }
        };
        let left = cursor.x as i32 - cursor.xhot as i32 - origin.0;
        let top = cursor.y as i32 - cursor.yhot as i32 - origin.1;
        for row in 0..cursor.height as i32 {
            for col in 0..cursor.width as i32 {
                let (x, y) = (left + col, top + row);
                if x < 0 || y < 0 || x >= width as i32 || y >= height as i32 {
                    continue;
                }
                // Premultiplied ARGB, one u32 per pixel.
                let argb = cursor.cursor_image[(row * cursor.width as i32 + col) as usize];
                let alpha = argb >> 24;
                if alpha == 0 {
                    continue;
                }
                let at = (y as usize * width + x as usize) * 4;
                for (channel, shift) in [(0, 0), (1, 8), (2, 16)] {
                    let source = (argb >> shift) & 0xff;
                    let under = bgrx[at + channel] as u32;
                    bgrx[at + channel] = (source + under * (255 - alpha) / 255).min(255) as u8;
                }
            }
        }
    }

    /// A small picture of a window for the picker; `None` if it cannot be read.
    fn thumbnail(&self, window: Window) -> Option<VideoFrame> {
        let frame = self.grab(window).ok()?;
        let height = (frame.height * THUMBNAIL_WIDTH / frame.width.max(1)).max(2);
        huddle_engine::media::scale::FrameScaler::new(
            huddle_engine::media::scale::ScaleQuality::Fast,
        )
        .shrink_to_fit(&frame, THUMBNAIL_WIDTH, height)
        .or(Some(frame))
    }

    /// Top-level windows: the window manager's list (EWMH), else the root's
    /// mapped children (a bare X server has no window manager).
    fn top_level_windows(&self) -> Result<Vec<Window>, ScreenError> {
        let failed = |e: &dyn std::fmt::Display| {
            ScreenError::Unavailable(format!("cannot list the windows: {e}"))
        };
        if let Some(atom) = self.atom(b"_NET_CLIENT_LIST")
            && let Some(list) = self
                .conn
                .get_property(false, self.root, atom, AtomEnum::WINDOW, 0, u32::MAX)
                .ok()
                .and_then(|c| c.reply().ok())
                .and_then(|reply| reply.value32().map(|v| v.collect::<Vec<_>>()))
            && !list.is_empty()
        {
            return Ok(list);
        }
        let tree = self
            .conn
            .query_tree(self.root)
            .map_err(|e| failed(&e))?
            .reply()
            .map_err(|e| failed(&e))?;
        Ok(tree
            .children
            .into_iter()
            .filter(|&w| {
                self.conn
                    .get_window_attributes(w)
                    .ok()
                    .and_then(|c| c.reply().ok())
                    .is_some_and(|a| a.map_state == MapState::VIEWABLE)
            })
            .collect())
    }

    /// `_NET_WM_NAME` (UTF-8), else `WM_NAME`.
    fn title(&self, window: Window) -> Option<String> {
        let utf8 = self.atom(b"UTF8_STRING");
        let net_name = self.atom(b"_NET_WM_NAME");
        let read = |property: u32, kind: u32| {
            self.conn
                .get_property(false, window, property, kind, 0, 1024)
                .ok()?
                .reply()
                .ok()
                .map(|r| String::from_utf8_lossy(&r.value).into_owned())
                .filter(|t| !t.trim().is_empty())
        };
        net_name
            .zip(utf8)
            .and_then(|(name, utf8)| read(name, utf8))
            .or_else(|| read(AtomEnum::WM_NAME.into(), AtomEnum::STRING.into()))
    }

    fn atom(&self, name: &[u8]) -> Option<u32> {
        let reply = self.conn.intern_atom(true, name).ok()?.reply().ok()?;
        (reply.atom != u32::from(AtomEnum::NONE)).then_some(reply.atom)
    }
}
