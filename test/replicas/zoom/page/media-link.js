// The member side of the Zoom replica's media: ONE RTCPeerConnection, to the meeting's
// mixer (a star, not a mesh, like Zoom's servers). The mixer offers; this side answers
// with its microphone (if any) and receives the mixed track (if the mixer sends one).
// Shared by the web client page and the test participant page.
(() => {
  'use strict';

  class MixerLink {
    /**
     * @param {{ send: (data: object) => void, onTrack?: (stream: MediaStream) => void }} opts
     */
    constructor(opts) {
      this.opts = opts;
      /** @type {RTCPeerConnection | null} */
      this.pc = null;
      /** @type {MediaStream | null} */
      this.localStream = null;
      this.chain = Promise.resolve();
    }

    setLocalStream(stream) {
      this.localStream = stream;
      const track = (stream && stream.getAudioTracks()[0]) || null;
      if (this.pc) {
        for (const tr of this.pc.getTransceivers()) {
          if (tr.receiver.track.kind === 'audio' && tr.sender) tr.sender.replaceTrack(track).catch(() => {});
        }
      }
    }

    run(fn) {
      this.chain = this.chain.then(fn).catch((err) => console.warn('[zoom replica link]', err));
      return this.chain;
    }

    /** A message from the mixer (through the server). */
    signal(data) {
      return this.run(async () => {
        if (data.sdp && data.sdp.type === 'offer') {
          this.close();
          const pc = new RTCPeerConnection({ iceServers: [] });
          this.pc = pc;
          pc.addEventListener('icecandidate', (e) => {
            if (e.candidate) this.opts.send({ candidate: e.candidate.toJSON() });
          });
          pc.addEventListener('track', (e) => {
            if (e.track.kind !== 'audio') return;
            if (this.opts.onTrack) this.opts.onTrack(e.streams[0] || new MediaStream([e.track]));
          });
          await pc.setRemoteDescription(data.sdp);
          const track = (this.localStream && this.localStream.getAudioTracks()[0]) || null;
          for (const tr of pc.getTransceivers()) {
            if (tr.receiver.track.kind !== 'audio') continue;
            // One m-line: the mixer offers sendrecv when it sends this member the mix, recvonly otherwise.
            const mixerSends = /\na=sendrecv/.test(data.sdp.sdp);
            if (track) {
              await tr.sender.replaceTrack(track);
              tr.direction = mixerSends ? 'sendrecv' : 'sendonly';
            } else {
              tr.direction = mixerSends ? 'recvonly' : 'inactive';
            }
          }
          await pc.setLocalDescription(await pc.createAnswer());
          this.opts.send({ sdp: pc.localDescription.toJSON() });
        } else if (data.candidate && this.pc) {
          await this.pc.addIceCandidate(data.candidate);
        }
      });
    }

    connected() {
      return !!this.pc && this.pc.connectionState === 'connected';
    }

    close() {
      if (!this.pc) return;
      this.pc.close();
      this.pc = null;
    }
  }

  window.ZoomMixerLink = MixerLink;
})();
