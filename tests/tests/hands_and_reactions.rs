//! Raised hands and reactions on a real server: everyone sees the queue of
//! hands in the order they went up, a host lowers one, and reactions reach
//! everyone, no more of them than the server's rate allows.

use huddle_tests::bots::{bot, run_in_turn, third_user};
use huddle_tests::*;
use shared::Reaction;

#[tokio::test]
async fn hands_queue_in_order_a_host_lowers_one_and_reactions_are_rate_limited() {
    let server = TestServer::start().await;
    third_user(&server).await;
    let ann_script = r#"
        [[at]]
        time = 4.0
        host = { lower_hand = "Test Corporate" }
        [[expect]]
        hand_raised_by = "Test Corporate"
        [[expect]]
        hand_raised_by = "QA Bot"
        [[expect]]
        reaction_from = "Test Corporate"
    "#;
    let bob_script = r#"
        [[at]]
        time = 2.0
        raise_hand = true
        react = "clap"
        [[expect]]
        host_notice = "Test Startup lowered your hand"
    "#;
    // Cat raises her hand after Bob, and sends ten reactions at once.
    let mut cat_script = "[[at]]\ntime = 2.5\nraise_hand = true\n".to_string();
    for _ in 0..10 {
        cat_script += "[[at]]\ntime = 3.0\nreact = \"party\"\n";
    }
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 7.0, ann_script);
    let bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 7.0, bob_script);
    let cat = bot(
        &server,
        "qa@huddle.test",
        880.0,
        (40, 40, 200),
        7.0,
        &cat_script,
    );
    let [ann, bob, cat] = run_in_turn(&server, [ann, bob, cat]).await;
    for report in [&ann, &bob, &cat] {
        let failed = report.failed_expectations();
        assert!(failed.is_empty(), "{}: {failed:?}", report.name);
    }
    let seen_by_ann = |name: &str| ann.peers.iter().find(|p| p.name == name).unwrap();
    assert_eq!(
        seen_by_ann("Test Corporate").state.hand,
        None,
        "lowered by the host"
    );
    assert_eq!(
        seen_by_ann("QA Bot").state.hand,
        Some(2),
        "second in the queue, after Bob"
    );
    assert_eq!(seen_by_ann("Test Corporate").reactions, [Reaction::Clap]);
    let parties = &seen_by_ann("QA Bot").reactions;
    assert!(
        (5..=6).contains(&parties.len()),
        "a burst of 5 (2/s after it) of 10 sent at once; {} came",
        parties.len()
    );
    assert!(parties.iter().all(|r| *r == Reaction::Party));
    let seen_by_cat = cat
        .peers
        .iter()
        .find(|p| p.name == "Test Corporate")
        .unwrap();
    assert!(seen_by_cat.seen.hand_raised, "everyone sees the queue");
}
