#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs, in each target's input format,
# from the project's fixtures (fixtures/buildbot, fixtures/taskcluster) and,
# when it is there, the shared corpus of real messages (../shared/corpus beside
# the checkout; read only, never committed). Needs jq. Safe to run again:
# seeds are named by content and libFuzzer's own finds are left alone.
set -euo pipefail

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz_dir")
fixtures="$root/fixtures"
shared="${SHARED_CORPUS:-$root/../shared/corpus}"
corpus="$fuzz_dir/corpus"

command -v jq >/dev/null || { echo "seed.sh: jq is needed" >&2; exit 1; }
mkdir -p "$corpus"/{raw_buildbot,normalized,buildername,taskcluster}

# seed <target>: stdin becomes one seed, named by its hash.
seed() {
    local tmp
    tmp=$(mktemp)
    cat >"$tmp"
    mv "$tmp" "$corpus/$1/seed-$(sha1sum "$tmp" | cut -c1-16)"
}

# Raw buildbot bodies as they are.
raw_messages=("$fixtures"/buildbot/*.json)
if [[ -d $shared ]]; then
    while IFS= read -r -d '' file; do raw_messages+=("$file"); done \
        < <(find "$shared/buildbot-raw" "$shared/buildbot-unittest-2013" -type f ! -name '*.md' -print0)
else
    echo "seed.sh: no shared corpus at $shared; seeding from fixtures only" >&2
fi
for file in "${raw_messages[@]}"; do
    seed raw_buildbot <"$file"
    # Their buildernames, for the buildername target.
    jq -j '.payload.build.properties[]? | select(.[0] == "buildername") | .[1] | strings' "$file" 2>/dev/null \
        | seed buildername
done
find "$corpus/buildername" -type f -empty -delete

# Normalized messages: "<routing key>\n<payload>". Two small hand-written ones,
# then the reference translator's outputs and mozmill-ci's payloads.
printf '%s\n%s' 'build.mozilla-central.linux64.opt.nightly.mozilla-central-linux64-nightly' \
    '{"key":"build.mozilla-central-linux64-nightly.5.log_uploaded","tree":"mozilla-central","platform":"linux64","buildtype":"opt","product":"firefox","locale":"en-US","locales":null,"status":0,"builddate":1365682864,"tags":["nightly"]}' \
    | seed normalized
printf '%s\n%s' 'unittest.mozilla-central.win32.win7.debug.mochitest-3.firefox.mozilla-central_win7-debug_test-mochitest-3' \
    '{"key":"build.mozilla-central_win7-debug_test-mochitest-3.12.log_uploaded","tree":"mozilla-central","platform":"win32","buildtype":"debug","product":"firefox","job_number":12,"os":"win7","test":"mochitest-3","talos":false,"timestamp":"2013-04-11T12:21:04Z"}' \
    | seed normalized
if [[ -d $shared ]]; then
    for expected in "$shared"/*.expected.json; do
        jq -r '.[].normalized[] | "\(.routing_key)\n\(.payload | tojson)" | @base64' "$expected" \
            | while IFS= read -r line; do base64 -d <<<"$line" | seed normalized; done
    done
    for file in "$shared"/normalized-mozmill-ci/*.json; do
        jq -j '"build.\(.tree).\(.platform).\(.buildtype).\(.key | split(".")[1])\n\(tojson)"' "$file" \
            | seed normalized
    done
fi

# Taskcluster: "<exchange>\n<routing key>\n<CC routes, space-separated>\n<body>".
for file in "$fixtures"/taskcluster/*.message.json; do
    jq -j '"\(.exchange)\n\(.routing_key)\n\(.cc | join(" "))\n\(.body | tojson)"' "$file" | seed taskcluster
done
if [[ -d $shared ]]; then
    tc="$shared/taskcluster"
    jq -r --slurpfile tasks "$tc/treeherder-2019/taskcluster_tasks.json" \
        'to_entries[] | "\(.value.exchange)\n\(.value.routes)\n\([$tasks[0][.key].routes[]? | "route." + .] | join(" "))\n\(.value.payload | tojson)" | @base64' \
        "$tc/treeherder-2019/taskcluster_pulse_messages.json" \
        | while IFS= read -r line; do base64 -d <<<"$line" | seed taskcluster; done
    for file in "$tc"/tagged-2020/*_pulse.json; do
        task_id=$(jq -r '.status.taskId' "$file")
        routes='[]'
        [[ -f $tc/tagged-2020/task_$task_id.json ]] && routes=$(jq -c '.routes' "$tc/tagged-2020/task_$task_id.json")
        jq -j --argjson routes "$routes" \
            '"exchange/taskcluster-queue/v1/task-completed\nprimary.\(.status.taskId).\(.runId)._\n\([$routes[] | "route." + .] | join(" "))\n\(tojson)"' \
            "$file" | seed taskcluster
    done
fi

for target in raw_buildbot normalized buildername taskcluster; do
    echo "$target: $(find "$corpus/$target" -type f | wc -l) inputs"
done
