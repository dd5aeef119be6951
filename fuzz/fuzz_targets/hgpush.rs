//! Input: the body of a message on `exchange/hgpushes/v2`. `translate`
//! must return push records or a typed error, never panic; a record names
//! a tree and, when it has one, a revision of hex digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_translator::{exchanges, translate, Message, Options, Record};

fuzz_target!(|body: &[u8]| {
    let message = Message::new(exchanges::HG_PUSHES, "integration/autoland", body.to_vec());
    if let Ok(records) = translate(&message, &Options::default()) {
        for record in records {
            let Record::Push(push) = record else {
                panic!("an hg message made {record:?}");
            };
            assert!(!push.tree.is_empty());
            assert!(push
                .revision
                .iter()
                .all(|r| r.bytes().all(|b| b.is_ascii_hexdigit())));
        }
    }
});
