// WebRTC full mesh for the Meet replica, shared by the Meet page and the participant page.
// Signalling goes through the replica's WebSocket. Whoever enters the call offers to
// everyone already there; the others answer. Each connection carries one audio
// transceiver: sendrecv when this side has a local track, recvonly otherwise (a
// listen-only bot still receives everyone's audio).
(() => {
  'use strict';

  class ReplicaMesh {
    /**
     * @param {{ send: (to: string, data: object) => void,
     *           onTrack: (peerId: string, stream: MediaStream) => void,
     *           onClosed?: (peerId: string) => void }} opts
     */
    constructor(opts) {
      this.opts = opts;
      /** @type {Map<string, { pc: RTCPeerConnection, chain: Promise<void> }>} */
      this.peers = new Map();
      /** @type {MediaStream | null} */
      this.localStream = null;
    }

    setLocalStream(stream) {
      this.localStream = stream;
    }

    localTrack() {
      return (this.localStream && this.localStream.getAudioTracks()[0]) || null;
    }

    peer(id) {
      let p = this.peers.get(id);
      if (p) return p;
      const pc = new RTCPeerConnection({ iceServers: [] });
      p = { pc, chain: Promise.resolve() };
      this.peers.set(id, p);
      pc.addEventListener('icecandidate', (e) => {
        if (e.candidate) this.opts.send(id, { candidate: e.candidate.toJSON() });
      });
      pc.addEventListener('track', (e) => {
        if (e.track.kind !== 'audio') return;
        const stream = e.streams[0] || new MediaStream([e.track]);
        this.opts.onTrack(id, stream);
      });
      return p;
    }

    run(id, fn) {
      const p = this.peer(id);
      p.chain = p.chain.then(() => fn(p.pc)).catch((err) => console.warn('[replica mesh]', id, err));
      return p.chain;
    }

    /** Offer to a peer that was in the call before us. */
    connect(id) {
      return this.run(id, async (pc) => {
        const track = this.localTrack();
        if (track) pc.addTransceiver(track, { direction: 'sendrecv', streams: [this.localStream] });
        else pc.addTransceiver('audio', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        this.opts.send(id, { sdp: pc.localDescription.toJSON() });
      });
    }

    signal(from, data) {
      return this.run(from, async (pc) => {
        if (data.sdp) {
          await pc.setRemoteDescription(data.sdp);
          if (data.sdp.type !== 'offer') return;
          const track = this.localTrack();
          for (const tr of pc.getTransceivers()) {
            if (tr.receiver.track.kind !== 'audio') continue;
            if (track) {
              await tr.sender.replaceTrack(track);
              if (tr.sender.setStreams) tr.sender.setStreams(this.localStream);
              tr.direction = 'sendrecv';
            } else {
              tr.direction = 'recvonly';
            }
          }
          await pc.setLocalDescription(await pc.createAnswer());
          this.opts.send(from, { sdp: pc.localDescription.toJSON() });
        } else if (data.candidate) {
          await pc.addIceCandidate(data.candidate);
        }
      });
    }

    close(id) {
      const p = this.peers.get(id);
      if (!p) return;
      this.peers.delete(id);
      p.pc.close();
      if (this.opts.onClosed) this.opts.onClosed(id);
    }

    closeAll() {
      for (const id of [...this.peers.keys()]) this.close(id);
    }

    /**
     * Received audio over every connection this page had, summed from the inbound-rtp stats
     * (a closed connection counts with its last reading): how much of it the jitter buffer
     * had to make up.
     */
    async receivedAudio() {
      const keys = ['packetsReceived', 'packetsLost', 'totalSamplesReceived', 'concealedSamples', 'silentConcealedSamples', 'insertedSamplesForDeceleration', 'removedSamplesForAcceleration'];
      this.rx = this.rx || new Map();
      for (const [id, p] of this.peers) {
        const report = await p.pc.getStats().catch(() => null);
        if (!report) continue;
        const one = Object.fromEntries(keys.map((k) => [k, 0]));
        report.forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'audio') for (const k of keys) one[k] += r[k] || 0;
        });
        this.rx.set(id, one);
      }
      const sum = Object.fromEntries(keys.map((k) => [k, 0]));
      for (const one of this.rx.values()) for (const k of keys) sum[k] += one[k];
      return sum;
    }

    connectedCount() {
      let n = 0;
      for (const p of this.peers.values()) if (p.pc.connectionState === 'connected') n++;
      return n;
    }
  }

  window.ReplicaMesh = ReplicaMesh;
})();
