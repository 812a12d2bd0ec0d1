// The studio's state, in one place. Views read `state` and change it only through the
// functions here; every change notifies the subscribers, which repaint.

export const state = {
  out: '',
  runs: [],
  run: null, // the opened run (the /api/run answer: grid, files, rules)
  base: null, // the event grid as loaded or last saved (the /api/events answer)
  events: [], // A: the events as edited, what plays and what Save writes
  loop: null, // A's {bpm, bars, swing} as edited: how it plays, and what Save writes with it
  undoStack: [], // each a {events, loop} A was before an edit
  redoStack: [],
  compare: null, // B: a groove result beside A (an /api/events answer), read-only
  listening: 'a', // which of A and B the player plays
  looping: true,
  playing: false,
  conflict: null, // {message, newer}: a save refused because another tab saved since
  busy: '', // what the server is doing (e.g. 'humanize'), '' when idle
  poolChoices: null, // {ids: {role: [sample ids]}, files: {sample id: path}}: the role menus
  library: null, // the opened run's library lists (the /api/library answer), once shown
  libraryMap: null, // its library map (the /api/library/map answer), once it arrived
  librarySort: {}, // {role: 'asc'} where a role's list is least confident first
  libraryRows: {}, // {role: n} where a role's list shows more than its first page
  showLibrary: false,
  uploads: [], // File objects chosen for a new run (dropped or picked), not sent yet
  progress: null, // the new run under way or last finished (newrun.js startingProgress)
  message: '',
};

const listeners = new Set();

export function subscribe(listener) {
  listeners.add(listener);
}

export function update(changes) {
  Object.assign(state, changes);
  for (const listener of listeners) listener(state);
}

/** A hit's identity in an event grid: one hit per role on a step (as the editor's). */
export const hitKey = (e) => `${e.bar}:${e.step}:${e.role}`;

export function findHit(events, bar, step, role) {
  return events.find((e) => e.bar === bar && e.step === step && e.role === role) ?? null;
}

/** An answer's {bpm, bars, swing} (the /api/events `loop`). */
export const loopOf = (loaded) => ({
  bpm: loaded.loop.bpm,
  bars: loaded.loop.bars,
  swing: loaded.loop.swing,
});

/** The grid of `loop`, as the skeleton builds one (skeleton/grid.py build_grid): 4/4,
 *  16 steps a bar, each time a product of its index and the period. */
export function gridOf({ bpm, bars }) {
  const tbeat = 60 / bpm;
  const tbar = tbeat * 4;
  const tstep = tbar / 16;
  return {
    bpm,
    meter: '4/4',
    steps_per_bar: 16,
    num_bars: bars,
    tbeat,
    tbar,
    tstep,
    bar_start: Array.from({ length: bars }, (_, b) => b * tbar),
    t_step: Array.from({ length: bars * 16 }, (_, i) => i * tstep),
  };
}

const sameLoop = (a, b) => a.bpm === b.bpm && a.bars === b.bars && a.swing === b.swing;

/** Open an event grid for editing: its events and loop become A, the history starts afresh. */
export function openEvents(loaded) {
  update({
    base: loaded,
    events: loaded.events.map((e) => ({ ...e })),
    loop: loopOf(loaded),
    undoStack: [],
    redoStack: [],
    conflict: null,
  });
}

/** Show `events` while a drag is under way, without a step of history. */
export function previewEdit(events) {
  update({ events });
}

/** A finished edit: `events` (and `loop`) replace A's; A as it was (`before` its events)
 *  becomes the step undo returns to. */
export function commitEdit(events, before = state.events, loop = state.loop) {
  const was = { events: before, loop: state.loop };
  update({ events, loop, undoStack: [...state.undoStack, was], redoStack: [] });
}

/** A new bpm, swing or bar count for A (`events` as they become with it): one step of history. */
export function commitLoop(loop, events = state.events) {
  if (sameLoop(loop, state.loop) && events === state.events) return;
  commitEdit(events, state.events, loop);
}

/** Step back (`undoStack` to `redoStack`) or forward (the other way): the top of `from`
 * becomes A, and A as it was goes onto `to`. */
function travel(from, to) {
  if (!state[from].length) return;
  const { events, loop } = state[from].at(-1);
  update({
    events,
    loop,
    [from]: state[from].slice(0, -1),
    [to]: [...state[to], { events: state.events, loop: state.loop }],
  });
}

export function undo() {
  travel("undoStack", "redoStack");
}

export function redo() {
  travel("redoStack", "undoStack");
}

/**
 * `events` on a loop of `bars` bars: shorter drops the hits of the bars cut off; longer
 * adds bars, empty or (`repeat`) each a copy of the bar as many bars back as the loop had.
 */
export function resizeBars(events, fromBars, toBars, repeat) {
  const kept = events.filter((e) => e.bar < toBars);
  if (toBars <= fromBars || !repeat) return kept;
  const copies = [];
  for (let bar = fromBars; bar < toBars; bar++) {
    for (const e of events) {
      if (e.bar === bar % fromBars) copies.push({ ...e, bar, source: 'edit' });
    }
  }
  return [...kept, ...copies];
}

const SAME_FIELDS = ['sample_id', 'vel', 'micro_offset_ms', 'dur_steps'];

/**
 * The edits that turn `before` into `after`, as the server applies them through the
 * editor's operations: a remove per hit gone, then a set per hit new or changed.
 */
export function editsBetween(before, after) {
  const old = new Map(before.map((e) => [hitKey(e), e]));
  const now = new Map(after.map((e) => [hitKey(e), e]));
  const edits = [];
  for (const [key, e] of old) {
    if (!now.has(key)) edits.push({ op: 'remove', bar: e.bar, step: e.step, role: e.role });
  }
  for (const [key, e] of now) {
    const was = old.get(key);
    if (was && SAME_FIELDS.every((field) => was[field] === e[field])) continue;
    edits.push({
      op: 'set',
      bar: e.bar,
      step: e.step,
      role: e.role,
      sample_id: e.sample_id,
      vel: e.vel,
      micro_offset_ms: e.micro_offset_ms,
      dur_steps: e.dur_steps,
    });
  }
  return edits;
}

export function isDirty() {
  if (state.base === null) return false;
  const loopChanged = state.loop !== null && !sameLoop(state.loop, loopOf(state.base));
  return loopChanged || editsBetween(state.base.events, state.events).length > 0;
}
