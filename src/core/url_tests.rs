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
