// The studio's page: wires the views (runs, step grids, player) to the state and the
// server. Views never call the server; this module does, and puts the answers in state.

import { api, ApiError, runEvents } from './api.js';
import { GridView } from './grid.js';
import { LibraryView, PAGE_ROWS } from './library.js';
import { applyRunEvent, paintNewRun, startingProgress } from './newrun.js';
import { Player } from './player.js';
import { renderRuns } from './runs.js';
import {
  commitEdit,
  commitLoop,
  editsBetween,
  gridOf,
  isDirty,
  loopOf,
  openEvents,
  previewEdit,
  redo,
  resizeBars,
  state,
  subscribe,
  undo,
  update,
} from './state.js';

const $ = (id) => document.getElementById(id);
let gridA = null;
let gridB = null;

const say = (message) => update({ message });

function problem(error) {
  say(error instanceof ApiError || error instanceof Error ? error.message : String(error));
}

let lastGrid = null;

/** The grid of `loop` ({bpm, bars}), the same object while they stay the same. */
function loopGrid(loop) {
  if (lastGrid?.bpm !== loop.bpm || lastGrid?.num_bars !== loop.bars) lastGrid = gridOf(loop);
  return lastGrid;
}

/** What the player plays: A as edited (on its bpm, bars and swing), or B, read at every
 *  scheduler tick, so a change is heard within the lookahead. */
function playing() {
  const b = state.listening === 'b' && state.compare;
  const loop = b ? loopOf(state.compare) : state.loop;
  return {
    events: b ? state.compare.events : state.events,
    samples: {
      ...state.poolChoices?.files, // a sample a role menu chose
      ...state.base?.samples,
      ...(b ? state.compare.samples : {}),
    },
    grid: loopGrid(loop),
    swing: loop.swing,
    loop: state.looping,
    releaseSeconds: state.run.rules.release_ms / 1000,
  };
}

const player = new Player(playing, say);

// Tests read what was scheduled against the grid: window.drumgenxStudio.scheduled, and
// the samples auditioned in the library: window.drumgenxStudio.auditioned.
window.drumgenxStudio = {
  state,
  player,
  get scheduled() {
    return player.scheduled;
  },
  get auditioned() {
    return player.auditioned;
  },
  get libraryView() {
    return libraryView;
  },
};

// --- runs --------------------------------------------------------------------------------

async function showRuns() {
  player.stop();
  const { out, runs } = await api.runs();
  update({ out, runs, run: null, base: null, compare: null });
}

// --- a new run ---------------------------------------------------------------------------

function addUploads(files) {
  if (files.length) update({ uploads: [...state.uploads, ...files] });
}

function runParams() {
  const bpm = $('new-bpm').value.trim();
  return {
    bars: Number($('new-bars').value),
    bpm: bpm === '' || bpm === 'auto' ? 'auto' : Number(bpm),
    mode: $('new-mode').value,
  };
}

async function startRun() {
  const form = new FormData();
  for (const file of state.uploads) form.append('files', file, file.name);
  const folder = $('source-folder').value.trim();
  if (folder) form.append('folder', folder);
  form.append('params', JSON.stringify(runParams()));
  update({ busy: 'new run' });
  try {
    const started = await api.newRun(form);
    update({ uploads: [], progress: startingProgress(started.run, started.skipped) });
    const left = started.skipped.length ? `; ${started.skipped.length} upload(s) left out` : '';
    say(`the run started in ${started.run}${left}`);
    follow(started.run);
  } catch (error) {
    problem(error);
  } finally {
    update({ busy: '' });
  }
}

/** Follow a run's event stream to its end; then list the runs again and open the new one. */
function follow(run) {
  const source = runEvents(run);
  source.addEventListener('error', () => {
    // closed for good (the server stopped or forgot the run); else the browser reconnects
    if (source.readyState === EventSource.CLOSED) say(`lost the progress of ${run}: reload the page`);
  });
  for (const kind of ['stage', 'progress', 'notice', 'done', 'failed', 'stopped']) {
    source.addEventListener(kind, (message) => {
      const event = JSON.parse(message.data);
      update({ progress: applyRunEvent(state.progress, event) });
      if (kind === 'done' || kind === 'failed' || kind === 'stopped') {
        source.close();
        finished(event).catch(problem);
      }
    });
  }
}

async function finished(event) {
  const { runs } = await api.runs();
  update({ runs });
  if (event.type === 'failed') {
    say(`the run in ${state.progress.run} failed: ${event.error}`);
    return;
  }
  if (event.type === 'stopped') {
    say(`the run in ${state.progress.run} stopped at ${event.stage}; the finished stages' files stay`);
    return;
  }
  if (!isDirty() || window.confirm('The run is done. Drop your unsaved edits to open it?')) {
    await openRun(event.record);
  }
}

/** A run started before this page loaded (another tab, a reload): follow it too. */
/** Ask the run under way to stop at its next file or stage; its stream says when it has. */
async function stopRun() {
  const { run } = state.progress;
  update({ progress: { ...state.progress, stopping: true } });
  try {
    await api.stopRun(run);
    say(`stopping the run in ${run} at its next file or stage ...`);
  } catch (error) {
    update({ progress: { ...state.progress, stopping: false } });
    problem(error);
  }
}

async function followRunning() {
  const { running } = await api.newRunState();
  if (running) {
    update({ progress: startingProgress(running) });
    follow(running);
  }
}

async function openRun(record) {
  try {
    const run = await api.run(record);
    update({ run, compare: null, listening: 'a', library: null, libraryMap: null, showLibrary: false });
    update({ poolChoices: null });
    if (run.pools) loadPoolChoices().catch(problem);
    const first = run.start ?? run.event_grids.at(-1);
    if (!first) {
      say(`${record} has no event grid to open`);
      return;
    }
    await openEventGrid(first);
  } catch (error) {
    problem(error);
  }
}

// --- event grids -------------------------------------------------------------------------

/** The step grids of A and B, for a loop on `grid`. */
function buildGrids(grid) {
  const { rules } = state.run;
  gridA = new GridView($('grid-a'), {
    grid,
    rules,
    editable: true,
    current: () => ({ events: state.events, newHitSamples: state.base.new_hit_samples }),
    onEdit: (events, commit, before) => (commit ? commitEdit(events, before) : previewEdit(events)),
    onMessage: say,
    onRoleSample: (role, sampleId) => chooseRoleSample(role, sampleId),
  });
  if (state.poolChoices) gridA.setPools(state.poolChoices.ids);
  gridB = new GridView($('grid-b'), { grid, rules, editable: false });
}

/** The run's files again: another tab (or the command line) may have written some. */
async function refreshFiles() {
  const { event_grids } = await api.run(state.run.record);
  update({ run: { ...state.run, event_grids } });
}

/** The run's pools for the role menus: each role's sample ids, and their files. */
async function loadPoolChoices() {
  const library = await api.library(state.run.record, state.run.pools, {
    waveforms: false,
    places: false,
  });
  const ids = {};
  const files = {};
  for (const [role, samples] of Object.entries(library.roles)) {
    ids[role] = samples.map((s) => s.sample_id);
    for (const s of samples) files[s.sample_id] = s.file;
  }
  gridA?.setPools(ids); // before the repaint that shows each role's sample in them
  update({ poolChoices: { ids, files } });
}

/** Every hit of `role` plays `sampleId` now (one edit: undo takes it back). */
function chooseRoleSample(role, sampleId) {
  if (!sampleId) return;
  const changed = state.events.map((e) =>
    e.role === role && e.sample_id !== sampleId ? { ...e, sample_id: sampleId, source: 'edit' } : e,
  );
  const count = changed.filter((e, i) => e !== state.events[i]).length;
  if (!count) return;
  commitEdit(changed);
  player.prepare({ [sampleId]: state.poolChoices.files[sampleId] });
  say(`${count} ${role} hit(s) now play ${sampleId} (save to keep it)`);
}

async function openEventGrid(path) {
  const loaded = await api.events(path);
  await refreshFiles();
  buildGrids(gridOf(loopOf(loaded)));
  openEvents(loaded);
  await player.prepare(loaded.samples);
  say(`opened ${loaded.path}`);
}

async function save(force = false) {
  const edits = editsBetween(state.base.events, state.events);
  if (!isDirty()) {
    say('nothing to save: no change since the file was opened');
    return;
  }
  try {
    const { path: base, head } = state.base;
    const saved = await api.save({ base, head, edits, loop: state.loop, force });
    const { undoStack, redoStack } = state;
    const original = state.base.path;
    await refreshFiles();
    openEvents(saved);
    update({ undoStack, redoStack }); // saving is no edit: the history stays
    await player.prepare(saved.samples);
    say(`Saved as ${saved.path} (${original} is unchanged)`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      update({ conflict: { message: error.message, newer: error.body.newer } });
    }
    problem(error);
  }
}

async function groove(mode) {
  if (isDirty()) {
    say(`save your edits first: ${mode} runs on a saved file`);
    return;
  }
  update({ busy: mode });
  say(`${mode}: ${mode === "humanize" ? "the humanizer" : "GrooVAE"} is running on ${state.base.path} ...`);
  try {
    const result = await api.groove({
      record: state.run.record,
      events: state.base.path,
      mode,
      temperature: Number($('temperature').value),
      seed: Number($('seed').value),
    });
    await refreshFiles();
    update({ compare: result });
    await player.prepare(result.samples);
    const changes = mode === 'vary' ? `: ${result.added} hits added, ${result.removed} removed` : '';
    say(`${mode} wrote ${result.path}${changes}; it is B below, beside A for A/B listening`);
  } catch (error) {
    problem(error);
  } finally {
    update({ busy: '' });
  }
}

// --- exports -----------------------------------------------------------------------------

/** Write the saved loop as `kind` (wav, midi, kit) into OUT, then download what was written. */
async function exportLoop(kind) {
  if (isDirty()) {
    say(`save your edits first: the ${kind} export is of a saved file`);
    return;
  }
  update({ busy: `export ${kind}` });
  try {
    const result = await api.exportLoop({ record: state.run.record, events: state.base.path, kind });
    const link = document.createElement('a');
    link.href = result.download;
    link.download = ''; // the server's file name (Content-Disposition)
    document.body.append(link);
    link.click();
    link.remove();
    await refreshFiles();
    const notices = result.notices.length ? ` (${result.notices.join('; ')})` : '';
    say(`wrote ${result.written} and downloaded it${notices}`);
  } catch (error) {
    problem(error);
  } finally {
    update({ busy: '' });
  }
}

// --- the library -------------------------------------------------------------------------

/** The lists first (no waveforms, no map: quick for thousands), then the map; the rows'
 *  waveforms are asked for as rows are shown (`loadPeaks`). */
async function showLibrary(pools) {
  const { record } = state.run;
  const library = await api.library(record, pools, { waveforms: false, places: false });
  update({ library, showLibrary: true, libraryRows: {} });
  if (!state.libraryMap) update({ libraryMap: await api.libraryMap(record) });
}

const PEAKS_AT_ONCE = 500; // the server's limit on one request (library.MAX_PEAK_IDS)

async function loadPeaks(ids) {
  const { record } = state.run;
  const pools = state.library.pools;
  for (let start = 0; start < ids.length; start += PEAKS_AT_ONCE) {
    const answer = await api.libraryPeaks(record, pools, ids.slice(start, start + PEAKS_AT_ONCE));
    libraryView.setPeaks(answer.peaks);
  }
}

async function moveSample(sampleId, role) {
  const shown = state.library.pools;
  try {
    const moved = await api.moveSample({
      record: state.run.record,
      pools: shown,
      sample_id: sampleId,
      role,
    });
    update({ library: moved });
    say(`${sampleId} moved from ${moved.from_role} to ${role}: wrote ${moved.written} (${shown} is unchanged)`);
  } catch (error) {
    problem(error);
    libraryView.painted = null; // a refused move: put its menu back
    update({});
  }
}

const libraryView = new LibraryView($('role-lists'), $('library-map'), $('map-label'), {
  onAudition: (sample) => sample.file && player.audition(sample.sample_id, sample.file).catch(problem),
  onPrefetch: (sample) => sample.file && player.prepare({ [sample.sample_id]: sample.file }),
  onMove: (sampleId, role) => moveSample(sampleId, role),
  onSort: (role) => {
    const sort = { ...state.librarySort, [role]: state.librarySort[role] === 'asc' ? 'desc' : 'asc' };
    update({ librarySort: sort });
  },
  onMore: (role) => {
    const rows = { ...state.libraryRows, [role]: (state.libraryRows[role] ?? PAGE_ROWS) + PAGE_ROWS };
    update({ libraryRows: rows });
  },
  onNeedPeaks: (ids) => loadPeaks(ids).catch(problem),
});

function paintLibrary() {
  $('library').hidden = !(state.showLibrary && state.library);
  $('show-library').setAttribute('aria-pressed', String(state.showLibrary));
  if ($('library').hidden) return;
  const select = $('pools-select');
  const files = state.library.pools_files;
  if ([...select.options].map((o) => o.value).join('\n') !== files.join('\n')) {
    select.replaceChildren(...files.map((path) => new Option(path, path)));
  }
  select.value = state.library.pools;
  const { library, librarySort, libraryRows, libraryMap } = state;
  libraryView.paint(library, librarySort, libraryRows, libraryMap, state.run.rules);
}

// --- painting ----------------------------------------------------------------------------

function paint() {
  $('message').textContent = state.message;
  $('out-folder').textContent = state.out;
  const editing = state.run !== null && state.base !== null;
  $('runs-view').hidden = editing;
  $('editor-view').hidden = !editing;
  $('runs-empty').hidden = state.runs.length > 0;
  if (!editing) return;
  const { bpm, bars, swing } = state.loop;
  const grid = loopGrid(state.loop);
  $('tempo').textContent =
    `${bpm.toFixed(1)} bpm · ${bars} bars · ${grid.steps_per_bar} steps a bar · ` +
    `swing ${swing} · ${(bars * grid.tbar).toFixed(3)} s`;
  showValue($('bpm'), bpm);
  showValue($('swing'), swing);
  showValue($('bars'), bars);
  $('swing-value').textContent = `${swing.toFixed(2)} (MPC ${Math.round(50 + 50 * swing)} %)`;
  gridA.setGrid(grid);
  const select = $('event-grid-select');
  const options = state.run.event_grids;
  if ([...select.options].map((o) => o.value).join('\n') !== options.join('\n')) {
    select.replaceChildren(...options.map((path) => new Option(path, path)));
  }
  select.value = state.base.path;
  $('name-a').textContent = `${state.base.path}${isDirty() ? ' (edited, not saved)' : ''}`;
  $('undo').disabled = !state.undoStack.length;
  $('redo').disabled = !state.redoStack.length;
  $('play').disabled = player.playing;
  $('stop').disabled = !player.playing;
  for (const id of ['humanize', 'vary', 'save', 'export-wav', 'export-midi', 'export-kit']) {
    $(id).disabled = Boolean(state.busy);
  }
  $('conflict').hidden = !state.conflict;
  $('conflict-text').textContent = state.conflict?.message ?? '';
  $('compare').hidden = !state.compare;
  document.querySelector(`input[name="listen"][value="${state.listening}"]`).checked = true;
  gridA.paint(state.events);
  paintLibrary();
  if (state.compare) {
    $('name-b').textContent = state.compare.path;
    gridB.setGrid(gridOf(loopOf(state.compare)));
    gridB.paint(state.compare.events);
  }
}

/** A control shows `value`, unless it is being typed in. */
function showValue(input, value) {
  if (document.activeElement !== input) input.value = String(value);
}

subscribe(paint);
subscribe((s) => renderRuns($('run-list'), s.runs, openRun));
subscribe((s) => paintNewRun($, s));

function followCursor() {
  const position = player.position();
  const listeningB = state.listening === 'b';
  gridA?.showCursor(listeningB ? null : position);
  gridB?.showCursor(listeningB ? position : null);
  if (!player.playing && state.playing) update({ playing: false });
  requestAnimationFrame(followCursor);
}

// --- controls ----------------------------------------------------------------------------

async function play() {
  await player.play();
  update({ playing: true });
}

function stop() {
  player.stop();
  update({ playing: false });
}

$('back').addEventListener('click', () => showRuns().catch(problem));
$('play').addEventListener('click', () => play().catch(problem));
$('stop').addEventListener('click', stop);
$('loop').addEventListener('change', (e) => update({ looping: e.target.checked }));
$('undo').addEventListener('click', undo);
$('redo').addEventListener('click', redo);
$('save').addEventListener('click', () => save(false));
$('save-branch').addEventListener('click', () => save(true));
$('open-newer').addEventListener('click', () => openEventGrid(state.conflict.newer).catch(problem));
$('humanize').addEventListener('click', () => groove('humanize'));
$('vary').addEventListener('click', () => groove('vary'));
$('event-grid-select').addEventListener('change', (e) => {
  if (isDirty() && !window.confirm('Drop the edits you have not saved?')) {
    e.target.value = state.base.path;
    return;
  }
  openEventGrid(e.target.value).catch(problem);
});
for (const radio of document.querySelectorAll('input[name="listen"]')) {
  radio.addEventListener('change', (e) => update({ listening: e.target.value }));
}
$('edit-b').addEventListener('click', () => {
  const path = state.compare.path;
  update({ compare: null, listening: 'a' });
  openEventGrid(path).catch(problem);
});
$('close-b').addEventListener('click', () => update({ compare: null, listening: 'a' }));

document.addEventListener('keydown', (event) => {
  if (!state.base || event.target.closest('input, select')) return;
  const key = event.key.toLowerCase();
  if (key === ' ') {
    event.preventDefault();
    (player.playing ? stop : () => play().catch(problem))();
  } else if ((event.ctrlKey || event.metaKey) && key === 'z') {
    event.preventDefault();
    (event.shiftKey ? redo : undo)();
  } else if ((event.ctrlKey || event.metaKey) && key === 'y') {
    event.preventDefault();
    redo();
  }
});

// --- bpm, swing, bars: heard at once, one step of history each, saved with the loop -------

$('bpm').addEventListener('change', (e) => {
  const bpm = Math.round(Number(e.target.value) * 10) / 10;
  if (!(bpm >= 20 && bpm <= 999)) {
    say('bpm must be 20..999');
    e.target.value = String(state.loop.bpm);
    return;
  }
  commitLoop({ ...state.loop, bpm });
});
let swingBefore = null; // the loop as the swing slider's drag found it
$('swing').addEventListener('input', (e) => {
  swingBefore ??= state.loop;
  update({ loop: { ...state.loop, swing: Number(e.target.value) } });
});
$('swing').addEventListener('change', (e) => {
  const loop = { ...state.loop, swing: Number(e.target.value) };
  update({ loop: swingBefore ?? state.loop });
  swingBefore = null;
  commitLoop(loop);
});
$('bars').addEventListener('change', (e) => {
  const bars = Math.round(Number(e.target.value));
  const was = state.loop.bars;
  if (!(bars >= 1 && bars <= 64)) {
    say('bars must be 1..64');
    e.target.value = String(was);
    return;
  }
  if (bars === was) return;
  const repeat = $('bars-fill').value === 'repeat';
  const events = resizeBars(state.events, was, bars, repeat);
  commitLoop({ ...state.loop, bars }, events);
  const dropped = state.undoStack.at(-1).events.length - events.length;
  say(
    bars < was
      ? `${bars} bars: the ${dropped} hit(s) of the bars cut off are dropped (undo brings them back)`
      : `${bars} bars: bars ${was + 1}-${bars} ${repeat ? 'repeat the pattern' : 'are empty'} (undo takes it back)`,
  );
});

for (const kind of ['wav', 'midi', 'kit']) {
  $(`export-${kind}`).addEventListener('click', () => exportLoop(kind));
}
$('show-library').addEventListener('click', () => {
  if (state.showLibrary) update({ showLibrary: false });
  else showLibrary(state.library?.pools).catch(problem);
});
$('pools-select').addEventListener('change', (e) => showLibrary(e.target.value).catch(problem));
$('upload-picker').addEventListener('change', (e) => {
  addUploads([...e.target.files]);
  e.target.value = ''; // the same file may be picked again
});
$('clear-uploads').addEventListener('click', () => update({ uploads: [] }));
$('start-run').addEventListener('click', () => startRun());
$('stop-run').addEventListener('click', () => stopRun());
// files dropped anywhere on the page, while the list of runs shows
document.addEventListener('dragover', (event) => {
  if (!$('runs-view').hidden) event.preventDefault();
});
document.addEventListener('drop', (event) => {
  if ($('runs-view').hidden) return;
  event.preventDefault();
  addUploads([...event.dataTransfer.files]);
});

showRuns().catch(problem);
followRunning().catch(problem);
requestAnimationFrame(followCursor);
