// The Teams replica's conference mixer: the media server of one meeting. Every call member
// connects to it (page/star.js); it receives each member's microphone, mixes everyone else for
// each member with WebAudio (a mix-minus, so nobody hears themselves) and sends that mix back
// as ONE track whose stream id contains `mainAudio`, the way Teams delivers call audio. It also
// meters every member's input and tells the replica server who is speaking; the server draws
// the voice-level outline on those members' tiles.
(() => {
  'use strict';

  const code = decodeURIComponent(location.pathname.split('/').pop() || '');
  const gen = Number(new URLSearchParams(location.search).get('gen'));
  const ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
  const inputs = document.getElementById('inputs');

  /** Input RMS above which a member counts as speaking, and how long that lasts after the last loud frame. */
  const SPEAKING_RMS = 0.01;
  const HOLD_MS = 500;
  const METER_EVERY_MS = 20;

  /**
   * @typedef {{ id: string, pc: RTCPeerConnection, dest: MediaStreamAudioDestinationNode,
   *   source: MediaStreamAudioSourceNode | null, analyser: AnalyserNode | null, buf: Float32Array | null,
   *   el: HTMLAudioElement | null, lastLoud: number, chain: Promise<void>, connected: boolean }} Member
   * @type {Map<string, Member>}
   */
  const members = new Map();

  const ws = new WebSocket(`ws://${location.host}/__replica/ws`);
  const send = (msg) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };
  ws.addEventListener('open', () => send({ t: 'hello', role: 'mixer', code, gen }));
  ws.addEventListener('close', () => {
    for (const id of [...members.keys()]) remove(id);
    document.getElementById('state').textContent = 'closed';
  });
  ws.addEventListener('message', (e) => {
    const msg = JSON.parse(e.data);
    if (msg.t === 'add') add(msg.id);
    else if (msg.t === 'remove') remove(msg.id);
    else if (msg.t === 'signal') signal(msg.from, msg.data);
  });
  document.getElementById('state').textContent = 'mixing';

  function run(m, fn) {
    m.chain = m.chain.then(fn).catch((err) => console.warn('[teams mixer]', m.id, err));
    return m.chain;
  }

  function add(id) {
    if (members.has(id)) return;
    if (ctx.state !== 'running') ctx.resume().catch(() => {});
    const dest = ctx.createMediaStreamDestination();
    const pc = new RTCPeerConnection({ iceServers: [] });
    /** @type {Member} */
    const m = { id, pc, dest, source: null, analyser: null, buf: null, el: null, lastLoud: 0, chain: Promise.resolve(), connected: false };
    members.set(id, m);
    // Everyone already heard goes into the newcomer's mix.
    for (const o of members.values()) if (o !== m && o.source) o.source.connect(dest);

    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate) send({ t: 'signal', to: id, data: { candidate: e.candidate.toJSON() } });
    });
    pc.addEventListener('track', (e) => {
      if (e.track.kind === 'audio') attachInput(m, e.track);
    });
    pc.addEventListener('connectionstatechange', () => {
      const connected = pc.connectionState === 'connected';
      if (connected === m.connected) return;
      m.connected = connected;
      send({ t: 'media', id, connected });
    });

    run(m, async () => {
      const track = dest.stream.getAudioTracks()[0];
      pc.addTransceiver(track, { direction: 'sendrecv', streams: [dest.stream] });
      await pc.setLocalDescription(await pc.createOffer());
      // The member sees the mix under a Teams-style stream id: what the SDP announces (a=msid)
      // becomes the remote side's `streams[0].id`.
      const mainId = `mainAudio-${crypto.randomUUID()}`;
      const sdp = pc.localDescription.sdp.split(dest.stream.id).join(mainId);
      send({ t: 'signal', to: id, data: { sdp: { type: 'offer', sdp } } });
    });
  }

  function attachInput(m, track) {
    const stream = new MediaStream([track]);
    // Chromium only feeds a remote WebRTC track into WebAudio while a media element plays it.
    const el = document.createElement('audio');
    el.muted = true;
    el.autoplay = true;
    el.srcObject = stream;
    el.dataset.member = m.id;
    inputs.appendChild(el);
    el.play().catch(() => {});
    m.el = el;
    m.source = ctx.createMediaStreamSource(stream);
    m.analyser = ctx.createAnalyser();
    m.analyser.fftSize = 1024;
    m.buf = new Float32Array(m.analyser.fftSize);
    m.source.connect(m.analyser);
    for (const o of members.values()) if (o !== m) m.source.connect(o.dest);
  }

  function signal(from, data) {
    const m = members.get(from);
    if (!m) return;
    run(m, async () => {
      if (data.sdp) await m.pc.setRemoteDescription(data.sdp);
      else if (data.candidate) await m.pc.addIceCandidate(data.candidate);
    });
  }

  function remove(id) {
    const m = members.get(id);
    if (!m) return;
    members.delete(id);
    if (m.source) m.source.disconnect();
    for (const o of members.values()) {
      if (o.source) {
        try {
          o.source.disconnect(m.dest);
        } catch {
          // was not connected
        }
      }
    }
    if (m.el) {
      m.el.srcObject = null;
      m.el.remove();
    }
    m.pc.close();
  }

  let lastSent = '';
  setInterval(() => {
    const now = performance.now();
    const speaking = [];
    for (const m of members.values()) {
      if (!m.analyser || !m.buf) continue;
      m.analyser.getFloatTimeDomainData(m.buf);
      let sum = 0;
      for (let i = 0; i < m.buf.length; i++) sum += m.buf[i] * m.buf[i];
      if (Math.sqrt(sum / m.buf.length) > SPEAKING_RMS) m.lastLoud = now;
      if (m.lastLoud && now - m.lastLoud < HOLD_MS) speaking.push(m.id);
    }
    const key = speaking.join(',');
    if (key !== lastSent) {
      lastSent = key;
      send({ t: 'speaking', ids: speaking });
    }
  }, METER_EVERY_MS);
})();
