//! What the backend makes of the app's choices.

use super::*;

#[test]
fn the_relay_only_setting_reaches_the_call() {
    let api = ApiClient::new("http://127.0.0.1:1").unwrap();
    let mut choice = MediaChoice {
        camera: false,
        video: super::super::settings::VideoQuality::default(),
        voice_processing: Default::default(),
        start_muted: true,
        start_camera_off: true,
        reconnect_for: std::time::Duration::from_secs(1),
        relay_only: false,
    };
    let policy = |choice: &MediaChoice| call_options(&api, MeetingId(1), choice, None).ice_policy;
    assert_eq!(policy(&choice), IcePolicy::All);
    choice.relay_only = true;
    assert_eq!(policy(&choice), IcePolicy::RelayOnly);
}
