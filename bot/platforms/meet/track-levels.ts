/**
 * Per-track audio levels in a Meet page. Meet plays remote audio through a few `<audio>`
 * elements, each a separate WebRTC stream (research/platform-mechanics.md §1.4), so how loud
 * each one is says *when* someone speaks far more sharply than the tiles' speaking
 * indicators, which Meet (and the replica) hold for a while after speech stops. Which person
 * a stream carries is not written anywhere in the page, and Meet moves streams between
 * people; `TrackSpeakers` (track-binding.ts) learns it from the indicators as it goes.
 *
 * The script below taps every remote stream with an AnalyserNode (never connected to the
 * output, so playback is untouched) and reads the last ~43 ms of each every 40 ms. A track is
 * "loud" from its first loud reading until it has been quiet for 450 ms — long enough to
 * carry a speaker over the pauses inside a sentence — or for 160 ms when another track has
 * just turned loud (a turn change is cut sharply). Quiet must also be seen in several
 * readings in a row, so a page starved of CPU (timers firing late, each reading a short
 * window) does not take a syllable's gap for the end of speech. `drain()` returns the
 * changes since the last call, with their times (Date.now(), the same clock as Node), and
 * what is loud now.
 */
export interface TrackLevelChange {
  track: string;
  loud: boolean;
  at: number;
}

export interface TrackLevels {
  changes: TrackLevelChange[];
  loud: string[];
}

export const TRACK_LEVELS_PROBE = String.raw`(() => {
  if (!window.__notulaLevels) {
    const LOUD_RMS = 0.01; // about -40 dBFS
    const HOLD_MS = 450;
    const TURN_HOLD_MS = 160;
    const QUIET_READINGS = 4;
    let ctx = null;
    const taps = new Map(); // track id -> { analyser, buf, loud, loudSince, lastLoudAt, quiet }
    const changes = [];
    const tap = (track) => {
      if (taps.has(track.id) || track.readyState !== 'live') return;
      try {
        ctx = ctx || new AudioContext();
        if (ctx.state === 'suspended') ctx.resume().catch(() => {});
        const source = ctx.createMediaStreamSource(new MediaStream([track]));
        const analyser = ctx.createAnalyser();
        analyser.fftSize = 2048;
        source.connect(analyser);
        taps.set(track.id, { analyser, source, buf: new Float32Array(analyser.fftSize), loud: false, lastLoudAt: 0, loudSince: 0, quiet: 0, track });
      } catch (e) {}
    };
    const tick = () => {
      for (const el of document.querySelectorAll('audio, video')) {
        const s = el.srcObject;
        if (s && typeof s.getAudioTracks === 'function') for (const t of s.getAudioTracks()) tap(t);
      }
      const now = Date.now();
      for (const [id, t] of taps) {
        if (t.track.readyState !== 'live') {
          if (t.loud) changes.push({ track: id, loud: false, at: now });
          t.source.disconnect();
          taps.delete(id);
          continue;
        }
        t.analyser.getFloatTimeDomainData(t.buf);
        let sum = 0;
        for (let i = 0; i < t.buf.length; i++) sum += t.buf[i] * t.buf[i];
        const rms = Math.sqrt(sum / t.buf.length);
        if (rms > LOUD_RMS) {
          t.lastLoudAt = now;
          t.quiet = 0;
          if (!t.loud) { t.loud = true; t.loudSince = now; changes.push({ track: id, loud: true, at: now }); }
        } else t.quiet += 1;
      }
      for (const [id, t] of taps) {
        if (!t.loud || t.quiet < QUIET_READINGS) continue;
        const quietFor = now - t.lastLoudAt;
        // Someone else started speaking after this track fell quiet: a turn change.
        let turned = false;
        for (const [other, o] of taps) if (other !== id && o.loud && o.loudSince > t.lastLoudAt) turned = true;
        if (quietFor >= HOLD_MS || (turned && quietFor >= TURN_HOLD_MS)) {
          t.loud = false;
          changes.push({ track: id, loud: false, at: t.lastLoudAt + 20 });
        }
      }
      if (changes.length > 2000) changes.splice(0, changes.length - 2000);
    };
    setInterval(tick, 40);
    window.__notulaLevels = {
      drain() {
        const out = changes.splice(0, changes.length);
        const loud = [];
        for (const [id, t] of taps) if (t.loud) loud.push(id);
        return { changes: out, loud };
      },
    };
  }
  return window.__notulaLevels.drain();
})()`;
