// The live page of pulse build monitor. It follows /events (server-sent
// events: snapshot, push, build, status) and draws the tree view, one
// push's failures, and the latest builds.
//
// Everything shown comes from CI data, and failure messages hold HTML and
// script text: the DOM is built with createElement and textContent only,
// and links are set only to http(s) URLs.
'use strict';

const TASKCLUSTER = 'https://firefox-ci-tc.services.mozilla.com';
const TREEHERDER = 'https://treeherder.mozilla.org';
const RESULTS = ['success', 'testfailed', 'busted', 'exception', 'retry', 'usercancel', 'superseded'];
const PROGRESS = ['pending', 'running', 'unscheduled'];

const state = {
  pushes: new Map(), // "tree/revision" -> summary
  builds: {}, // tree -> platform -> buildtype -> build
  connected: null, // the monitor's broker connection; null: a replay
  stream: 'connecting', // the page's own stream: connecting, open, lost
};

// --- building the DOM, as text ---

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined) continue;
    if (name === 'class') node.className = value;
    else if (name === 'href') {
      const url = safeUrl(value);
      if (url) node.setAttribute('href', url);
    } else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

// Only http(s) links, resolved against the page (a `javascript:` log URL
// stays text).
function safeUrl(value) {
  try {
    const url = new URL(String(value), window.location.href);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.href;
  } catch (e) {
    // not a URL
  }
  return null;
}

function link(text, url, extra) {
  const href = url && safeUrl(url);
  if (!href) return null;
  const external = !href.startsWith(window.location.origin);
  return el('a', Object.assign({ href, rel: external ? 'noopener noreferrer' : null }, extra || {}), text);
}

function taskUrl(taskId) {
  return `${TASKCLUSTER}/tasks/${encodeURIComponent(taskId)}`;
}

function groupUrl(groupId) {
  return `${TASKCLUSTER}/tasks/groups/${encodeURIComponent(groupId)}`;
}

function treeherderUrl(tree, revision, taskId, runId) {
  const params = new URLSearchParams({ repo: tree, revision });
  if (taskId) params.set('selectedTaskRun', `${taskId}.${runId || 0}`);
  return `${TREEHERDER}/jobs?${params}`;
}

function pushHash(push) {
  return `#/push/${encodeURIComponent(push.tree)}/${encodeURIComponent(push.revision)}`;
}

function age(when) {
  if (!when) return '';
  const seconds = Math.max(0, (Date.now() - Date.parse(when)) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

function pushedAt(push) {
  return push.pushed_at || push.first_seen;
}

function newestFirst(a, b) {
  return Date.parse(pushedAt(b)) - Date.parse(pushedAt(a)) || a.tree.localeCompare(b.tree);
}

// --- the views ---

function statusBanner() {
  const banner = document.getElementById('status');
  let kind;
  let text;
  if (state.stream === 'lost') {
    kind = 'lost';
    text = 'Lost the connection to the page server; reconnecting… (what is shown may be old)';
  } else if (state.stream === 'connecting') {
    kind = 'connecting';
    text = 'Connecting to the monitor…';
  } else if (state.connected === false) {
    kind = 'disconnected';
    text = 'The monitor is disconnected from Pulse: this is what it knew. It catches up when it reconnects.';
  } else if (state.connected === true) {
    kind = 'connected';
    text = 'Live: the monitor is connected to Pulse.';
  } else {
    kind = 'replay';
    text = 'No broker: showing what the monitor read from its recording.';
  }
  banner.dataset.connection = kind;
  banner.textContent = text;
}

function countCells(counts) {
  return [...RESULTS, ...PROGRESS, 'tasks'].map((name) => {
    const value = counts[name] || 0;
    return el('td', { 'data-count': name, class: value > 0 ? `count ${name}` : 'count zero' }, String(value));
  });
}

// Short column titles; the full word is the tooltip.
const SHORT = { usercancel: 'cancel', superseded: 'supers.', unscheduled: 'unsched.' };

function countHeaders() {
  return [...RESULTS, ...PROGRESS, 'tasks'].map((name) => el('th', { class: 'count', title: name }, SHORT[name] || name));
}

function resultBadge(push) {
  const result = push.result || 'none yet';
  return el('span', { class: `badge ${push.result || 'unknown'}`, 'data-result': result }, result);
}

function treeView() {
  const main = el('div', { id: 'trees' });
  const byTree = new Map();
  for (const push of [...state.pushes.values()].sort(newestFirst)) {
    if (!byTree.has(push.tree)) byTree.set(push.tree, []);
    byTree.get(push.tree).push(push);
  }
  if (byTree.size === 0) main.appendChild(el('p', { class: 'empty' }, 'No pushes yet.'));
  for (const tree of [...byTree.keys()].sort()) {
    const rows = byTree.get(tree).map((push) =>
      el('tr', { 'data-push': `${push.tree}/${push.revision}`, 'data-state': push.state },
        el('td', {}, el('a', { href: pushHash(push), class: 'revision' }, push.revision.slice(0, 12))),
        el('td', { class: 'author' }, push.author || ''),
        el('td', { title: pushedAt(push), class: 'age' }, age(pushedAt(push))),
        el('td', { 'data-field': 'state' }, push.state),
        el('td', {}, resultBadge(push)),
        countCells(push.counts)));
    main.appendChild(el('section', { class: 'tree', 'data-tree': tree },
      el('h2', {}, tree),
      el('table', {},
        el('thead', {}, el('tr', {},
          el('th', {}, 'revision'), el('th', {}, 'author'), el('th', {}, 'pushed'),
          el('th', {}, 'state'), el('th', {}, 'worst'), countHeaders())),
        el('tbody', {}, rows))));
  }
  main.appendChild(buildsView());
  return main;
}

// Failure lines, when the monitor has them (failure details): `failures`
// as objects ({test, subtest, status, expected, message}) or
// `failure_lines` as strings; a reason when they could not be read.
function failureLines(task) {
  const lines = [];
  const failures = Array.isArray(task.failures) ? task.failures : [];
  for (const f of failures) {
    if (typeof f === 'string') {
      lines.push(f);
      continue;
    }
    const parts = [f.test, f.subtest, f.status && (f.expected ? `${f.status} (expected ${f.expected})` : f.status), f.message]
      .filter((part) => part !== null && part !== undefined && part !== '');
    lines.push(parts.join(' | '));
  }
  if (Array.isArray(task.failure_lines)) lines.push(...task.failure_lines.map(String));
  const reason = task.details_unavailable || task.details_error;
  const list = el('ul', { class: 'failure-lines' }, lines.map((line) => el('li', { class: 'failure-line' }, el('code', {}, line))));
  return [lines.length ? list : null, reason ? el('p', { class: 'details-unavailable' }, `details unavailable: ${reason}`) : null];
}

function pushView(tree, revision) {
  const push = state.pushes.get(`${tree}/${revision}`)
    || [...state.pushes.values()].find((p) => p.tree === tree && p.revision.startsWith(revision));
  const main = el('div', { id: 'push' }, el('p', {}, el('a', { href: '#/' }, '← all pushes')));
  if (!push) {
    main.appendChild(el('p', { class: 'empty' }, `No push ${revision} on ${tree} is shown (yet).`));
    return main;
  }
  const counts = push.counts;
  main.appendChild(el('section', { 'data-push': `${push.tree}/${push.revision}`, 'data-state': push.state },
    el('h2', {}, `${push.tree} `, el('span', { class: 'revision' }, push.revision)),
    el('dl', { class: 'facts' },
      el('dt', {}, 'author'), el('dd', { class: 'author' }, push.author || 'unknown'),
      el('dt', {}, 'pushed'), el('dd', { title: pushedAt(push) }, `${pushedAt(push)} (${age(pushedAt(push))})`),
      el('dt', {}, 'state'), el('dd', { 'data-field': 'state' }, push.state),
      el('dt', {}, 'worst result'), el('dd', {}, resultBadge(push)),
      el('dt', {}, 'retries'), el('dd', { 'data-field': 'reruns' },
        `${counts.reruns || 0} run(s) rerun by the queue; ${counts.retry || 0} task(s) waiting for their rerun`),
      el('dt', {}, 'elsewhere'), el('dd', {},
        link('Treeherder', treeherderUrl(push.tree, push.revision)),
        (push.task_groups || []).map((group) => [' · ', link(`task group ${group}`, groupUrl(group))]))),
    el('table', { class: 'counts' },
      el('thead', {}, el('tr', {}, countHeaders())),
      el('tbody', {}, el('tr', {}, countCells(counts))))));
  const failed = push.failed || [];
  const rows = failed.map((task) =>
    el('tr', { 'data-failed-task': task.task_id, class: `failed ${task.result}` },
      el('td', { class: 'label' }, task.label || task.task_id, failureLines(task)),
      el('td', {}, el('span', { class: `badge ${task.result}` }, task.result)),
      el('td', {}, task.run_id > 0 ? `run ${task.run_id} (after ${task.run_id} retr${task.run_id === 1 ? 'y' : 'ies'})` : `run ${task.run_id}`),
      el('td', { title: task.at }, age(task.at)),
      el('td', { class: 'links' },
        link('task', taskUrl(task.task_id)), ' ',
        link('log', task.logurl), ' ',
        link('Treeherder', treeherderUrl(push.tree, push.revision, task.task_id, task.run_id)))));
  main.appendChild(el('section', { class: 'failures' },
    el('h3', {}, `${failed.length} failed task(s)`),
    failed.length ? el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, 'task'), el('th', {}, 'result'), el('th', {}, 'run'), el('th', {}, 'when'), el('th', {}, 'links'))),
      el('tbody', {}, rows)) : el('p', { class: 'empty' }, 'Nothing failed.')));
  return main;
}

function buildsView() {
  const rows = [];
  for (const tree of Object.keys(state.builds).sort()) {
    for (const platform of Object.keys(state.builds[tree]).sort()) {
      for (const buildtype of Object.keys(state.builds[tree][platform]).sort()) {
        const b = state.builds[tree][platform][buildtype];
        const when = b.builddate ? new Date(b.builddate * 1000).toISOString() : null;
        rows.push(el('tr', { 'data-build': `${tree}/${platform}/${buildtype}` },
          el('td', {}, tree), el('td', {}, platform), el('td', {}, buildtype),
          el('td', { class: 'label' }, b.buildername || ''),
          el('td', { class: 'revision' }, (b.revision || '').slice(0, 12)),
          el('td', {}, el('span', { class: `badge ${b.result || 'unknown'}` }, b.result || 'unknown')),
          el('td', { title: when || '' }, age(when)),
          el('td', { class: 'links' },
            link('build', b.buildurl, { 'data-link': 'build' }), ' ',
            link('tests', b.testsurl), ' ',
            link('symbols', b.symbols_url), ' ',
            link('log', b.logurl), ' ',
            b.task_id ? link('task', taskUrl(b.task_id)) : null, ' ',
            b.revision ? link('Treeherder', treeherderUrl(tree, b.revision, b.task_id, b.run_id)) : null)));
      }
    }
  }
  return el('section', { id: 'builds' },
    el('h2', {}, 'Latest builds'),
    rows.length ? el('table', {},
      el('thead', {}, el('tr', {}, ['tree', 'platform', 'type', 'label', 'revision', 'result', 'when', 'links'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows)) : el('p', { class: 'empty' }, 'No builds yet.'));
}

function render() {
  statusBanner();
  const main = document.getElementById('main');
  const route = window.location.hash.match(/^#\/push\/([^/]+)\/([^/]+)$/);
  const view = route ? pushView(decodeURIComponent(route[1]), decodeURIComponent(route[2])) : treeView();
  main.replaceChildren(view);
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
}

// Many events may come at once: draw once for them.
let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    render();
  }, 50);
}

// --- the stream ---

function connect() {
  const events = new EventSource('/events');
  events.onopen = () => {
    state.stream = 'open';
    schedule();
  };
  events.onerror = () => {
    // EventSource reconnects by itself; the server sends a snapshot then.
    state.stream = 'lost';
    schedule();
  };
  events.addEventListener('snapshot', (e) => {
    const snapshot = JSON.parse(e.data);
    state.stream = 'open';
    state.pushes = new Map(snapshot.pushes.map((p) => [`${p.tree}/${p.revision}`, p]));
    state.builds = snapshot.builds;
    state.connected = snapshot.status.connected;
    schedule();
  });
  events.addEventListener('push', (e) => {
    const { push } = JSON.parse(e.data);
    state.pushes.set(`${push.tree}/${push.revision}`, push);
    schedule();
  });
  events.addEventListener('build', (e) => {
    const { tree, platform, buildtype, build } = JSON.parse(e.data);
    state.builds[tree] = state.builds[tree] || {};
    state.builds[tree][platform] = state.builds[tree][platform] || {};
    state.builds[tree][platform][buildtype] = build;
    schedule();
  });
  events.addEventListener('status', (e) => {
    state.connected = JSON.parse(e.data).connected;
    schedule();
  });
}

window.addEventListener('hashchange', render);
// Ages move on even when nothing happens.
setInterval(schedule, 30000);
render();
connect();
