// The step grid: roles x steps x bars. Each hit's fill shows its velocity and a tick its
// micro-timing. On an editable grid a click toggles a hit, a vertical drag sets its
// velocity, a Shift+drag sideways its micro-timing (in ms), and each role's menu picks the
// sample every hit of that role plays (from its pool). Edits go to `onEdit`.

const DRAG_START_PX = 4; // below this a press is a click
const VELOCITY_PX = 100; // a drag this far changes the velocity by 1

const clamp = (x, low, high) => Math.min(high, Math.max(low, x));

function signedMs(ms) {
  const rounded = Math.round(ms);
  return rounded > 0 ? `+${rounded}` : `${rounded}`;
}

export class GridView {
  /**
   * @param {HTMLElement} container
   * @param {object} options
   * @param {object} options.grid  the run's grid (bpm, steps_per_bar, num_bars, tstep)
   * @param {object} options.rules  the run's rules (roles, colours, velocity, dur_steps, ...)
   * @param {boolean} options.editable
   * @param {() => {events: object[], newHitSamples: object}} [options.current]  A's state
   * @param {(events: object[], commit: boolean) => void} [options.onEdit]
   * @param {(message: string) => void} [options.onMessage]
   * @param {(role: string, sampleId: string) => void} [options.onRoleSample]  a role's menu
   */
  constructor(container, { grid, rules, editable, current, onEdit, onMessage, onRoleSample }) {
    Object.assign(this, { container, grid, rules, editable, current, onEdit, onMessage });
    this.onRoleSample = onRoleSample;
    this.cells = new Map();
    this.menus = new Map(); // role -> its sample menu (editable grids)
    this.pools = null; // the role menus' choices, kept for a rebuild
    this.drag = null;
    this.build();
  }

  /** Show the loop on `grid` (a new bpm, or a new number of bars: the cells are rebuilt). */
  setGrid(grid) {
    const rebuild = grid.num_bars !== this.grid.num_bars;
    this.grid = grid;
    if (!rebuild) return;
    this.cells.clear();
    this.menus.clear();
    this.build();
    if (this.pools) this.setPools(this.pools);
  }

  get stepsPerBar() {
    return this.grid.steps_per_bar;
  }

  build() {
    const { roles } = this.rules;
    const columns = this.grid.num_bars * this.stepsPerBar;
    const table = document.createElement('div');
    table.className = 'step-grid';
    table.style.setProperty('--columns', columns);
    const corner = document.createElement('div');
    corner.className = 'corner';
    table.append(corner);
    for (let column = 0; column < columns; column++) {
      const head = document.createElement('div');
      const step = column % this.stepsPerBar;
      head.className = `step-head${step === 0 ? ' bar-start' : ''}`;
      head.textContent = step === 0 ? `${column / this.stepsPerBar + 1}` : step % 4 === 0 ? '·' : '';
      table.append(head);
    }
    for (const role of roles) {
      const label = document.createElement('div');
      label.className = 'role';
      label.textContent = role;
      label.style.setProperty('--role-colour', this.rules.colours[role]);
      if (this.editable && this.onRoleSample) {
        const menu = document.createElement('select');
        menu.className = 'role-sample';
        menu.dataset.role = role;
        menu.title = `the sample every ${role} hit plays (from the run's ${role} pool)`;
        menu.addEventListener('change', () => this.onRoleSample(role, menu.value));
        this.menus.set(role, menu);
        label.append(menu);
      }
      table.append(label);
      for (let column = 0; column < columns; column++) {
        const bar = Math.floor(column / this.stepsPerBar);
        const step = column % this.stepsPerBar;
        const cell = document.createElement('div');
        cell.className = `cell${step === 0 ? ' bar-start' : ''}${Math.floor(step / 4) % 2 ? ' odd-beat' : ''}`;
        Object.assign(cell.dataset, { bar, step, role });
        cell.style.setProperty('--role-colour', this.rules.colours[role]);
        if (this.editable) this.listen(cell);
        this.cells.set(`${bar}:${step}:${role}`, cell);
        table.append(cell);
      }
    }
    this.cursor = document.createElement('div');
    this.cursor.className = 'cursor';
    this.cursor.hidden = true;
    table.append(this.cursor);
    this.table = table;
    this.container.replaceChildren(table);
  }

  /** Fill the role menus with `pools` ({role: [sample ids]}, the run's pools). */
  setPools(pools) {
    this.pools = pools;
    for (const [role, menu] of this.menus) {
      const ids = pools[role] ?? [];
      menu.replaceChildren(new Option('—', ''), ...ids.map((id) => new Option(id, id)));
      menu.disabled = ids.length === 0;
    }
  }

  /** Show `events`: each cell's hit, its velocity and micro-timing; each role menu, the
   *  sample the role's hits play (the most used; none: '—'). */
  paint(events) {
    for (const [role, menu] of this.menus) {
      const counts = new Map();
      for (const e of events) {
        if (e.role === role) counts.set(e.sample_id, (counts.get(e.sample_id) ?? 0) + 1);
      }
      const used = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
      if (used && ![...menu.options].some((o) => o.value === used)) menu.append(new Option(used, used));
      menu.value = used ?? '';
    }
    const hits = new Map(events.map((e) => [`${e.bar}:${e.step}:${e.role}`, e]));
    for (const [key, cell] of this.cells) {
      const hit = hits.get(key);
      cell.classList.toggle('hit', Boolean(hit));
      cell.replaceChildren();
      if (!hit) {
        delete cell.dataset.vel;
        delete cell.dataset.offsetMs;
        cell.title = '';
        continue;
      }
      cell.dataset.vel = hit.vel;
      cell.dataset.offsetMs = hit.micro_offset_ms;
      const fill = document.createElement('div');
      fill.className = 'fill';
      fill.style.height = `${Math.round(hit.vel * 100)}%`;
      cell.append(fill);
      if (hit.micro_offset_ms) {
        const tick = document.createElement('div');
        tick.className = 'offset';
        const fraction = hit.micro_offset_ms / 1000 / this.grid.tstep;
        tick.style.left = `${50 + clamp(fraction, -0.5, 0.5) * 100}%`;
        const ms = document.createElement('span');
        ms.className = 'ms';
        ms.textContent = signedMs(hit.micro_offset_ms);
        cell.append(tick, ms);
      }
      cell.title =
        `${hit.role} bar ${hit.bar + 1} step ${hit.step + 1}: velocity ${hit.vel.toFixed(2)}, ` +
        `${signedMs(hit.micro_offset_ms)} ms, sample ${hit.sample_id}`;
    }
  }

  /** Put the play cursor at `position` steps from the loop's start; null hides it. */
  showCursor(position) {
    if (position === null) {
      this.cursor.hidden = true;
      return;
    }
    const first = this.cells.values().next().value;
    const column = Math.floor(position);
    this.cursor.hidden = false;
    this.cursor.style.left = `${first.offsetLeft + column * first.offsetWidth}px`;
    this.cursor.style.width = `${first.offsetWidth}px`;
  }

  listen(cell) {
    cell.addEventListener('pointerdown', (event) => this.press(cell, event));
    cell.addEventListener('pointermove', (event) => this.move(event));
    cell.addEventListener('pointerup', (event) => this.release(event));
    cell.addEventListener('pointercancel', () => this.cancel());
  }

  position(cell) {
    return { bar: Number(cell.dataset.bar), step: Number(cell.dataset.step), role: cell.dataset.role };
  }

  press(cell, event) {
    if (event.button !== 0) return;
    cell.setPointerCapture(event.pointerId);
    const { events } = this.current();
    const { bar, step, role } = this.position(cell);
    const hit = events.find((e) => e.bar === bar && e.step === step && e.role === role);
    this.drag = { cell, x: event.clientX, y: event.clientY, hit, before: events, moved: false };
    event.preventDefault();
  }

  move(event) {
    const drag = this.drag;
    if (!drag || !drag.hit) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < DRAG_START_PX) return;
    drag.moved = true;
    const changed = { ...drag.hit, source: 'edit' };
    if (event.shiftKey) {
      // micro-timing: a cell's width is one step; keep the hit within half a step of it
      const limit = Math.min(this.rules.max_offset_ms, (this.grid.tstep * 1000) / 2);
      const ms = drag.hit.micro_offset_ms + (dx / drag.cell.offsetWidth) * this.grid.tstep * 1000;
      changed.micro_offset_ms = Math.round(clamp(ms, -limit, limit) * 10) / 10;
    } else {
      const vel = drag.hit.vel - dy / VELOCITY_PX;
      changed.vel = Math.round(clamp(vel, 0, 1) * 100) / 100;
    }
    drag.result = drag.before.map((e) => (e === drag.hit ? changed : e));
    this.onEdit(drag.result, false);
  }

  release() {
    const drag = this.drag;
    this.drag = null;
    if (!drag) return;
    if (drag.moved) {
      if (drag.result) this.onEdit(drag.result, true, drag.before);
      return;
    }
    const { bar, step, role } = this.position(drag.cell);
    if (drag.hit) {
      this.onEdit(drag.before.filter((e) => e !== drag.hit), true, drag.before);
      return;
    }
    const sample = this.current().newHitSamples[role];
    if (!sample) {
      this.onMessage(`no ${role} sample in this run's pools: a ${role} hit cannot be added`);
      return;
    }
    const voices = drag.before.filter((e) => e.bar === bar && e.step === step).length;
    if (voices >= this.rules.max_voices) {
      this.onMessage(`bar ${bar + 1} step ${step + 1} already has ${voices} hits (the limit); remove one first`);
      return;
    }
    const added = {
      bar,
      step,
      role,
      sample_id: sample,
      vel: this.rules.velocity[role][step],
      dur_steps: this.rules.dur_steps[role],
      micro_offset_ms: 0,
      source: 'edit',
    };
    this.onEdit([...drag.before, added], true, drag.before);
  }

  cancel() {
    if (this.drag?.moved) this.onEdit(this.drag.before, false);
    this.drag = null;
  }
}
