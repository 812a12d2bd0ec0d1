// The list of runs in OUT (one entry per run_N.json); a click opens one.

function describe(run) {
  if (run.error) return `cannot be read: ${run.error}`;
  const p = run.params;
  const inputs = run.inputs.join(', ');
  return `${inputs} · ${p.bpm === 'auto' ? 'auto' : p.bpm} bpm · ${p.bars} bars · ${p.mode}`;
}

/** Fill `list` with `runs` (the /api/runs answer's runs); `onOpen(record)` opens one. */
export function renderRuns(list, runs, onOpen) {
  list.replaceChildren(
    ...runs.map((run) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'run';
      button.dataset.record = run.record;
      button.disabled = Boolean(run.error);
      const name = document.createElement('strong');
      name.textContent = run.record;
      const facts = document.createElement('span');
      facts.textContent = describe(run);
      button.append(name, facts);
      button.addEventListener('click', () => onOpen(run.record));
      item.append(button);
      return item;
    }),
  );
}
