// The new-run panel: the files chosen (dropped on the page or picked) and a run's progress
// as its event stream tells it: a line per stage (files done of total, the file at hand),
// the uploads left out, the notices, and the one-line error of a run that failed.

export const STAGES = ['preprocess', 'roles', 'skeleton', 'groove'];
const WHAT = {
  preprocess: 'slice the hits into one-shots',
  roles: 'give each one-shot a role',
  skeleton: 'write the pattern',
  groove: 'humanize or vary it',
};

/** A run's progress before its first event; `skipped`: the uploads the server left out. */
export function startingProgress(run, skipped = []) {
  const stages = Object.fromEntries(
    STAGES.map((stage) => [stage, { state: 'waiting', done: 0, total: 0, item: '', seconds: 0 }]),
  );
  return { run, stages, skipped, notices: [], error: null, record: null, stopped: null };
}

/** The progress after one event of the stream (a new object; `progress` is left as it was). */
export function applyRunEvent(progress, event) {
  const next = { ...progress, stages: { ...progress.stages } };
  const stage = event.stage && { ...next.stages[event.stage] };
  if (event.type === 'stage') {
    next.stages[event.stage] = { ...stage, state: event.state, seconds: event.seconds ?? 0 };
  } else if (event.type === 'progress') {
    next.stages[event.stage] = { ...stage, done: event.done, total: event.total, item: event.item };
  } else if (event.type === 'notice') {
    next.notices = [...progress.notices, event.line];
  } else if (event.type === 'done') {
    next.record = event.record;
  } else if (event.type === 'failed') {
    next.error = event.error;
    next.stages[event.stage] = { ...stage, state: 'failed' };
  } else if (event.type === 'stopped') {
    next.stopped = { stage: event.stage, kept: event.kept };
    next.stages[event.stage] = { ...stage, state: 'stopped' };
  }
  return next;
}

/** What a stopped run left: the finished stages' files stay, the stopped one's are gone. */
function stoppedLine({ run, stopped: { stage, kept } }) {
  const finished = kept.length
    ? `the finished stages (${kept.join(', ')}) keep their files in ${run}/, and a run on ` +
      `the same input with --out ${run} reuses them`
    : `no stage had finished: ${run}/ keeps only the uploads`;
  return `Stopped at ${stage}: its files were removed; ${finished}. It is not in the list ` +
    `of runs (only a run that ends writes run_N.json).`;
}

function stageLine(stage, index, { state, done, total, item, seconds }) {
  let line = `${index + 1}/${STAGES.length} ${stage} (${WHAT[stage]}): ${state}`;
  if (total) line += ` · ${done}/${total}${item ? ` · ${item}` : ''}`;
  if (state === 'done') line += ` in ${seconds.toFixed(1)} s`;
  return line;
}

function items(list, texts, className = '') {
  list.replaceChildren(
    ...texts.map((text) => {
      const item = document.createElement('li');
      item.textContent = text;
      item.className = className;
      return item;
    }),
  );
}

/** Paint the panel: `uploads` (File objects chosen), `progress` (or null), `busy`. */
export function paintNewRun($, { uploads, progress, busy }) {
  const megabytes = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
  items($('upload-list'), uploads.map((file) => `${file.name} · ${megabytes(file.size)}`));
  const running = Boolean(progress && !progress.record && !progress.error && !progress.stopped);
  $('start-run').disabled = Boolean(busy) || running;
  $('stop-run').hidden = !running;
  $('stop-run').disabled = Boolean(progress?.stopping);
  $('run-progress').hidden = !progress;
  if (!progress) return;
  $('progress-folder').textContent = progress.run;
  const lines = STAGES.map((stage, i) => stageLine(stage, i, progress.stages[stage]));
  items($('stage-lines'), lines);
  STAGES.forEach((stage, i) => {
    $('stage-lines').children[i].dataset.state = progress.stages[stage].state;
  });
  $('run-error').hidden = !progress.error && !progress.stopped;
  $('run-error').textContent = progress.error
    ? `The run failed: ${progress.error}`
    : progress.stopped
      ? stoppedLine(progress)
      : '';
  items(
    $('upload-skips'),
    progress.skipped.map((skip) => `left out ${skip.name}: ${skip.reason}`),
    'skip',
  );
  $('notice-count').textContent = progress.notices.length;
  items($('run-notices'), progress.notices);
}
