// The studio's state, in one place. Views read `state` and change it only through the
// functions here; every change notifies the subscribers, which repaint.

export const state = {
  out: '',
  runs: [],
  run: null, // the opened run (the /api/run answer: grid, files, rules)
  base: null, // the event grid as loaded or last saved (the /api/events answer)
  events: [], // A: the events as edited, what plays and what Save writes
  undoStack: [],
  redoStack: [],
  compare: null, // B: a groove result beside A (an /api/events answer), read-only
  listening: 'a', // which of A and B the player plays
  loop: true,
  playing: false,
  conflict: null, // {message, newer}: a save refused because another tab saved since
  busy: '', // what the server is doing (e.g. 'humanize'), '' when idle
  poolChoices: null, // {ids: {role: [sample ids]}, files: {sample id: path}}: the role menus
  library: null, // the opened run's library (the /api/library answer), once shown
  librarySort: {}, // {role: 'asc'} where a role's list is least confident first
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

/** Open an event grid for editing: its events become A, the history starts afresh. */
export function openEvents(loaded) {
  update({
    base: loaded,
    events: loaded.events.map((e) => ({ ...e })),
    undoStack: [],
    redoStack: [],
    conflict: null,
  });
}

/** Show `events` while a drag is under way, without a step of history. */
export function previewEdit(events) {
  update({ events });
}

/** A finished edit: `events` replaces A and `before` becomes the step undo returns to. */
export function commitEdit(events, before = state.events) {
  update({ events, undoStack: [...state.undoStack, before], redoStack: [] });
}

export function undo() {
  if (!state.undoStack.length) return;
  update({
    events: state.undoStack.at(-1),
    undoStack: state.undoStack.slice(0, -1),
    redoStack: [...state.redoStack, state.events],
  });
}

export function redo() {
  if (!state.redoStack.length) return;
  update({
    events: state.redoStack.at(-1),
    redoStack: state.redoStack.slice(0, -1),
    undoStack: [...state.undoStack, state.events],
  });
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
  return state.base !== null && editsBetween(state.base.events, state.events).length > 0;
}
