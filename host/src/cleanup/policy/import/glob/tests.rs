//! The translations checked by what the resulting regexes match.

use super::*;

/// Compiled the way regent's selector compiles tag regexes: whole-tag.
fn whole(raw: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{raw})$")).expect("regex compiles")
}

fn doublestar(pattern: &str) -> regex::Regex {
    whole(&doublestar_body(pattern).expect("pattern translates"))
}

fn ecr(pattern: &str) -> regex::Regex {
    whole(&ecr_pattern_body(pattern))
}

#[test]
fn ecr_star_is_any_run_and_the_rest_is_literal() {
    let re = ecr("prod*");
    assert!(re.is_match("prod"));
    assert!(re.is_match("prod-1.2"));
    assert!(!re.is_match("xprod"));
    let dotted = ecr("v1.*-rc");
    assert!(dotted.is_match("v1.2-rc"));
    assert!(!dotted.is_match("v1x2-rc"), "the dot is literal");
    assert!(!dotted.is_match("v1.2-rc1"), "anchored at the end");
    let middle = ecr("*test*");
    assert!(middle.is_match("a-test-b"));
    assert!(!middle.is_match("tes"));
}

#[test]
fn ecr_prefix_matches_only_the_start() {
    let re = whole(&prefix_body("re.l"));
    assert!(re.is_match("re.lease"));
    assert!(!re.is_match("rexlease"));
    assert!(!re.is_match("a-re.l"));
}

#[test]
fn several_bodies_are_alternatives_each_whole() {
    let re = whole(&any_of(&[prefix_body("a"), ecr_pattern_body("b")]));
    assert!(re.is_match("a1"));
    assert!(re.is_match("b"));
    assert!(!re.is_match("b1"));
    assert!(!re.is_match("xa"));
}

#[test]
fn ecr_literal_prefix_stops_at_the_first_star() {
    assert_eq!(ecr_literal_prefix("prod*x*"), "prod");
    assert_eq!(ecr_literal_prefix("*x"), "");
    assert_eq!(ecr_literal_prefix("exact"), "exact");
}

#[test]
fn doublestar_stars_and_question_marks() {
    let re = doublestar("v*");
    assert!(re.is_match("v1.2.3"));
    assert!(!re.is_match("release-v1"));
    assert!(doublestar("**").is_match("anything"));
    let one = doublestar("rc?");
    assert!(one.is_match("rc1"));
    assert!(!one.is_match("rc12"));
    assert!(doublestar_matches_everything("**"));
    assert!(doublestar_matches_everything(""));
    assert!(!doublestar_matches_everything("*a"));
}

#[test]
fn doublestar_alternatives_nest() {
    let re = doublestar("{main,release-{v*,rc}}");
    assert!(re.is_match("main"));
    assert!(re.is_match("release-v2"));
    assert!(re.is_match("release-rc"));
    assert!(!re.is_match("release-x"));
    assert!(!re.is_match("mainx"));
}

#[test]
fn doublestar_classes_ranges_negation_and_escapes() {
    let digits = doublestar("v[0-9].*");
    assert!(digits.is_match("v1.0"));
    assert!(!digits.is_match("va.0"));
    let negated = doublestar("[!a-c]x");
    assert!(negated.is_match("dx"));
    assert!(!negated.is_match("bx"));
    let caret = doublestar("[^a]");
    assert!(caret.is_match("b"));
    assert!(!caret.is_match("a"));
    let literal_dash = doublestar("[a-]");
    assert!(literal_dash.is_match("-"));
    let escaped = doublestar(r"a\*b");
    assert!(escaped.is_match("a*b"));
    assert!(!escaped.is_match("axb"));
    let tricky = doublestar("[&~]");
    assert!(tricky.is_match("&"));
    assert!(tricky.is_match("~"));
    let dot = doublestar("1.0");
    assert!(!dot.is_match("1x0"), "dots are literal");
}

#[test]
fn doublestar_outside_braces_comma_and_brace_are_literal() {
    let re = doublestar("a,b}");
    assert!(re.is_match("a,b}"));
}

#[test]
fn malformed_doublestar_patterns_say_what_is_wrong() {
    let open = doublestar_body("{a,b").expect_err("unclosed brace");
    assert!(open.contains("never closed"), "{open}");
    let class = doublestar_body("v[0-9").expect_err("unclosed class");
    assert!(class.contains("never closed"), "{class}");
    let empty = doublestar_body("[]").expect_err("empty class");
    assert!(empty.contains("empty"), "{empty}");
    let slash = doublestar_body("a\\").expect_err("lone backslash");
    assert!(slash.contains("lone"), "{slash}");
}

#[test]
fn escape_keeps_tag_characters_readable_and_neutralises_syntax() {
    assert_eq!(escape("feature-1.2_x"), r"feature-1\.2_x");
    let all = r"a.b+c*d?e(f)g|h[i]j{k}l^m$n\o";
    assert!(whole(&escape(all)).is_match(all));
    assert!(!whole(&escape("a.b")).is_match("axb"));
}
