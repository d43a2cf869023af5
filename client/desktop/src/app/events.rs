//! How the app takes what background work and the call report: logins,
//! meetings, devices and shares opened, and the room's events.

use super::backend::BackendEvent;
use super::room::RoomState;
use super::room_audio::RoomAudio;
use super::settings::SoundInput;
use super::{HuddleApp, Intent, Screen, share_picker};
use huddle_engine::call::{CallEvent, Command};

/// Said on the login form when the server stopped accepting the login.
const LOGIN_LOST: &str = "Your login has ended (it expired or was revoked). Log in again.";

impl HuddleApp {
    /// Takes what the background work reported.
    pub(super) fn drain_events(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            match event {
                BackendEvent::LoggedIn { api, login } => {
                    self.busy = false;
                    self.status = None;
                    self.settings.token = Some(login.token.clone());
                    self.user = Some(login.user);
                    self.backend.load_meetings(api.clone());
                    self.api = Some(api);
                    self.screen = Screen::Dashboard;
                }
                BackendEvent::LoginFailed(message) => {
                    self.busy = false;
                    // A stored login that no longer works is forgotten.
                    self.settings.token = None;
                    self.status = Some(message);
                }
                BackendEvent::ServerInfo { server, info } => {
                    self.server_info = info.map(|info| (server, info));
                }
                BackendEvent::Renamed(user) => {
                    self.status = None;
                    self.name_draft = user.name.clone();
                    self.user = Some(user);
                }
                BackendEvent::RenameFailed(message) => self.status = Some(message),
                BackendEvent::ScreenSources(sources) => {
                    if let Some(room) = self.room.as_mut() {
                        room.share_picker = Some(share_picker::SharePicker::new(sources));
                    }
                }
                BackendEvent::ScreenOpened(result) => match result {
                    Ok(capture) => self.start_sharing(capture),
                    Err(problem) => {
                        if let Some(picker) =
                            self.room.as_mut().and_then(|r| r.share_picker.as_mut())
                        {
                            picker.problem = Some(problem);
                        }
                    }
                },
                BackendEvent::ComputerSoundOpened(result) => {
                    // Only while still sharing.
                    if let Some(room) = self.room.as_mut().filter(|r| r.sharing) {
                        match result {
                            Ok(sound) => room
                                .commander
                                .send(Command::ShareComputerSound(Some(Box::new(sound)))),
                            Err(problem) => room.toast(format!(
                                "The computer's sound cannot be shared: {problem}."
                            )),
                        }
                    }
                }
                BackendEvent::CameraOpened { name, result } => {
                    // Only if the pre-join screen still wants that camera.
                    if let Some(prejoin) = self.prejoin.as_mut()
                        && prejoin.camera.label() == name
                    {
                        match result {
                            Ok(camera) => prejoin.camera_source = Some(camera),
                            Err(problem) => prejoin.camera_problem = Some(problem),
                        }
                    }
                }
                BackendEvent::MicrophoneOpened { choice, result } => {
                    // Only if the pre-join screen or the room still wants that microphone.
                    if let Some(sound) = self.prejoin.as_mut().map(|p| &mut p.sound)
                        && sound.microphone == Some(SoundInput::Device(choice.clone()))
                    {
                        match result {
                            Ok(microphone) => sound.microphone_source = Some(microphone),
                            Err(problem) => sound.microphone_problem = Some(problem),
                        }
                    } else if let Some(room) = self.room.as_mut()
                        && room.audio.opening_microphone.as_ref() == Some(&choice)
                    {
                        room.audio.opening_microphone = None;
                        match result {
                            Ok(microphone) => {
                                room.commander
                                    .send(Command::UseMicrophone(Box::new(microphone)));
                                room.audio.microphone = SoundInput::Device(choice);
                                self.settings.microphone = room.audio.microphone.clone();
                            }
                            Err(problem) => room.toast(format!(
                                "{problem}. Still using {}.",
                                room.audio.microphone.label()
                            )),
                        }
                    }
                }
                BackendEvent::SpeakerOpened { choice, result } => {
                    if let Some(sound) = self.prejoin.as_mut().map(|p| &mut p.sound)
                        && sound.speaker == Some(choice.clone())
                    {
                        match result {
                            Ok(speaker) => sound.speaker_source = Some(speaker),
                            Err(problem) => sound.speaker_problem = Some(problem),
                        }
                    } else if let Some(room) = self.room.as_mut()
                        && room.audio.opening_speaker.as_ref() == Some(&choice)
                    {
                        room.audio.opening_speaker = None;
                        match result {
                            Ok(speaker) => {
                                room.commander
                                    .send(Command::UseSpeaker(Some(Box::new(speaker))));
                                room.audio.speaker = Some(choice);
                                self.settings.speaker = room.audio.speaker.clone();
                            }
                            Err(problem) => {
                                room.toast(format!("{problem}. The speaker stays as it was."))
                            }
                        }
                    }
                }
                BackendEvent::Meetings(meetings) => {
                    self.meetings = meetings;
                    if let Some(wanted) = self.auto_join.take() {
                        match self
                            .meetings
                            .iter()
                            .find(|m| m.title == wanted || m.id.to_string() == wanted)
                        {
                            // A desktop shortcut or link drops the user straight into the meeting.
                            Some(meeting) => {
                                self.apply(Intent::Join(meeting.id));
                                self.apply(Intent::JoinNow);
                            }
                            None => {
                                self.status =
                                    Some(format!("No meeting called {wanted:?} is visible to you."))
                            }
                        }
                    }
                }
                BackendEvent::MeetingsFailed(message) => self.status = Some(message),
                BackendEvent::LoginLost => {
                    // Not a dashboard that cannot load: the login form, saying why.
                    self.apply(Intent::LogOut);
                    self.meetings.clear();
                    self.status = Some(LOGIN_LOST.into());
                }
                BackendEvent::MeetingCreated(meeting) => {
                    self.status = None;
                    self.meetings.push(meeting);
                    self.meetings.sort_by_key(|m| (m.starts_at, m.id));
                }
                BackendEvent::CreateFailed(message) => self.status = Some(message),
                BackendEvent::Joined(call) => {
                    self.busy = false;
                    let title = self
                        .meetings
                        .iter()
                        .find(|m| m.id == call.meeting)
                        .map_or_else(String::new, |m| m.title.clone());
                    let (mic, camera) = (!call.started_muted, !call.started_camera_off);
                    let audio = RoomAudio::new(call.microphone_level.clone(), &self.settings);
                    let mut room =
                        RoomState::new(*call, title, mic, camera, self.join_started, audio);
                    room.audio.follow_push_to_talk(&self.repaint);
                    self.room = Some(room);
                    self.screen = Screen::Room;
                }
                BackendEvent::JoinFailed(message) => {
                    self.busy = false;
                    self.status = Some(message);
                }
                BackendEvent::Call(event) => self.on_call_event(event),
            }
        }
    }

    fn on_call_event(&mut self, event: CallEvent) {
        let Some(room) = self.room.as_mut() else {
            return;
        };
        match event {
            CallEvent::ParticipantJoined(p) => {
                room.toast(format!("{} joined", p.name));
                room.participants.insert(p.id, p);
            }
            CallEvent::ParticipantUpdated(p) => {
                if p.screen && !room.participants.get(&p.id).is_some_and(|old| old.screen) {
                    room.toast(format!("{} is sharing their screen", p.name));
                }
                room.participants.insert(p.id, p);
            }
            CallEvent::ParticipantLeft(id) => {
                if let Some(p) = room.participants.remove(&id) {
                    room.toast(format!("{} left", p.name));
                }
            }
            CallEvent::Chat(message) => {
                if !room.show_chat {
                    room.unread += 1;
                }
                room.chat.push(message);
            }
            CallEvent::PeerLink { peer, state } => {
                use huddle_engine::call::PeerLinkState::*;
                let name = room
                    .participants
                    .get(&peer)
                    .map_or_else(|| format!("peer {peer}"), |p| p.name.clone());
                room.banner = match state {
                    Disconnected => Some(format!("Reconnecting to {name}…")),
                    Failed => Some(format!("The connection to {name} failed.")),
                    Connected | Connecting => None,
                };
            }
            CallEvent::Reconnecting { reason } => {
                tracing::info!(?reason, "reconnecting to the server");
                room.reconnecting = true;
            }
            CallEvent::Reconnected { me, participants } => {
                room.reconnecting = false;
                room.banner = None;
                room.me = me;
                room.participants = participants.into_iter().map(|p| (p.id, p)).collect();
                room.toast("Reconnected".into());
            }
            CallEvent::SourceLost { kind, reason } => {
                use huddle_engine::call::TrackKind;
                let what = match kind {
                    TrackKind::Camera => {
                        room.camera_on = false;
                        "camera"
                    }
                    TrackKind::Audio => {
                        room.mic_on = false;
                        "microphone"
                    }
                    TrackKind::Screen => {
                        room.sharing = false;
                        "screen share"
                    }
                };
                room.toast(format!(
                    "Your {what} stopped ({reason}); the others were told."
                ));
            }
            CallEvent::DeviceChanged(text) | CallEvent::Problem(text) => room.toast(text),
            CallEvent::MeetingEnded => self.status = Some("The host ended the meeting.".into()),
            CallEvent::Disconnected { reason } => {
                tracing::info!("the call gave up on its server: {reason:?}");
                self.status = Some("Lost the connection to the server, so the call ended.".into());
                // Back on the dashboard now (the `Ended` that follows finds no
                // room). Its list refreshes on its timer: refreshed at once, the
                // same unreachable server's error would replace this line.
                self.room = None;
                self.screen = Screen::Dashboard;
                self.last_refresh = std::time::Instant::now();
            }
            CallEvent::Ended => {
                self.room = None;
                self.screen = Screen::Dashboard;
                if let Some(api) = self.api.clone() {
                    self.backend.load_meetings(api);
                }
            }
        }
    }
}
