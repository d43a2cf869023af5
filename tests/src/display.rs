//! A virtual X server (Xvfb) for tests and benchmarks that need a screen, a
//! window of one colour on it, drawn through X11, and a keyboard typed on
//! through XTest.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ChangeWindowAttributesAux, ConnectionExt as _, CreateWindowAux, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;

/// Xvfb on a display of its own; stopped when dropped.
pub struct VirtualDisplay {
    child: Child,
    name: String,
    /// Held open: Xvfb would die of SIGPIPE writing to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl VirtualDisplay {
    /// Starts Xvfb with a screen of `size` (WIDTHxHEIGHTxDEPTH) on a display
    /// number it picks itself, and waits until it accepts.
    pub fn start(size: &str) -> VirtualDisplay {
        // -displayfd: Xvfb takes a free display (its lock file settles races
        // between parallel runs) and writes the number once it listens, so a
        // stale socket or another run's server is never mistaken for ours.
        // -noreset: otherwise the server restarts whenever its last client
        // leaves, and resets connections made meanwhile.
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                size,
                "-nolisten",
                "tcp",
                "-noreset",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (the test command installs the xvfb package)");
        // Read on a thread of its own, so an Xvfb that never answers fails
        // the test after 10 s instead of hanging it.
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let (said, line) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut number = String::new();
            let read = stdout.read_line(&mut number);
            let _ = said.send((
                read.ok().and_then(|_| number.trim().parse::<u32>().ok()),
                stdout,
            ));
        });
        let (number, stdout) = match line.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok((Some(number), stdout)) => (number, stdout),
            other => {
                let _ = child.kill();
                let said = other.map(|(number, _)| number);
                panic!(
                    "Xvfb did not say which display it took ({said:?}): {:?}",
                    child.wait()
                );
            }
        };
        let display = VirtualDisplay {
            child,
            name: format!(":{number}"),
            _stdout: stdout,
        };
        if let Err(err) = x11rb::connect(Some(&display.name)) {
            panic!("Xvfb took {} but does not answer: {err}", display.name);
        }
        display
    }

    /// The `DISPLAY` value, like `:207`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes this the display of the whole process (`DISPLAY`, and no Wayland),
    /// for code that finds its display in the environment.
    ///
    /// # Safety
    /// Call before the process starts any other thread (see [`std::env::set_var`]).
    pub unsafe fn make_default(&self) {
        // SAFETY: the caller guarantees no other thread runs yet.
        unsafe {
            std::env::set_var("DISPLAY", &self.name);
            std::env::remove_var("WAYLAND_DISPLAY");
            std::env::remove_var("XDG_SESSION_TYPE");
        }
    }

    /// A window filling the screen in one colour, open while the returned
    /// connection lives.
    pub fn coloured_window(&self, colour: (u8, u8, u8)) -> RustConnection {
        coloured_window(&self.name, colour).0
    }
}

/// A window filling the screen of `display` in one colour: the connection
/// (the window lives as long as it) and the window, to recolour it.
pub fn coloured_window(display: &str, colour: (u8, u8, u8)) -> (RustConnection, Window) {
    let (conn, screen) = x11rb::connect(Some(display)).expect("the X server answers");
    let root = &conn.setup().roots[screen];
    let window = conn.generate_id().unwrap();
    conn.create_window(
        root.root_depth,
        window,
        root.root,
        0,
        0,
        root.width_in_pixels,
        root.height_in_pixels,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(pixel(colour)),
    )
    .unwrap();
    conn.map_window(window).unwrap();
    // A round trip: the window is painted before anyone captures.
    conn.get_input_focus().unwrap().reply().unwrap();
    (conn, window)
}

/// Paints `window` all in `colour` (and waits until the server has).
pub fn recolour(conn: &RustConnection, window: Window, colour: (u8, u8, u8)) {
    let aux = ChangeWindowAttributesAux::new().background_pixel(pixel(colour));
    conn.change_window_attributes(window, &aux).unwrap();
    conn.clear_area(false, window, 0, 0, 0, 0).unwrap();
    conn.get_input_focus().unwrap().reply().unwrap();
}

/// X keysyms of the keys tests press.
pub mod keysym {
    pub const CONTROL_L: u32 = 0xffe3;
    pub const SHIFT_L: u32 = 0xffe1;
    pub const SPACE: u32 = 0x0020;
}

/// Keys and pointer moves injected into the X server (XTest), as a user's
/// keyboard and mouse would make them: every application sees them.
pub struct FakeInput {
    conn: RustConnection,
    root: Window,
}

impl FakeInput {
    pub fn connect(display: &str) -> FakeInput {
        let (conn, screen) = x11rb::connect(Some(display)).expect("the X server answers");
        let root = conn.setup().roots[screen].root;
        FakeInput { conn, root }
    }

    /// Moves the pointer to `(x, y)` on the screen.
    pub fn move_pointer(&self, x: i16, y: i16) {
        use x11rb::protocol::xtest::ConnectionExt as _;
        self.conn
            .xtest_fake_input(
                x11rb::protocol::xproto::MOTION_NOTIFY_EVENT,
                0,
                0,
                self.root,
                x,
                y,
                0,
            )
            .unwrap();
        self.conn.get_input_focus().unwrap().reply().unwrap();
    }

    /// Presses `keys` (keysyms) in order and holds them.
    pub fn press(&self, keys: &[u32]) {
        for &key in keys {
            self.fake(x11rb::protocol::xproto::KEY_PRESS_EVENT, key);
        }
    }

    /// Releases `keys` in reverse order.
    pub fn release(&self, keys: &[u32]) {
        for &key in keys.iter().rev() {
            self.fake(x11rb::protocol::xproto::KEY_RELEASE_EVENT, key);
        }
    }

    fn fake(&self, event: u8, key: u32) {
        use x11rb::protocol::xtest::ConnectionExt as _;
        let code = self.keycode(key);
        self.conn
            .xtest_fake_input(event, code, 0, self.root, 0, 0, 0)
            .unwrap();
        // A round trip: the server has handled the key when this returns.
        self.conn.get_input_focus().unwrap().reply().unwrap();
    }

    /// The keycode the server's keymap gives `keysym`.
    fn keycode(&self, keysym: u32) -> u8 {
        let setup = self.conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let map = self
            .conn
            .get_keyboard_mapping(min, max - min + 1)
            .unwrap()
            .reply()
            .unwrap();
        let per = map.keysyms_per_keycode as usize;
        let index = map
            .keysyms
            .chunks(per)
            .position(|syms| syms.contains(&keysym))
            .unwrap_or_else(|| panic!("no key for keysym {keysym:#x}"));
        min + index as u8
    }
}

fn pixel((r, g, b): (u8, u8, u8)) -> u32 {
    (r as u32) << 16 | (g as u32) << 8 | b as u32
}

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
