// A call member's media link to the Teams replica's conference mixer (a star, not a mesh):
// one RTCPeerConnection, offered by the mixer, carrying this member's microphone up (when it
// has one) and ONE mixed track of everyone else down — the stream id the mixer announces
// contains `mainAudio`, as Teams' does. Signalling goes through the replica's WebSocket.
(() => {
  'use strict';

  class MixerLink {
    /**
     * @param {{ send: (data: object) => void,
     *           onTrack: (track: MediaStreamTrack, stream: MediaStream) => void,
     *           onState?: (state: RTCPeerConnectionState) => void }} opts
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
      const track = this.localTrack();
      if (!this.pc) return;
      for (const tr of this.pc.getTransceivers()) {
        if (tr.receiver.track.kind === 'audio' && track) tr.sender.replaceTrack(track).catch(() => {});
      }
    }

    localTrack() {
      return (this.localStream && this.localStream.getAudioTracks()[0]) || null;
    }

    ensurePc() {
      if (this.pc) return this.pc;
      const pc = new RTCPeerConnection({ iceServers: [] });
      this.pc = pc;
      pc.addEventListener('icecandidate', (e) => {
        if (e.candidate) this.opts.send({ candidate: e.candidate.toJSON() });
      });
      pc.addEventListener('track', (e) => {
        if (e.track.kind !== 'audio') return;
        this.opts.onTrack(e.track, e.streams[0] || new MediaStream([e.track]));
      });
      pc.addEventListener('connectionstatechange', () => {
        if (this.opts.onState) this.opts.onState(pc.connectionState);
      });
      return pc;
    }

    /** Handles a message from the mixer (its offer, its ICE candidates). */
    signal(data) {
      this.chain = this.chain
        .then(async () => {
          const pc = this.ensurePc();
          if (data.sdp) {
            await pc.setRemoteDescription(data.sdp);
            if (data.sdp.type !== 'offer') return;
            const track = this.localTrack();
            for (const tr of pc.getTransceivers()) {
              if (tr.receiver.track.kind !== 'audio') continue;
              if (track) {
                await tr.sender.replaceTrack(track);
                tr.direction = 'sendrecv';
              } else {
                tr.direction = 'recvonly';
              }
            }
            await pc.setLocalDescription(await pc.createAnswer());
            this.opts.send({ sdp: pc.localDescription.toJSON() });
          } else if (data.candidate) {
            await pc.addIceCandidate(data.candidate);
          }
        })
        .catch((err) => console.warn('[teams replica link]', err));
      return this.chain;
    }

    connected() {
      return !!this.pc && this.pc.connectionState === 'connected';
    }

    close() {
      if (this.pc) this.pc.close();
      this.pc = null;
    }
  }

  window.MixerLink = MixerLink;
})();
