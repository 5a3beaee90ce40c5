use super::*;

#[test]
fn keys_and_tokens_are_key_shaped_and_words_are_not() {
    for secret in [
        "sk-proj-abcdefghijklmnop1234",
        "sk-abc123def456ghi789",
        "at-0123456789abcdefgh",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
        "a1b2c3d4e5f6g7h8i9j0k1l2m3",
        "AKIAIOSFODNN7EXAMPLE",
    ] {
        assert!(key_shaped(secret), "{secret}");
    }
    for word in [
        "openai",
        "v1",
        "gpt-4o-mini-2024-07-18",
        "api.openai.com",
        "my-router",
        "deployments",
        "sk-",
        "8f0c2b1e-4d5a-4c3b-9e2f-1a2b3c4d5e6f",
    ] {
        assert!(!key_shaped(word), "{word}");
    }
}

#[test]
fn urls_lose_userinfo_query_fragment_and_key_segments() {
    let cases = [
        (
            "https://apikey:sk-proj-SECRET123456@router.example/v1?key=x#f",
            "https://router.example/v1",
        ),
        (
            "https://router.example/sk-proj-abcdefghijkl1234/v1/",
            "https://router.example/[redacted]/v1",
        ),
        ("sk-proj-abcdefghijklmnop1234", "[redacted]"),
        ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
        // The fuzzer's find: no scheme, and a `://` later in the path.
        (
            "alice:SECRET99@proxy.example/https://api.openai.com/v1",
            "proxy.example/https://api.openai.com/v1",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(url(input), want, "{input}");
        assert!(!url(input).contains("SECRET"));
    }
}
