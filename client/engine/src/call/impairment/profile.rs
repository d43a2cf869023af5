//! Network profiles: what a QA engineer asks the bot's own sockets to
//! suffer (`huddle-bot --network wifi|4g|congested|custom:...`), without
//! root and on any machine.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Loss, delay and jitter each way, and a rate cap each way.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NetworkProfile {
    /// Datagrams dropped at random, in per cent.
    pub loss_pct: f64,
    /// Added to every datagram, each way.
    pub delay: Duration,
    /// The delay varies this much either side (uniformly), each way; the
    /// order of datagrams is kept, as on a real path.
    pub jitter: Duration,
    /// The most each way carries, in kbit/s; what is sent faster waits in a
    /// queue of 200 ms, and past that is dropped.
    pub rate_kbit: Option<u32>,
}

impl NetworkProfile {
    /// A home Wi-Fi: 1 % lost, 20 ± 4 ms.
    pub const WIFI: NetworkProfile = NetworkProfile {
        loss_pct: 1.0,
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(4),
        rate_kbit: None,
    };
    /// A phone on 4G: 2 % lost, 50 ± 10 ms, 8 Mbit/s.
    pub const FOUR_G: NetworkProfile = NetworkProfile {
        loss_pct: 2.0,
        delay: Duration::from_millis(50),
        jitter: Duration::from_millis(10),
        rate_kbit: Some(8_000),
    };
    /// A shared, busy line: 5 % lost, 100 ± 20 ms, 1 Mbit/s.
    pub const CONGESTED: NetworkProfile = NetworkProfile {
        loss_pct: 5.0,
        delay: Duration::from_millis(100),
        jitter: Duration::from_millis(20),
        rate_kbit: Some(1_000),
    };
}

/// Why a profile could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct BadProfile(String);

impl fmt::Display for BadProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadProfile {}

impl FromStr for NetworkProfile {
    type Err = BadProfile;

    /// `wifi`, `4g`, `congested`, or `custom:loss=P,delay=MS,jitter=MS,rate=KBIT`
    /// (any of the four, in any order; those left out are none).
    fn from_str(text: &str) -> Result<NetworkProfile, BadProfile> {
        match text {
            "wifi" => return Ok(NetworkProfile::WIFI),
            "4g" => return Ok(NetworkProfile::FOUR_G),
            "congested" => return Ok(NetworkProfile::CONGESTED),
            _ => {}
        }
        let Some(settings) = text.strip_prefix("custom:") else {
            return Err(BadProfile(format!(
                "unknown network profile {text:?}: use wifi, 4g, congested or \
                 custom:loss=P,delay=MS,jitter=MS,rate=KBIT"
            )));
        };
        let mut profile = NetworkProfile::default();
        for setting in settings.split(',').filter(|s| !s.is_empty()) {
            apply(&mut profile, setting)?;
        }
        if profile.jitter > profile.delay {
            return Err(BadProfile(format!(
                "jitter ({} ms) cannot be more than the delay ({} ms)",
                profile.jitter.as_millis(),
                profile.delay.as_millis()
            )));
        }
        Ok(profile)
    }
}

/// Reads one `name=value` of a custom profile into `profile`.
fn apply(profile: &mut NetworkProfile, setting: &str) -> Result<(), BadProfile> {
    let bad = |why: &str| BadProfile(format!("in {setting:?}: {why}"));
    let (name, value) = setting
        .split_once('=')
        .ok_or_else(|| bad("expected name=value"))?;
    let number: f64 = value
        .trim()
        .parse()
        .map_err(|_| bad("the value is not a number"))?;
    if !number.is_finite() || number < 0.0 {
        return Err(bad("the value must be zero or more"));
    }
    let millis = || Duration::from_secs_f64(number.min(10_000.0) / 1000.0);
    match name.trim() {
        "loss" if number <= 100.0 => profile.loss_pct = number,
        "loss" => return Err(bad("loss is a percentage, at most 100")),
        "delay" => profile.delay = millis(),
        "jitter" => profile.jitter = millis(),
        "rate" if number >= 8.0 => profile.rate_kbit = Some(number.min(10_000_000.0) as u32),
        "rate" => return Err(bad("a rate under 8 kbit/s carries nothing")),
        other => {
            return Err(bad(&format!(
                "unknown setting {other:?}: use loss, delay, jitter or rate"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_profiles_are_as_documented() {
        assert_eq!("wifi".parse(), Ok(NetworkProfile::WIFI));
        let four_g: NetworkProfile = "4g".parse().unwrap();
        assert_eq!((four_g.loss_pct, four_g.rate_kbit), (2.0, Some(8_000)));
        let congested: NetworkProfile = "congested".parse().unwrap();
        assert_eq!(congested.delay, Duration::from_millis(100));
    }

    #[test]
    fn a_custom_profile_takes_any_of_its_settings() {
        let profile: NetworkProfile = "custom:rate=300,loss=2.5,delay=40,jitter=5"
            .parse()
            .unwrap();
        let expected = NetworkProfile {
            loss_pct: 2.5,
            delay: Duration::from_millis(40),
            jitter: Duration::from_millis(5),
            rate_kbit: Some(300),
        };
        assert_eq!(profile, expected);
        let loss_only: NetworkProfile = "custom:loss=1".parse().unwrap();
        assert_eq!(loss_only.delay, Duration::ZERO);
    }

    #[test]
    fn a_bad_profile_says_what_is_wrong() {
        for (text, says) in [
            ("lte", "unknown network profile"),
            ("custom:loss=120", "at most 100"),
            ("custom:delay=-5", "zero or more"),
            ("custom:delay=ten", "not a number"),
            ("custom:speed=5", "unknown setting"),
            ("custom:delay=10,jitter=20", "cannot be more than the delay"),
            ("custom:rate=2", "carries nothing"),
            ("custom:loss", "name=value"),
        ] {
            let err = text.parse::<NetworkProfile>().unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
