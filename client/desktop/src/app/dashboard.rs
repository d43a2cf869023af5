//! The dashboard: the meetings this user may see, who is in them now, join.

use super::Intent;
use super::meeting_times::{When, in_order, local_start};
use jiff::tz::TimeZone;
use shared::User;
use shared::api::{Meeting, Visibility, WaitingRoom};

/// The dashboard's own inputs: a new meeting, and a meeting link or id to join.
#[derive(Default)]
pub struct DashboardForm {
    pub new_title: String,
    pub new_duration: u32,
    pub new_for_everyone: bool,
    /// Those not invited wait for a host to let them in.
    pub new_waiting_room: bool,
    pub link: String,
}

/// The meeting id in a link such as `huddle://join/12`, `https://host/join/12` or plain `12`.
pub fn meeting_id_in(link: &str) -> Option<i64> {
    let tail = link
        .trim()
        .trim_end_matches('/')
        .rsplit(['/', '=', ' '])
        .next()?;
    tail.parse().ok().filter(|id: &i64| *id > 0)
}

pub fn show(
    ui: &mut egui::Ui,
    (user, zone): (&User, &TimeZone),
    meetings: &[Meeting],
    status: Option<&str>,
    form: &mut DashboardForm,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.horizontal(|ui| {
        ui.heading("Meetings");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Log out").clicked() {
                intents.push(Intent::LogOut);
            }
            if ui.button("Settings").clicked() {
                intents.push(Intent::OpenSettings);
            }
            if ui.button("Refresh").clicked() {
                intents.push(Intent::RefreshMeetings);
            }
            ui.label(format!("{} ({})", user.name, user.email));
        });
    });
    if let Some(status) = status {
        ui.colored_label(ui.visuals().error_fg_color, status);
    }
    ui.separator();
    intents.extend(join_link_row(ui, form));
    intents.extend(new_meeting_row(ui, form));
    ui.separator();
    if meetings.is_empty() {
        ui.label("No meetings yet.");
    }
    intents.extend(meetings_table(ui, meetings, zone));
    intents
}

fn join_link_row(ui: &mut egui::Ui, form: &mut DashboardForm) -> Option<Intent> {
    ui.horizontal(|ui| {
        let label = ui.label("Meeting link or id");
        ui.add(egui::TextEdit::singleline(&mut form.link).desired_width(220.0))
            .labelled_by(label.id);
        ui.button("Join link")
            .clicked()
            .then(|| match meeting_id_in(&form.link) {
                Some(id) => Intent::Join(shared::MeetingId(id)),
                None => Intent::ShowError(format!("{:?} is not a meeting link or id", form.link)),
            })
    })
    .inner
}

fn new_meeting_row(ui: &mut egui::Ui, form: &mut DashboardForm) -> Option<Intent> {
    ui.horizontal(|ui| {
        let label = ui.label("New meeting");
        ui.add(
            egui::TextEdit::singleline(&mut form.new_title)
                .hint_text("Title")
                .desired_width(220.0),
        )
        .labelled_by(label.id);
        if form.new_duration == 0 {
            form.new_duration = 30;
        }
        ui.add(
            egui::DragValue::new(&mut form.new_duration)
                .range(5..=480)
                .suffix(" min"),
        );
        ui.checkbox(&mut form.new_for_everyone, "Everyone on this server");
        ui.checkbox(&mut form.new_waiting_room, "Waiting room")
            .on_hover_text("Those not invited wait until a host lets them in");
        if !ui.button("Create").clicked() || form.new_title.trim().is_empty() {
            return None;
        }
        let visibility = if form.new_for_everyone {
            Visibility::AllUsers
        } else {
            Visibility::Organisation
        };
        let waiting_room = match form.new_waiting_room {
            true => WaitingRoom::Uninvited,
            false => WaitingRoom::Off,
        };
        Some(Intent::CreateMeeting {
            title: std::mem::take(&mut form.new_title),
            duration_minutes: form.new_duration,
            visibility,
            waiting_room,
        })
    })
    .inner
}

/// Every meeting with its host, start (in the local time zone), who is in
/// it, and a Join button: those on now and starting soon first.
fn meetings_table(ui: &mut egui::Ui, meetings: &[Meeting], zone: &TimeZone) -> Vec<Intent> {
    let mut intents = Vec::new();
    egui::Grid::new("meetings")
        .num_columns(5)
        .striped(true)
        .spacing([16.0, 8.0])
        .show(ui, |ui| {
            ui.strong("Title");
            ui.strong("Host");
            ui.strong("Starts");
            ui.strong("In it now");
            ui.label("");
            ui.end_row();
            for (meeting, when) in in_order(meetings, jiff::Timestamp::now()) {
                ui.horizontal(|ui| {
                    ui.label(&meeting.title);
                    if when != When::Later && when != When::Over {
                        ui.strong(when.tag());
                    }
                });
                ui.label(&meeting.host.name);
                ui.label(local_start(meeting, zone));
                ui.label(who_is_in(meeting))
                    .on_hover_text(format!("{} in the room now", meeting.participants_now));
                if ui
                    .button("Join")
                    .on_hover_text(format!("Join {}", meeting.title))
                    .clicked()
                {
                    intents.push(Intent::Join(meeting.id));
                }
                ui.end_row();
            }
        });
    intents
}

/// The names of who is in a meeting's room now, shortened past three.
fn who_is_in(meeting: &Meeting) -> String {
    const SHOWN: usize = 3;
    let names: Vec<&str> = meeting.people_now.iter().map(|p| p.name.as_str()).collect();
    match names.len() {
        0 => "–".into(),
        n if n <= SHOWN => names.join(", "),
        n => format!("{} and {} more", names[..SHOWN].join(", "), n - SHOWN),
    }
}

#[cfg(test)]
mod tests {
    use super::{meeting_id_in, who_is_in};
    use shared::api::{Meeting, UserRef, Visibility};
    use shared::{MeetingId, UserId};

    #[test]
    fn who_is_in_a_room_is_named_and_shortened() {
        let people = |n: i64| {
            (1..=n)
                .map(|i| UserRef {
                    id: UserId(i),
                    name: format!("P{i}"),
                })
                .collect()
        };
        let meeting = |n| Meeting {
            id: MeetingId(1),
            title: "Sync".into(),
            host: UserRef {
                id: UserId(1),
                name: "P1".into(),
            },
            starts_at: time::OffsetDateTime::UNIX_EPOCH,
            duration_minutes: 30,
            visibility: Visibility::AllUsers,
            participants_now: n as usize,
            people_now: people(n),
            topology: Default::default(),
            waiting_room: Default::default(),
        };
        assert_eq!(who_is_in(&meeting(0)), "–");
        assert_eq!(who_is_in(&meeting(2)), "P1, P2");
        assert_eq!(who_is_in(&meeting(5)), "P1, P2, P3 and 2 more");
    }

    #[test]
    fn meeting_links_and_ids_are_understood() {
        assert_eq!(meeting_id_in("12"), Some(12));
        assert_eq!(meeting_id_in(" huddle://join/7 "), Some(7));
        assert_eq!(meeting_id_in("https://meet.example.org/join/42/"), Some(42));
        assert_eq!(
            meeting_id_in("https://meet.example.org/?meeting=5"),
            Some(5)
        );
        assert_eq!(meeting_id_in("weekly sync"), None);
        assert_eq!(meeting_id_in("0"), None);
    }
}
