use super::*;

const CODEX: &str = "Name:\tcodex\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t26430\n\
    Ngid:\t0\nPid:\t26430\nPPid:\t1\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\n\
    Gid:\t1001\t1001\t1001\t1001\nFDSize:\t64\nGroups:\t1001 27 \nNSpid:\t26430\n\
    SigQ:\t1/96367\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n\
    SigBlk:\t0000000000000000\nSigIgn:\t0000000000001006\nSigCgt:\t0000000000004440\n";

#[test]
fn one_parser_reads_ids_tracer_and_signal_masks() {
    let st = parse_status(CODEX).unwrap();
    assert_eq!(st.uid, 1000);
    assert_eq!(st.gid, Some(1001));
    assert_eq!(st.groups, [1001, 27]);
    assert_eq!(st.tracer_pid, 0);
    assert!(!st.ns_init);
    // Codex catches SIGTERM (to save its state), and SIGBUS, SIGSEGV.
    assert_eq!(st.term(), TermFate::Handled);
    assert_eq!(st.untrusted_tracer(None), None);
    assert_eq!(parse_status("Name:\tx\n"), None);
    // `Uid` is not `Uidx`, nor a prefix of another field.
    assert_eq!(parse_status("Uidmap:\t5\n"), None);
}

#[test]
fn a_sigterm_that_cannot_arrive_is_told_from_one_that_ends_or_is_handled() {
    let with = |extra: &str| {
        parse_status(&format!(
            "Uid:\t1000\t1000\t1000\t1000\nTracerPid:\t0\n{extra}"
        ))
        .unwrap()
    };
    assert_eq!(with("").term(), TermFate::Ends);
    // `trap '' TERM`: ignored (bit 14).
    assert!(
        matches!(with("SigIgn:\t0000000000004000\n").term(), TermFate::Never(r) if r.contains("ignores"))
    );
    assert!(
        matches!(with("SigBlk:\t0000000000004000\n").term(), TermFate::Never(r) if r.contains("blocks"))
    );
    // The init of its own pid namespace: SIG_DFL from outside is dropped, a handler gets it.
    let init = with("NSpid:\t5120\t1\n");
    assert!(init.ns_init);
    assert!(matches!(init.term(), TermFate::Never(r) if r.contains("pid namespace")));
    assert_eq!(
        with("NSpid:\t5120\t1\nSigCgt:\t0000000000004000\n").term(),
        TermFate::Handled
    );
    // Pid 1 of the reader's own namespace is not "its own".
    assert!(!with("NSpid:\t1\n").ns_init);
}

#[test]
fn a_tracer_other_than_root_makes_the_process_untrusted() {
    let traced = parse_status("Uid:\t1000\t1000\t1000\t1000\nTracerPid:\t77\n").unwrap();
    assert_eq!(traced.tracer_pid, 77);
    assert!(matches!(traced.term(), TermFate::Never(_)));
    assert_eq!(traced.untrusted_tracer(Some(0)), None);
    let why = traced.untrusted_tracer(Some(1000)).unwrap();
    assert!(why.contains("pid 77") && why.contains("uid 1000"), "{why}");
    assert!(traced.untrusted_tracer(None).is_some());
    // No TracerPid line at all: a tracer of unknown pid, never "not traced".
    let unknown = parse_status("Uid:\t1000\t1000\t1000\t1000\n").unwrap();
    assert!(unknown.untrusted_tracer(None).is_some());
}
