//! [`primary_routing_key`]: the routing key the Taskcluster queue gives a
//! task message, written once for every crate that rebuilds one (replays
//! of bodies recorded without their envelope, the generator, tests and
//! benchmarks).

use serde_json::Value;

/// `primary.<taskId>.<runId>.<workerGroup>.<workerId>.<provisionerId>.<workerType>.<schedulerId>.<taskGroupId>._`
/// for a queue message's body (`services/queue/src/exchanges.js`), `_`
/// for what the body does not name. The worker comes from the body, as
/// the queue takes it; for a body recorded without it (Treeherder's 2019
/// samples), from the run. A `task-defined` body has no run.
///
/// ```
/// use pulse_message::primary_routing_key;
///
/// let body = serde_json::json!({
///     "status": {"taskId": "T", "provisionerId": "gecko-t", "workerType": "t-linux",
///                "schedulerId": "gecko-level-3", "taskGroupId": "G",
///                "runs": [{"runId": 0, "workerGroup": "us-east1", "workerId": "w-1"}]},
///     "runId": 0,
/// });
/// assert_eq!(primary_routing_key(&body), "primary.T.0.us-east1.w-1.gecko-t.t-linux.gecko-level-3.G._");
/// let defined = serde_json::json!({"status": {"taskId": "T", "taskGroupId": "G"}});
/// assert_eq!(primary_routing_key(&defined), "primary.T._._._._._._.G._");
/// ```
pub fn primary_routing_key(body: &Value) -> String {
    let status = &body["status"];
    let run_id = body["runId"].as_u64();
    let run = run_id
        .and_then(|id| {
            status["runs"]
                .as_array()?
                .iter()
                .find(|run| run["runId"].as_u64() == Some(id))
        })
        .unwrap_or(&Value::Null);
    let text = |value: &Value| value.as_str().unwrap_or("_").to_string();
    let worker = |field: &str| match body[field].as_str() {
        Some(name) => name.to_string(),
        None => text(&run[field]),
    };
    [
        "primary".to_string(),
        text(&status["taskId"]),
        run_id.map_or_else(|| "_".to_string(), |id| id.to_string()),
        worker("workerGroup"),
        worker("workerId"),
        text(&status["provisionerId"]),
        text(&status["workerType"]),
        text(&status["schedulerId"]),
        text(&status["taskGroupId"]),
        "_".to_string(),
    ]
    .join(".")
}
