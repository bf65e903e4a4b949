//! "Newest" order for `newest` / `beyond-newest`.
//!
//! Tags are ranked by push time, most recent first; a tag whose push time is
//! unknown ranks as the oldest (so it never displaces a known-new tag from
//! the N newest). Ties, including between unknown times, are broken by tag
//! name ascending, then by input position, so the same inventory always
//! gives the same plan.

use std::cmp::{Ordering, Reverse};

use super::evaluate::Candidate;

/// The newest-first rank (0 = newest) of every candidate in `pool`
/// (indices into `candidates`), as `ranks[i] = Some(rank)` for pooled
/// indices and `None` for the rest; callers compare a rank with N.
pub fn newest_ranks(candidates: &[Candidate], pool: &[usize]) -> Vec<Option<usize>> {
    let mut order = pool.to_vec();
    order.sort_by(|&a, &b| newest_first(&candidates[a], &candidates[b]).then(a.cmp(&b)));
    let mut ranks = vec![None; candidates.len()];
    for (rank, index) in order.into_iter().enumerate() {
        ranks[index] = Some(rank);
    }
    ranks
}

/// Most recently pushed first, unknown push time last, then tag name.
fn newest_first(a: &Candidate, b: &Candidate) -> Ordering {
    // `Reverse(None)` sorts after every `Reverse(Some(_))`.
    let key = |c: &Candidate| (c.pushed_at.is_none(), Reverse(c.pushed_at));
    key(a).cmp(&key(b)).then_with(|| a.tag.cmp(&b.tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(tag: &str, pushed_at: Option<i64>) -> Candidate {
        Candidate {
            tag: tag.into(),
            digest: None,
            pushed_at,
            last_pulled_at: None,
        }
    }

    fn ranked(candidates: &[Candidate]) -> Vec<&str> {
        let pool: Vec<usize> = (0..candidates.len()).collect();
        let ranks = newest_ranks(candidates, &pool);
        let mut by_rank: Vec<(usize, &str)> = ranks
            .iter()
            .zip(candidates)
            .map(|(r, c)| (r.expect("pooled"), c.tag.as_str()))
            .collect();
        by_rank.sort();
        by_rank.into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn newest_first_unknown_last_ties_by_name() {
        let candidates = [
            c("unknown-b", None),
            c("old", Some(100)),
            c("tie-b", Some(300)),
            c("unknown-a", None),
            c("tie-a", Some(300)),
            c("new", Some(500)),
        ];
        assert_eq!(
            ranked(&candidates),
            ["new", "tie-a", "tie-b", "old", "unknown-a", "unknown-b"]
        );
    }

    #[test]
    fn only_pooled_indices_are_ranked() {
        let candidates = [c("a", Some(1)), c("b", Some(2)), c("c", Some(3))];
        let ranks = newest_ranks(&candidates, &[0, 2]);
        assert_eq!(ranks, [Some(1), None, Some(0)]);
    }

    #[test]
    fn duplicate_tags_still_get_distinct_ranks() {
        let candidates = [c("x", Some(1)), c("x", Some(1))];
        let ranks = newest_ranks(&candidates, &[0, 1]);
        assert_eq!(ranks, [Some(0), Some(1)]);
    }
}
