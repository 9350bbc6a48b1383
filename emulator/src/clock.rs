//! Emulated time: a clock that can run faster than the wall clock.
//!
//! Every limit (the leaky bucket, the operating budget, token lifetimes, processing time) is
//! measured in *emulated seconds*. With a time scale of 60, one real second is one emulated
//! minute, so ten minutes of limit behaviour pass in ten real seconds.
//!
//! Timestamps sent to clients (`time.start`, `operating_reset_at`, `expires`) are wall-clock
//! Unix times, so a client can sleep until them without knowing the scale.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A clock whose emulated seconds run `scale` times faster than real ones.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    /// The real instant at which `emulated_at_base` was read.
    base: Instant,
    /// Emulated seconds since the clock started, at `base`.
    emulated_at_base: f64,
    /// The wall-clock Unix time at `base`.
    wall_at_base: f64,
    scale: f64,
}

impl Clock {
    /// A clock starting now at emulated time 0.
    pub(crate) fn new(scale: f64) -> Self {
        Clock {
            base: Instant::now(),
            emulated_at_base: 0.0,
            wall_at_base: unix_now(),
            scale: sane_scale(scale),
        }
    }

    /// Emulated seconds since the clock started.
    pub(crate) fn now(&self) -> f64 {
        self.emulated_at(Instant::now())
    }

    fn emulated_at(&self, at: Instant) -> f64 {
        self.emulated_at_base + at.saturating_duration_since(self.base).as_secs_f64() * self.scale
    }

    /// The current scale (emulated seconds per real second).
    pub(crate) fn scale(&self) -> f64 {
        self.scale
    }

    /// Changes the scale from now on; emulated time already passed stays as it was.
    pub(crate) fn set_scale(&mut self, scale: f64) {
        let now = Instant::now();
        let emulated = self.emulated_at(now);
        self.wall_at_base += now.saturating_duration_since(self.base).as_secs_f64();
        self.base = now;
        self.emulated_at_base = emulated;
        self.scale = sane_scale(scale);
    }

    /// The real time an emulated span takes.
    pub(crate) fn real_duration(&self, emulated_secs: f64) -> Duration {
        Duration::try_from_secs_f64((emulated_secs / self.scale).max(0.0)).unwrap_or(Duration::MAX)
    }

    /// The wall-clock Unix time at which the emulated clock reads `emulated`.
    pub(crate) fn wall_time(&self, emulated: f64) -> f64 {
        self.wall_at_base + (emulated - self.emulated_at_base) / self.scale
    }
}

fn sane_scale(scale: f64) -> f64 {
    if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        1.0
    }
}

/// The wall-clock Unix time in seconds.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Formats a Unix time as the server does in `time.date_start`: `YYYY-MM-DDThh:mm:ss+00:00`.
pub(crate) fn iso8601(unix: f64) -> String {
    let secs = unix.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The ways a documented record writes a time, by its shape (digits as `d`).
const TIME_FORMS: &[&str] = &[
    "dddd-dd-ddTdd:dd:dd+dd:dd",
    "dddd-dd-ddTdd:dd:dd-dd:dd",
    "dddd-dd-ddTdd:dd:dd",
    "dddd-dd-dd dd:dd:dd",
    "dd.dd.dddd dd:dd:dd",
    "dddd-dd-dd",
    "dd.dd.dddd",
];

/// The form of a documented time value (one of the text forms the docs use), if it is one.
pub(crate) fn time_form(value: &serde_json::Value) -> Option<&'static str> {
    let text = value.as_str()?;
    let shape: String = text
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    TIME_FORMS.iter().copied().find(|form| *form == shape)
}

/// A Unix time written in the form of `like` (a documented time value), in UTC; ISO 8601 when
/// `like` is no time.
pub(crate) fn time_like(unix: f64, like: &serde_json::Value) -> String {
    let iso = iso8601(unix);
    let (date, clock) = (&iso[..10], &iso[11..19]);
    let dotted = format!("{}.{}.{}", &date[8..10], &date[5..7], &date[..4]);
    match time_form(like) {
        Some("dddd-dd-ddTdd:dd:dd") => format!("{date}T{clock}"),
        Some("dddd-dd-dd dd:dd:dd") => format!("{date} {clock}"),
        Some("dd.dd.dddd dd:dd:dd") => format!("{dotted} {clock}"),
        Some("dddd-dd-dd") => date.to_owned(),
        Some("dd.dd.dddd") => dotted,
        _ => iso,
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso8601(1_724_068_028.33), "2024-08-19T11:47:08+00:00");
        assert_eq!(iso8601(951_782_400.0), "2000-02-29T00:00:00+00:00");
    }

    #[test]
    fn times_take_the_documented_form() {
        use serde_json::json;
        let at = 1_724_068_028.0;
        assert_eq!(
            time_like(at, &json!("2025-03-03T10:24:16+01:00")),
            "2024-08-19T11:47:08+00:00"
        );
        assert_eq!(
            time_like(at, &json!("2025-03-03 10:24:16")),
            "2024-08-19 11:47:08"
        );
        assert_eq!(
            time_like(at, &json!("03.03.2025 10:24:16")),
            "19.08.2024 11:47:08"
        );
        assert_eq!(time_like(at, &json!("2025-03-03")), "2024-08-19");
        assert_eq!(time_form(&json!("Hello world!")), None);
        assert_eq!(time_form(&json!(17)), None);
    }

    #[test]
    fn scale_change_keeps_elapsed_time() {
        let mut clock = Clock::new(1000.0);
        std::thread::sleep(Duration::from_millis(5));
        let before = clock.now();
        clock.set_scale(1.0);
        let after = clock.now();
        assert!(after >= before && after - before < 1.0);
        assert!(before >= 5.0);
    }
}
