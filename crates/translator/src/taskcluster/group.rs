//! `task-group-resolved` messages: a task group whose tasks have all
//! resolved, for now.

use serde::Deserialize;

use super::message::{malformed, missing};
use super::route::parse_treeherder_route;
use crate::{Error, Message, Record, TaskGroupRecord};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    task_group_id: Option<String>,
    scheduler_id: Option<String>,
}

/// The resolved group; its push when the message's routes name one
/// (a malformed `tc-treeherder` route is an error, as on task messages).
pub(super) fn translate(msg: &Message) -> Result<Record, Error> {
    let body: Body = serde_json::from_slice(&msg.body).map_err(|e| malformed(e.to_string()))?;
    let task_group_id = body.task_group_id.ok_or_else(|| missing("taskGroupId"))?;
    let mut push = None;
    for route in msg.cc.iter() {
        if let Some(found) = parse_treeherder_route(route)? {
            push = Some(found);
            break;
        }
    }
    Ok(Record::TaskGroup(TaskGroupRecord {
        task_group_id,
        scheduler_id: body.scheduler_id,
        tree: push.as_ref().map(|p| p.project.clone()).unwrap_or_default(),
        revision: push.map(|p| p.revision),
        key: msg.routing_key.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{exchanges, ErrorKind};

    #[test]
    fn a_resolved_group_with_and_without_routes() {
        let body = br#"{"taskGroupId": "Hn1tb5YeTdKEVBwYRrBKBg", "schedulerId": "gecko-level-3", "expires": "2027-01-01T00:00:00.000Z"}"#;
        let bare = Message::new(
            exchanges::TASK_GROUP_RESOLVED,
            "primary.Hn1tb5YeTdKEVBwYRrBKBg.gecko-level-3._",
            body.to_vec(),
        );
        let Record::TaskGroup(group) = translate(&bare).unwrap() else {
            panic!("a group record")
        };
        assert_eq!(group.task_group_id, "Hn1tb5YeTdKEVBwYRrBKBg");
        assert_eq!(group.scheduler_id.as_deref(), Some("gecko-level-3"));
        assert_eq!((group.tree.as_str(), group.revision), ("", None));

        let routed = bare.clone().with_cc(vec![
            "route.tc-treeherder.v2.autoland.fb6b61e49217d835b2d6e435560424aab10d5475.105840"
                .into(),
        ]);
        let Record::TaskGroup(group) = translate(&routed).unwrap() else {
            panic!("a group record")
        };
        assert_eq!(group.tree, "autoland");

        let missing_id = Message::new(exchanges::TASK_GROUP_RESOLVED, "k", b"{}".to_vec());
        let error = translate(&missing_id).unwrap_err();
        assert_eq!(
            error.kind(),
            &ErrorKind::MissingTaskField {
                field: "taskGroupId"
            }
        );
    }
}
