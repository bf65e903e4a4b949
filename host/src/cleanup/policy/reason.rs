//! Short durations for the one-sentence reasons in a plan.
//!
//! Policy windows print exactly (`14d`, `1h 30m`) so a reader can compare
//! them with the policy file; ages print their two largest units, rounded
//! down (`20d 3h`, `35m 10s`), which is enough to see why a rule held.

const UNITS: [(i64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];

/// A policy window in seconds, every non-zero unit (`14d`, `1d 2h 5s`, `0s`).
pub fn window(seconds: i64) -> String {
    join_units(seconds, usize::MAX)
}

/// An age in seconds, its two largest non-zero units (`20d 3h`, `35m`).
/// Negative ages (pushed "after now", clock skew) print as `0s`.
pub fn age(seconds: i64) -> String {
    join_units(seconds, 2)
}

fn join_units(seconds: i64, max_units: usize) -> String {
    let mut rest = seconds.max(0);
    let mut parts = Vec::new();
    for (size, unit) in UNITS {
        if parts.len() == max_units {
            break;
        }
        let count = rest / size;
        rest %= size;
        if count > 0 {
            parts.push(format!("{count}{unit}"));
        } else if !parts.is_empty() && max_units != usize::MAX {
            // An age keeps adjacent units only: `1d` not `1d 5s`.
            break;
        }
    }
    if parts.is_empty() {
        "0s".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_exact() {
        assert_eq!(window(14 * 86_400), "14d");
        assert_eq!(window(28 * 86_400), "28d");
        assert_eq!(window(90 * 60), "1h 30m");
        assert_eq!(window(86_400 + 2 * 3_600 + 5), "1d 2h 5s");
        assert_eq!(window(0), "0s");
    }

    #[test]
    fn ages_keep_two_adjacent_units() {
        assert_eq!(age(20 * 86_400 + 3 * 3_600 + 59 * 60), "20d 3h");
        assert_eq!(age(35 * 60 + 10), "35m 10s");
        assert_eq!(age(86_400 + 5), "1d");
        assert_eq!(age(3_600), "1h");
        assert_eq!(age(7), "7s");
        assert_eq!(age(0), "0s");
        assert_eq!(age(-30), "0s");
    }
}
