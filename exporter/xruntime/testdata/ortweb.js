// Runs ONNX models in onnxruntime-web's wasm backend under Node, for exporter/xruntime's tests.
//
// argv[2]: the onnxruntime-web package folder (tools/setup.sh ortweb: build/ortweb/node_modules/onnxruntime-web)
// stdin:  {"jobs": [{"model": path, "shape": [N, C, H, W], "input": [floats]}]}
// stdout: {"version": ..., "results": [{"shape": [...], "logits": [...]} or {"error": "..."}]},
//         one result per job, in order; a job's failure is its result, not the script's.
'use strict';
const fs = require('fs');
const path = require('path');

const pkg = process.argv[2];
const ort = require(pkg); // package.json's "node" entry: the wasm backend for Node
ort.env.wasm.numThreads = 1; // the test machine is shared; one thread is also deterministic
ort.env.logLevel = 'error';

async function run(job) {
  const session = await ort.InferenceSession.create(fs.readFileSync(job.model), { executionProviders: ['wasm'] });
  try {
    const x = new ort.Tensor('float32', Float32Array.from(job.input), job.shape);
    const out = await session.run({ [session.inputNames[0]]: x });
    const y = out[session.outputNames[0]];
    return { shape: y.dims.map(Number), logits: Array.from(y.data) };
  } finally {
    await session.release();
  }
}

async function main() {
  const req = JSON.parse(fs.readFileSync(0, 'utf8'));
  const results = [];
  for (const job of req.jobs) {
    try {
      results.push(await run(job));
    } catch (e) {
      results.push({ error: String(e && e.message ? e.message : e).replace(/\s+/g, ' ') });
    }
  }
  const version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
  process.stdout.write(JSON.stringify({ version, results }));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
