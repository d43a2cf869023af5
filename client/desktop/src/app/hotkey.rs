//! The global push-to-talk key: held anywhere on the desktop, even while
//! Huddle is in the background, it unmutes (through the `global-hotkey`
//! crate: an X11 key grab on Linux, system hotkeys on Windows and macOS).

use global_hotkey::hotkey::{Code, HotKey, Modifiers};
use global_hotkey::{GlobalHotKeyEvent, GlobalHotKeyManager, HotKeyState};
use std::sync::mpsc;
use std::sync::{Mutex, Once};

/// The global key's events go to the one room that registered it. The
/// crate takes a single process-wide handler, set once; this is where it
/// forwards to.
static LISTENER: Mutex<Option<Listener>> = Mutex::new(None);

struct Listener {
    id: u32,
    held: mpsc::Sender<bool>,
    repaint: egui::Context,
}

/// A registered global key; unregistered when dropped (leaving the room).
pub struct GlobalKey {
    manager: GlobalHotKeyManager,
    hotkey: HotKey,
    held: mpsc::Receiver<bool>,
}

impl GlobalKey {
    /// Registers `key` (like "Ctrl+Shift+Space"); `repaint` wakes the UI
    /// when it is pressed or released, as the window may not be focused.
    pub fn register(key: &str, repaint: egui::Context) -> Result<GlobalKey, String> {
        let hotkey = parse(key)?;
        global_keys_available()?;
        let manager =
            GlobalHotKeyManager::new().map_err(|e| format!("Global keys are unavailable: {e}"))?;
        manager.register(hotkey).map_err(|e| match e {
            global_hotkey::Error::AlreadyRegistered(_) => {
                format!("{key} is already taken by another application")
            }
            other => format!("Could not register {key}: {other}"),
        })?;
        static HANDLER: Once = Once::new();
        HANDLER.call_once(|| {
            GlobalHotKeyEvent::set_event_handler(Some(forward));
        });
        let (sender, held) = mpsc::channel();
        *LISTENER.lock().unwrap_or_else(|p| p.into_inner()) = Some(Listener {
            id: hotkey.id(),
            held: sender,
            repaint,
        });
        Ok(GlobalKey {
            manager,
            hotkey,
            held,
        })
    }

    /// Whether the key is held now, if that changed since the last call.
    pub fn held_change(&self) -> Option<bool> {
        self.held.try_iter().last()
    }
}

impl Drop for GlobalKey {
    fn drop(&mut self) {
        let _ = self.manager.unregister(self.hotkey);
        let mut listener = LISTENER.lock().unwrap_or_else(|p| p.into_inner());
        if listener.as_ref().is_some_and(|l| l.id == self.hotkey.id()) {
            *listener = None;
        }
    }
}

fn forward(event: GlobalHotKeyEvent) {
    let listener = LISTENER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(listener) = listener.as_ref().filter(|l| l.id == event.id()) {
        let _ = listener.held.send(event.state() == HotKeyState::Pressed);
        listener.repaint.request_repaint();
    }
}

/// Parses a key like "Ctrl+Shift+Space". A key one types with (Space, a
/// letter) without Ctrl, Alt or Super is refused: grabbing it globally would
/// take it from every other application for the whole call.
pub fn parse(key: &str) -> Result<HotKey, String> {
    let hotkey: HotKey = key
        .parse()
        .map_err(|_| format!("«{key}» is not a key combination like Ctrl+Shift+Space"))?;
    let with_modifier = hotkey
        .mods
        .intersects(Modifiers::CONTROL | Modifiers::ALT | Modifiers::META);
    // F1…F35 ("F" and a number), and keys nobody types with.
    let name = hotkey.key.to_string();
    let function_key = name
        .strip_prefix('F')
        .is_some_and(|n| n.parse::<u8>().is_ok())
        || matches!(hotkey.key, Code::Pause | Code::ScrollLock);
    if with_modifier || function_key {
        Ok(hotkey)
    } else {
        Err(format!(
            "{key} would stop working in every other application: add Ctrl, Alt or Super, or use a function key"
        ))
    }
}

/// Whether this desktop lets an application watch a key globally.
fn global_keys_available() -> Result<(), String> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        if std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t == "wayland") {
            return Err(
                "Wayland does not let applications watch keys globally; hold Space in the Huddle window"
                    .into(),
            );
        }
        // The crate's X11 thread dies silently without a display, and
        // registering then "succeeds"; ask the X server first.
        x11rb::connect(None)
            .map(drop)
            .map_err(|e| format!("Global keys need an X11 display: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn keys_with_a_modifier_or_function_keys_are_accepted() {
        assert!(parse("Ctrl+Shift+Space").is_ok());
        assert!(parse("alt+KeyT").is_ok());
        assert!(parse("F8").is_ok());
    }

    #[test]
    fn typing_keys_alone_are_refused_with_a_reason() {
        let refused = parse("Space").unwrap_err();
        assert!(refused.contains("every other application"), "{refused}");
        assert!(parse("Shift+KeyA").is_err(), "Shift alone still types");
        let garbled = parse("Ctrl+Banana").unwrap_err();
        assert!(garbled.contains("not a key combination"), "{garbled}");
    }
}
