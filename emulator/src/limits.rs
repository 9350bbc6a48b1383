//! The two server-side limits of `limits.md`: the leaky bucket of requests and the per-method
//! operating-time budget. Both work in emulated seconds (see [`crate::clock`]).

use std::collections::{HashMap, VecDeque};

use crate::config::Bucket;

/// The request counter of the leaky bucket.
#[derive(Debug, Default)]
pub(crate) struct LeakyBucket {
    level: f64,
    updated_at: f64,
}

impl LeakyBucket {
    /// Counts one request at emulated time `now`; false when it must be refused.
    /// A refused request does not fill the bucket.
    pub(crate) fn admit(&mut self, bucket: Bucket, now: f64) -> bool {
        let elapsed = (now - self.updated_at).max(0.0);
        self.level = (self.level - elapsed * bucket.drain_per_sec).max(0.0);
        self.updated_at = now;
        if self.level + 1.0 > bucket.capacity {
            return false;
        }
        self.level += 1.0;
        true
    }
}

/// The docs' window: 10 one-minute baskets.
const BASKET_SECS: f64 = 60.0;
const WINDOW_SECS: f64 = 600.0;

/// One minute basket: opened by the first call in it, dropped 10 minutes after that.
#[derive(Debug, Clone, Copy)]
struct Basket {
    opened_at: f64,
    total: f64,
}

/// What the budget says about one method for one caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Operating {
    /// Accumulated emulated seconds in the window.
    pub(crate) operating: f64,
    /// Emulated time at which the oldest basket leaves the window (`None` when empty).
    pub(crate) reset_at: Option<f64>,
}

/// Operating time per (caller, method).
#[derive(Debug, Default)]
pub(crate) struct OperatingBudget {
    baskets: HashMap<(String, String), VecDeque<Basket>>,
}

impl OperatingBudget {
    /// The state of `method` for `caller` at `now`, after dropping expired baskets.
    pub(crate) fn status(&mut self, caller: &str, method: &str, now: f64) -> Operating {
        let key = (caller.to_string(), method.to_string());
        let Some(baskets) = self.baskets.get_mut(&key) else {
            return Operating {
                operating: 0.0,
                reset_at: None,
            };
        };
        while baskets
            .front()
            .is_some_and(|b| b.opened_at + WINDOW_SECS <= now)
        {
            baskets.pop_front();
        }
        Operating {
            operating: baskets.iter().map(|b| b.total).sum(),
            reset_at: baskets.front().map(|b| b.opened_at + WINDOW_SECS),
        }
    }

    /// Adds `spent` seconds of a call that started at `started` and returns the new state.
    pub(crate) fn record(
        &mut self,
        caller: &str,
        method: &str,
        started: f64,
        spent: f64,
        now: f64,
    ) -> Operating {
        let baskets = self
            .baskets
            .entry((caller.to_string(), method.to_string()))
            .or_default();
        match baskets.back_mut() {
            Some(last) if started < last.opened_at + BASKET_SECS => last.total += spent,
            _ => baskets.push_back(Basket {
                opened_at: started,
                total: spent,
            }),
        }
        self.status(caller, method, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_admits_capacity_then_drains() {
        let mut b = LeakyBucket::default();
        let cfg = Bucket::STANDARD;
        assert_eq!((0..60).filter(|_| b.admit(cfg, 0.0)).count(), 50);
        // One second later two slots are free again.
        assert_eq!((0..10).filter(|_| b.admit(cfg, 1.0)).count(), 2);
    }

    #[test]
    fn budget_slides_by_baskets() {
        let mut budget = OperatingBudget::default();
        budget.record("c", "m", 0.0, 100.0, 0.0);
        budget.record("c", "m", 30.0, 50.0, 30.0);
        let s = budget.record("c", "m", 70.0, 20.0, 70.0);
        assert_eq!(s.operating, 170.0);
        assert_eq!(s.reset_at, Some(600.0));
        let s = budget.status("c", "m", 600.0);
        assert_eq!(s.operating, 20.0);
        assert_eq!(s.reset_at, Some(670.0));
        assert_eq!(budget.status("c", "other", 0.0).operating, 0.0);
    }
}
