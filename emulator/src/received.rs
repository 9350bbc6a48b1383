//! The parameters of the latest runs of each method, for [`crate::Emulator::received`],
//! bounded by count and by bytes so a loop of large calls cannot grow memory without end.

use std::collections::VecDeque;
use std::io;

use serde_json::{json, Map, Value};

/// The key of the stand-in kept for parameters larger than the byte budget.
const DROPPED_KEY: &str = "b24_emulator_dropped_bytes";

/// The kept parameters of one method, oldest first, with their size as JSON.
#[derive(Debug, Default)]
pub(crate) struct Received {
    kept: VecDeque<(Value, usize)>,
    bytes: usize,
}

impl Received {
    /// Keeps `params`, dropping the oldest entries until at most `count` entries of at most
    /// `budget` bytes in all are kept. Parameters larger than `budget` are kept as
    /// `{"b24_emulator_dropped_bytes": N}`. Returns whether they were replaced so.
    pub(crate) fn push(
        &mut self,
        params: &Map<String, Value>,
        count: usize,
        budget: usize,
    ) -> bool {
        let size = json_len(params);
        let (entry, size, dropped) = if size <= budget {
            (Value::Object(params.clone()), size, false)
        } else {
            let stand_in = json!({ DROPPED_KEY: size });
            let stand_in_size = json_len(&stand_in);
            (stand_in, stand_in_size, true)
        };
        self.kept.push_back((entry, size));
        self.bytes += size;
        while self.kept.len() > count || (self.bytes > budget && self.kept.len() > 1) {
            if let Some((_, old)) = self.kept.pop_front() {
                self.bytes -= old;
            }
        }
        dropped
    }

    /// The kept parameters, oldest first.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Value> {
        self.kept.iter().map(|(value, _)| value)
    }
}

/// The length of `value` serialized as JSON, without building the text.
pub(crate) fn json_len(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serializing a `Value` into a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("p".into(), json!(text));
        map
    }

    #[test]
    fn keeps_the_latest_within_count_and_bytes() {
        let mut log = Received::default();
        for i in 0..5 {
            assert!(!log.push(&params(&i.to_string()), 3, 1000));
        }
        let kept: Vec<_> = log.values().map(|v| v["p"].clone()).collect();
        assert_eq!(kept, [json!("2"), json!("3"), json!("4")]);

        // Each entry is 48 bytes as JSON: two fit in 100.
        let mut log = Received::default();
        for c in ["a", "b", "c"] {
            log.push(&params(&c.repeat(40)), 100, 100);
        }
        assert_eq!(log.values().count(), 2);
        assert_eq!(log.bytes, 96);
    }

    #[test]
    fn oversized_parameters_leave_a_stand_in_with_their_size() {
        let mut log = Received::default();
        log.push(&params("small"), 100, 100);
        assert!(log.push(&params(&"x".repeat(1000)), 100, 100));
        let kept: Vec<_> = log.values().cloned().collect();
        assert_eq!(kept, [json!({"p": "small"}), json!({ DROPPED_KEY: 1008 })]);
        assert!(log.bytes <= 100);
    }
}
