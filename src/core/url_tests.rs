use super::*;

#[test]
fn equivalent_spellings_are_the_same_url() {
    let allowed = "https://api.openai.com/v1";
    for seen in [
        "https://api.openai.com/v1",
        "https://api.openai.com/v1/",
        "https://API.OpenAI.com/v1",
        "HTTPS://api.openai.com/v1",
        "https://api.openai.com:443/v1",
        "https://api.openai.com/./v1",
    ] {
        assert!(same(allowed, seen), "{seen}");
    }
}

#[test]
fn different_endpoints_differ() {
    let allowed = "https://api.openai.com/v1";
    for seen in [
        "http://api.openai.com/v1",
        "https://api.openai.com:8443/v1",
        "https://api.openai.com/v2",
        "https://api.openai.com/V1",
        "https://api.openai.com.evil.example/v1",
        "https://api.openai.com/v1?proxy=x",
        "not a url",
    ] {
        assert!(!same(allowed, seen), "{seen}");
    }
    assert!(same("not a url", "not a url/"));
}

#[test]
fn normal_form() {
    assert_eq!(
        normalize("https://API.openai.com:443/v1/").as_deref(),
        Some("https://api.openai.com/v1")
    );
    assert_eq!(
        normalize("http://localhost:11434/").as_deref(),
        Some("http://localhost:11434")
    );
    assert_eq!(normalize("/relative"), None);
}

#[test]
fn policy_problems() {
    assert_eq!(policy_problem("https://api.openai.com/v1"), None);
    assert_eq!(policy_problem("http://localhost:11434/v1"), None);
    assert!(policy_problem("ftp://x.example").is_some());
    assert!(policy_problem("api.openai.com/v1").is_some());
    assert!(policy_problem("https:///v1").is_some());
    assert!(policy_problem("https://a b.example").is_some());
    let secret = policy_problem("https://user:hunter2@x.example/v1").unwrap();
    assert!(!secret.contains("hunter2"), "{secret}");
    // The fuzzer's finds: credentials under another scheme, a key in the path, with spaces.
    for raw in [
        "ftp://alice:sk-proj-FUZZSECRET0123456789@router.example/v1",
        "https://router.example/sk-proj-FUZZSECRET0123456789 /v1",
        "sk-proj-FUZZSECRET0123456789",
    ] {
        let message = policy_problem(raw).unwrap();
        assert!(!message.contains("FUZZSECRET"), "{message}");
    }
}

/// Issue 25: the endpoint judged is the one Codex's WHATWG parser connects to, not what a
/// redaction of the text shows.
#[test]
fn a_url_is_judged_where_codex_connects() {
    let allowed = "https://api.openai.com/v1";
    let attack = judged("https://evil.example\\@api.openai.com/v1");
    assert_eq!(attack, "https://evil.example/@api.openai.com/v1");
    assert!(!same(allowed, &attack), "{attack}");
    // Its compliant twin, and spellings the standard reads as the same endpoint.
    for seen in [
        "https://api.openai.com/v1",
        "https://API.openai.com:443/v1/",
        "https:\\\\api.openai.com\\v1",
        "https:api.openai.com/v1",
        " https://api.openai.com/v1\n",
        "https://api.open\tai.com/v1",
    ] {
        let j = judged(seen);
        assert_eq!(j, "https://api.openai.com/v1", "{seen:?}");
        assert!(same(allowed, &j), "{seen:?}");
    }
    // Userinfo moves the host: `api.openai.com@evil` is evil's.
    assert!(!same(
        allowed,
        &judged("https://api.openai.com@evil.example/v1")
    ));
    assert!(!same(
        allowed,
        &judged("https://api.openai.com:443@evil.example/v1")
    ));
    assert!(!same(
        allowed,
        &judged("https://api.openai.com%2f@evil.example/v1")
    ));
    assert!(!same(
        allowed,
        &judged("https://evil.example?@api.openai.com/v1")
    ));
    assert!(!same(
        allowed,
        &judged("https://evil.example#@api.openai.com/v1")
    ));
    assert!(
        !same(allowed, &judged("https://аpi.openai.com/v1")),
        "cyrillic а"
    );
    // Numeric hosts are read as IPv4 the way the standard reads them.
    assert_eq!(judged("http://0x7f.1:8080/v1"), "http://127.0.0.1:8080/v1");
}

#[test]
fn what_no_allowed_url_can_be_fails_closed_and_keeps_no_secret() {
    for raw in [
        "https://user:sk-proj-SECRET0123456789@api.openai.com/v1",
        "https://api.openai.com/v1#frag",
        "not a url",
        "api.openai.com/v1",
        "",
    ] {
        let j = judged(raw);
        assert!(j.contains("(not judged: "), "{raw}: {j}");
        assert!(!same("https://api.openai.com/v1", &j), "{raw}");
        assert!(!j.contains("SECRET"), "{j}");
    }
    let keyed = judged("https://router.example/sk-proj-SECRET0123456789/v1");
    assert_eq!(keyed, "https://router.example/[redacted]/v1");
    let query = judged("https://router.example/v1?key=SECRET");
    assert_eq!(
        query,
        "https://router.example/v1 (not judged: it has a query)"
    );
    // The judged form is a fixed point: judging it again (a record read back) changes nothing.
    for raw in [
        "https://API.openai.com:443/v1/",
        "http://[::1]:8080/",
        "https://x.example/a/b",
    ] {
        let j = judged(raw);
        assert_eq!(judged(&j), j, "{raw}");
    }
}

/// Found by the differential harness (0.169): Codex appends `/responses` to the untrimmed text,
/// so a trailing blank is in the path it requests.
#[test]
fn a_base_url_is_judged_with_what_codex_appends() {
    assert_eq!(
        judged_base("  http://127.0.0.1:9/v1 "),
        "http://127.0.0.1:9/v1%20"
    );
    assert!(!same(
        "http://127.0.0.1:9/v1",
        &judged_base("http://127.0.0.1:9/v1 ")
    ));
    // Its twins: a leading blank, a trailing slash and a tab are nothing to the parser.
    for raw in [
        "  http://127.0.0.1:9/v1",
        "http://127.0.0.1:9/v1/",
        "http://127.0.0.1:9/v\t1",
    ] {
        assert_eq!(judged_base(raw), "http://127.0.0.1:9/v1", "{raw:?}");
    }
    assert!(judged_base("http://127.0.0.1:9/v1?x=1").contains("(not judged: "));
    assert!(judged_base("http://127.0.0.1:9/v1#").contains("(not judged: "));
    assert_eq!(judged_base("http://x\\@y/v1"), "http://x/@y/v1");
}
