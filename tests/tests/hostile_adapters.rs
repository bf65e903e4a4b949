//! The sandbox against a hostile adapter: every misbehaviour ends in a typed
//! error naming the adapter and the call, and the same engine and session
//! keep working afterwards. Limits are shrunk so the suite runs in seconds.

use std::sync::Arc;
use std::time::Duration;

use regent::runtime::{
    AdapterCallError, AdapterEngine, AdapterSession, AdapterSource, CallFailure, ComponentCache,
    LoadError, LoadedAdapter, Outbound, SandboxLimits, SandboxViolation, SessionContext,
    SettingValues, TagRef,
};
use regent_tests::components::component;
use regent_tests::stub_http::{Reply, StubServer};

const HOSTILE: &str = "regent-test-adapter-hostile";

fn small_limits() -> SandboxLimits {
    SandboxLimits {
        memory_bytes: 32 << 20,
        call_deadline: Duration::from_millis(300),
        http_timeout: Duration::from_secs(5),
        ..SandboxLimits::default()
    }
}

fn engine() -> AdapterEngine {
    AdapterEngine::new(small_limits(), ComponentCache::disabled()).expect("engine")
}

fn load(engine: &AdapterEngine, package: &str) -> Result<LoadedAdapter, LoadError> {
    engine.load(
        AdapterSource::Bundled {
            package: package.into(),
        },
        component(package),
    )
}

fn hostile_session(context: SessionContext) -> AdapterSession {
    let engine = engine();
    let adapter = Arc::new(load(&engine, HOSTILE).expect("hostile adapter loads"));
    engine.session(adapter, context)
}

fn tags_of(session: &mut AdapterSession, repository: &str) -> Vec<String> {
    let page = session
        .list_tags(repository, None)
        .expect("well-behaved call succeeds");
    page.tags.into_iter().map(|t| t.name).collect()
}

fn expect_failure(session: &mut AdapterSession, repository: &str) -> AdapterCallError {
    let error = session
        .list_tags(repository, None)
        .expect_err("hostile call must fail");
    let text = error.to_string();
    assert!(
        text.contains("adapter `hostile`"),
        "names the adapter: {text}"
    );
    assert!(text.contains("list-tags"), "names the call: {text}");
    error
}

/// After a failure the same session serves a well-behaved call, which also
/// proves the sandbox hands the adapter no environment and no arguments.
fn assert_recovers(session: &mut AdapterSession) {
    assert_eq!(tags_of(session, "env"), vec!["env-0-args-0".to_owned()]);
}

#[test]
fn endless_loop_is_stopped_at_the_deadline() {
    let mut session = hostile_session(SessionContext::default());
    let error = expect_failure(&mut session, "loop");
    assert!(
        matches!(error.failure, CallFailure::Deadline(d) if d == Duration::from_millis(300)),
        "{error}"
    );
    assert!(error.to_string().contains("deadline of 300 ms"), "{error}");
    assert_recovers(&mut session);
}

#[test]
fn huge_allocation_hits_the_memory_limit() {
    let mut session = hostile_session(SessionContext::default());
    let error = expect_failure(&mut session, "alloc");
    match &error.failure {
        CallFailure::Violation(SandboxViolation::MemoryLimit {
            limit_bytes,
            requested_bytes,
        }) => {
            assert_eq!(*limit_bytes, 32 << 20);
            assert!(*requested_bytes > 32 << 20);
        }
        other => panic!("expected a memory limit violation, got {other:?}"),
    }
    assert!(
        error.to_string().contains("over the limit of 32 MiB"),
        "{error}"
    );
    assert_recovers(&mut session);
}

#[test]
fn panic_becomes_a_trap_with_the_adapters_message() {
    let mut session = hostile_session(SessionContext::default());
    let error = expect_failure(&mut session, "trap");
    assert!(matches!(error.failure, CallFailure::Trap(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("deliberate panic from the hostile adapter"),
        "{error}"
    );
    assert_recovers(&mut session);
}

#[test]
fn stack_overflow_becomes_a_trap() {
    let mut session = hostile_session(SessionContext::default());
    let error = expect_failure(&mut session, "stack");
    assert!(matches!(error.failure, CallFailure::Trap(_)), "{error:?}");
    assert_recovers(&mut session);
}

#[test]
fn request_outside_the_allow_list_is_denied() {
    let mut session = hostile_session(SessionContext::default());
    let error = expect_failure(&mut session, "forbidden-host");
    match &error.failure {
        CallFailure::Violation(SandboxViolation::HostDenied { url, allowed }) => {
            assert_eq!(url, "http://forbidden.test/steal");
            assert_eq!(allowed, "allowed.test");
        }
        other => panic!("expected a denied host, got {other:?}"),
    }
    assert_recovers(&mut session);
}

#[test]
fn files_cannot_be_opened() {
    let mut session = hostile_session(SessionContext::default());
    let error = expect_failure(&mut session, "file");
    match error.registry_failure() {
        Some(failure) => assert!(
            failure.to_string().contains("file access failed"),
            "{failure}"
        ),
        None => panic!("expected the adapter's own report of a failed open, got {error:?}"),
    }
    assert_recovers(&mut session);
}

#[test]
fn undeclared_setting_is_denied_and_declared_one_is_delivered() {
    let mut settings = SettingValues::new();
    settings.insert("declared-token", "s3cret");
    settings.insert("aws-secret-access-key", "must-not-leak");
    let mut session = hostile_session(SessionContext {
        settings,
        ..SessionContext::default()
    });
    let error = expect_failure(&mut session, "undeclared-setting");
    assert!(
        matches!(&error.failure, CallFailure::Violation(SandboxViolation::UndeclaredSetting { name }) if name == "aws-secret-access-key"),
        "{error:?}"
    );
    assert!(!error.to_string().contains("must-not-leak"));
    assert_eq!(
        tags_of(&mut session, "declared-setting"),
        vec!["token-6".to_owned()]
    );
}

#[test]
fn malformed_answers_are_rejected() {
    let mut session = hostile_session(SessionContext::default());
    let error = expect_failure(&mut session, "malformed");
    assert!(
        matches!(error.failure, CallFailure::Malformed(ref m) if m.contains("not a digest")),
        "{error:?}"
    );
    let request = [TagRef {
        tag: "v1".into(),
        digest: None,
    }];
    let error = session
        .delete_tags("malformed", &request)
        .expect_err("wrong delete results");
    assert!(
        matches!(error.failure, CallFailure::Malformed(ref m) if m.contains("not-requested")),
        "{error:?}"
    );
    let fine = session
        .delete_tags("fine", &request)
        .expect("honest delete results");
    assert_eq!(fine.len(), 1);
    assert_recovers(&mut session);
}

#[test]
fn the_registry_in_use_is_reachable_through_http_send() {
    let stub = StubServer::start(|r| {
        if r.path == "/v2/" {
            Reply::new(200, "{}")
        } else {
            Reply::new(404, "")
        }
    });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let client = Outbound::default_client().expect("client");
    let outbound = Arc::new(Outbound::new(client, runtime.handle().clone()));
    let mut session = hostile_session(SessionContext {
        registry: Some(stub.authority()),
        outbound: Some(outbound),
        ..SessionContext::default()
    });
    assert_eq!(
        tags_of(&mut session, "registry"),
        vec!["status-200".to_owned()]
    );
    let seen = stub.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/v2/")
    );
    assert!(seen[0].header("authorization").is_none());
    // A denied host is still denied with the network available, and nothing is sent.
    let error = expect_failure(&mut session, "forbidden-host");
    assert!(matches!(error.failure, CallFailure::Violation(_)));
    assert_eq!(stub.requests().len(), 1);
}

#[test]
fn every_failure_in_a_row_leaves_the_engine_usable() {
    let engine = engine();
    let adapter = Arc::new(load(&engine, HOSTILE).expect("loads"));
    for behaviour in [
        "loop",
        "alloc",
        "trap",
        "stack",
        "forbidden-host",
        "undeclared-setting",
        "malformed",
    ] {
        let mut session = engine.session(adapter.clone(), SessionContext::default());
        expect_failure(&mut session, behaviour);
    }
    let default = load(&engine, HOSTILE).expect("the engine still loads adapters");
    assert_eq!(default.name(), "hostile");
    let mut session = engine.session(Arc::new(default), SessionContext::default());
    assert_recovers(&mut session);
}

#[test]
fn unsupported_contract_version_is_refused_by_name() {
    let engine = engine();
    let error =
        load(&engine, "regent-test-adapter-future-wit").expect_err("future WIT must be refused");
    let text = error.to_string();
    assert!(
        matches!(error, LoadError::UnsupportedWitVersion { .. }),
        "{text}"
    );
    assert!(text.contains("regent:adapter@0.2.0"), "{text}");
    assert!(text.contains("supports regent:adapter@0.1.0"), "{text}");
}

#[test]
fn bytes_that_are_not_a_component_are_refused() {
    let engine = engine();
    let error = engine
        .load(
            AdapterSource::Installed {
                from: "junk.wasm".into(),
            },
            b"\0asm junk",
        )
        .expect_err("junk must be refused");
    assert!(matches!(error, LoadError::Compile { .. }), "{error}");
    assert!(error.to_string().contains("installed junk.wasm"), "{error}");
}

#[test]
fn compiled_components_are_cached_and_tampered_entries_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache_dir = dir.path().join("components");
    let engine =
        AdapterEngine::new(small_limits(), ComponentCache::at(&cache_dir)).expect("engine");
    load(&engine, HOSTILE).expect("first load compiles");
    let with_extension = |ext: &str| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&cache_dir)
            .expect("cache dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(ext))
            .collect()
    };
    let files = with_extension(".cwasm");
    assert_eq!(files.len(), 1, "one compiled component: {files:?}");
    let infos = with_extension(".info.json");
    assert_eq!(infos.len(), 1, "one cached info: {infos:?}");

    // A lazy load reads the cached info; a tampered info file is ignored and
    // the component is probed again instead.
    let lazy = engine
        .load_lazily(
            AdapterSource::Bundled {
                package: HOSTILE.into(),
            },
            component(HOSTILE),
            None,
        )
        .expect("lazy load from cached info");
    assert_eq!(lazy.name(), "hostile");
    let mut info_bytes = std::fs::read(&infos[0]).expect("info");
    let last = info_bytes.len() - 1;
    info_bytes[last] ^= 0x20;
    std::fs::write(&infos[0], &info_bytes).expect("tamper info");
    let reprobed = engine
        .load_lazily(
            AdapterSource::Bundled {
                package: HOSTILE.into(),
            },
            component(HOSTILE),
            None,
        )
        .expect("a tampered info file is ignored");
    assert_eq!(reprobed.name(), "hostile");
    assert_ne!(
        std::fs::read(&infos[0]).expect("info"),
        info_bytes,
        "the info was rewritten"
    );

    let cached = std::fs::read(&files[0]).expect("cached file");
    // Flip one byte of the compiled code: the entry must be refused and rewritten.
    let mut tampered = cached.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    std::fs::write(&files[0], &tampered).expect("tamper");
    let reloaded = load(&engine, HOSTILE).expect("loads despite a tampered cache entry");
    let mut session = engine.session(Arc::new(reloaded), SessionContext::default());
    assert_recovers(&mut session);
    assert_eq!(
        std::fs::read(&files[0]).expect("rewritten"),
        cached,
        "the entry was rewritten by the host"
    );
}
