// How testdata/tone700.mp3 was made: node tone700.mp3.js tone700.mp3, with npm lamejs@1.2.1
// installed (its src/ entry point is broken in 1.2.1; the bundled lame.all.js works).
// Writes a 1 s MP3 (44.1 kHz mono, 64 kbps) of a 700 Hz sine at about -12 dBFS.
const lamejs = (function(){ const vm=require('vm'); const ctx={console}; vm.createContext(ctx); vm.runInContext(require('fs').readFileSync(require.resolve('lamejs/lame.all.js'),'utf8'), ctx); return ctx.lamejs; })();
const fs = require('fs');
const rate = 44100, n = rate;
const pcm = new Int16Array(n);
for (let i = 0; i < n; i++) pcm[i] = Math.round(8000 * Math.sin(2 * Math.PI * 700 * i / rate));
const enc = new lamejs.Mp3Encoder(1, rate, 64);
const out = [];
for (let i = 0; i < n; i += 1152) out.push(Buffer.from(enc.encodeBuffer(pcm.subarray(i, i + 1152))));
out.push(Buffer.from(enc.flush()));
fs.writeFileSync(process.argv[2], Buffer.concat(out));
