// Web Audio playback. Each sample file is fetched and decoded once; hits are scheduled a
// little ahead on the AudioContext's clock (a lookahead scheduler), so their timing is
// sample-accurate however late the page's timers fire, and edits are heard within the
// lookahead. `scheduled` lists every hit handed to the audio clock (for tests and checks).

import { fileUrl } from './api.js';

const LOOKAHEAD_S = 0.15; // how far ahead of the clock hits are scheduled
const TICK_MS = 25; // how often the scheduler looks
const START_DELAY_S = 0.05; // first hit a little after Play: time to schedule it

/** Seconds from the loop's start to the event, as the renderer places it
 *  (render/timing.py onset_steps: step, swing on odd steps, micro-timing). */
export function onsetSeconds(event, grid, swing) {
  const swingSteps = event.step % 2 === 1 ? swing : 0;
  const steps = event.bar * grid.steps_per_bar + event.step + swingSteps;
  return steps * grid.tstep + event.micro_offset_ms / 1000;
}

/** A velocity's gain: the square law the renderer uses (core/events.py velocity_gain). */
export const velocityGain = (vel) => vel * vel;

export class Player {
  /**
   * @param {() => {events, samples, grid, swing, loop, releaseSeconds}} source  what to play,
   *   read at every scheduler tick (so edits are heard at once): events, {sample_id: path},
   *   the grid, swing (steps), whether to loop, the fade after a hit's length
   * @param {(message: string) => void} onProblem  a sample that cannot be played
   */
  constructor(source, onProblem) {
    this.source = source;
    this.onProblem = onProblem;
    this.context = null;
    this.buffers = new Map(); // file path -> Promise<AudioBuffer | null>
    this.voices = new Set(); // sources started or waiting to start, which Stop silences
    this.scheduled = [];
    this.auditioned = []; // every sample auditioned: {sample, path, time} (for tests)
    this.auditionVoice = null;
    this.timer = null;
    this.startTime = 0;
    this.scheduledUntil = 0;
    this.timedOn = null; // the grid startTime was set for (a new bpm or bar count re-times)
  }

  audioContext() {
    this.context ??= new AudioContext({ latencyHint: 'interactive' });
    return this.context;
  }

  /** Fetch and decode every sample file of `samples` ({sample_id: path}) not decoded yet. */
  prepare(samples) {
    const context = this.audioContext();
    const loads = Object.entries(samples).map(([id, path]) => {
      if (!path) return Promise.resolve(null);
      if (!this.buffers.has(path)) {
        const load = fetch(fileUrl(path))
          .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`${r.status}`))))
          .then((data) => context.decodeAudioData(data))
          .catch((error) => {
            this.onProblem(`sample ${id} (${path}) cannot be played: ${error.message}`);
            return null;
          });
        this.buffers.set(path, load);
      }
      return this.buffers.get(path);
    });
    return Promise.all(loads);
  }

  /** Play one sample at once, on its own (a library click); a new one cuts the last. */
  async audition(sampleId, path) {
    const context = this.audioContext();
    await context.resume();
    const [buffer] = await this.prepare({ [sampleId]: path });
    if (!buffer) return;
    this.auditionVoice?.stop();
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(context.destination);
    source.start();
    this.auditionVoice = source;
    this.auditioned.push({ sample: sampleId, path, time: context.currentTime });
  }

  get playing() {
    return this.timer !== null;
  }

  async play() {
    this.stop();
    const context = this.audioContext();
    await context.resume();
    // only the samples the loop plays: `samples` also names every pool choice (a library
    // of thousands), which are decoded when picked
    const { events, samples } = this.source();
    await this.prepare(Object.fromEntries(events.map((e) => [e.sample_id, samples[e.sample_id]])));
    this.scheduled = [];
    this.startTime = context.currentTime + START_DELAY_S;
    this.scheduledUntil = this.startTime;
    this.timedOn = this.source().grid;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    for (const voice of this.voices) voice.stop();
    this.voices.clear();
  }

  /** The grid to play on now. A new bpm or bar count while playing keeps the place in the
   *  loop (in steps): the loop's start moves so that the step under the cursor stays, and
   *  what was scheduled already (one lookahead) plays as it was. */
  currentGrid() {
    const { grid } = this.source();
    const was = this.timedOn;
    if (was && (grid.tstep !== was.tstep || grid.num_bars !== was.num_bars)) {
      const now = this.context.currentTime;
      if (now > this.startTime) {
        const steps = ((now - this.startTime) % (was.num_bars * was.tbar)) / was.tstep;
        this.startTime = now - (steps % (grid.num_bars * grid.steps_per_bar)) * grid.tstep;
      }
    }
    this.timedOn = grid;
    return grid;
  }

  /** Where the cursor is, in steps from the loop's start; null when stopped. */
  position() {
    if (!this.playing) return null;
    const grid = this.currentGrid();
    const loopSeconds = grid.num_bars * grid.tbar;
    const elapsed = this.context.currentTime - this.startTime;
    return elapsed < 0 ? 0 : (elapsed % loopSeconds) / grid.tstep;
  }

  /** Schedule every hit between what is scheduled already and the lookahead horizon. */
  tick() {
    const grid = this.currentGrid();
    const { events, samples, swing, loop, releaseSeconds } = this.source();
    const loopSeconds = grid.num_bars * grid.tbar;
    const from = this.scheduledUntil;
    const until = this.context.currentTime + LOOKAHEAD_S;
    if (until <= from) return;
    const firstLoop = Math.floor((from - this.startTime) / loopSeconds);
    const lastLoop = Math.floor((until - this.startTime) / loopSeconds);
    for (let n = Math.max(firstLoop, 0); n <= lastLoop && (loop || n === 0); n++) {
      for (const event of events) {
        // as the renderer: looping, a hit pulled before the start sounds at the loop's end;
        // played once, at the start
        const onset = onsetSeconds(event, grid, swing);
        const inLoop = loop ? (onset + loopSeconds) % loopSeconds : Math.max(0, onset);
        const time = this.startTime + n * loopSeconds + inLoop;
        if (time >= from && time < until) {
          this.scheduleHit(event, time, inLoop, { samples, grid, releaseSeconds });
        }
      }
    }
    this.scheduledUntil = until;
    if (!loop && until >= this.startTime + loopSeconds) this.stop();
  }

  scheduleHit(event, time, inLoop, { samples, grid, releaseSeconds }) {
    const path = samples[event.sample_id];
    this.scheduled.push({
      time,
      loopTime: inLoop,
      bar: event.bar,
      step: event.step,
      role: event.role,
      sample: event.sample_id,
      velocity: event.vel,
    });
    const pending = path ? this.buffers.get(path) : undefined;
    if (!pending) return;
    pending.then((buffer) => {
      if (!buffer || !this.playing || time < this.context.currentTime) return;
      const source = this.context.createBufferSource();
      source.buffer = buffer;
      const gain = this.context.createGain();
      const level = velocityGain(event.vel);
      gain.gain.setValueAtTime(level, time);
      // as the renderer (render/mixer.py): a hit sounds for its dur_steps, then fades out;
      // TEXTURE holds its whole length, its sample repeating
      source.loop = event.role === 'TEXTURE';
      source.connect(gain).connect(this.context.destination);
      source.start(time);
      const end = time + event.dur_steps * grid.tstep;
      gain.gain.setValueAtTime(level, end);
      gain.gain.linearRampToValueAtTime(0, end + releaseSeconds);
      source.stop(end + releaseSeconds);
      this.voices.add(source);
      source.addEventListener('ended', () => this.voices.delete(source));
    });
  }
}
