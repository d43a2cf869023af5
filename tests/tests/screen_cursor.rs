//! The mouse pointer is drawn into a shared screen where it is: under Xvfb,
//! a screen of one colour is captured through the X11 path with the pointer
//! moved (XTest) to one corner, then the other. One test per process: it
//! sets `DISPLAY`.

use huddle_devices::screen::{ScreenCapture, list_sources};
use huddle_engine::media::frame::VideoFrame;
use huddle_tests::display::{FakeInput, VirtualDisplay};

const MAGENTA: (u8, u8, u8) = (230, 30, 220);

#[test]
fn the_pointer_is_drawn_into_the_shared_screen_where_it_is() {
    let display = VirtualDisplay::start("800x600x24");
    let _window = display.coloured_window(MAGENTA);
    // SAFETY: no other thread of this process exists yet.
    unsafe { display.make_default() };
    let screen = list_sources().unwrap().remove(0);
    let mut capture = ScreenCapture::open(screen.target, 10.0).unwrap();
    let mouse = FakeInput::connect(display.name());

    mouse.move_pointer(200, 150);
    let frame = capture.next_frame().unwrap();
    assert!(pointer_near(&frame, 200, 150), "the pointer at (200, 150)");
    assert!(!pointer_near(&frame, 600, 450), "nothing at (600, 450)");

    mouse.move_pointer(600, 450);
    let frame = capture.next_frame().unwrap();
    assert!(
        pointer_near(&frame, 600, 450),
        "the pointer moved to (600, 450)"
    );
    assert!(!pointer_near(&frame, 200, 150), "and left (200, 150)");
}

/// Whether pixels within 16 of `(x, y)` are far from the background colour
/// (the cursor is drawn around its hot spot).
fn pointer_near(frame: &VideoFrame, x: usize, y: usize) -> bool {
    let rgba = frame.to_rgba();
    let far = |i: usize| {
        let (r, g, b) = (rgba[i], rgba[i + 1], rgba[i + 2]);
        r.abs_diff(MAGENTA.0) as u32 + g.abs_diff(MAGENTA.1) as u32 + b.abs_diff(MAGENTA.2) as u32
            > 120
    };
    let rows = y.saturating_sub(16)..(y + 16).min(frame.height);
    rows.flat_map(|row| {
        (x.saturating_sub(16)..(x + 16).min(frame.width)).map(move |col| (row, col))
    })
    .filter(|&(row, col)| far((row * frame.width + col) * 4))
    .count()
        >= 10
}
