// Preloaded by bench/kafka-profile.ts into the broker (NODE_OPTIONS=--require): profiles the whole
// process and writes PB_PROF_DIR/CPU.<time>.<pid>.cpuprofile on exit (--cpu-prof is not allowed in NODE_OPTIONS).
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.PB_PROF_DIR || '/tmp';
const s = new inspector.Session();
s.connect();
s.post('Profiler.enable');
s.post('Profiler.setSamplingInterval', { interval: 200 });
s.post('Profiler.start');
process.on('exit', () => {
  s.post('Profiler.stop', (err, res) => {
    if (!err) fs.writeFileSync(path.join(dir, `CPU.${Date.now()}.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
  });
});
