// Consumer test, CJS: the same run as train.mjs through require(), so the .cjs builds are the
// ones that load. Run by scripts/consumer-test.sh; prints one line.
const { adam } = require('@gradkit/optimizers');
const { backendInfo, linear, Module, mseLoss, memory, randn, Rng, scope, zeros } = require('@gradkit/tensor');

class Regressor extends Module {
  w = this.registerParameter('w', randn([1, 3], { std: 0.1, rng: new Rng(1) }));
  b = this.registerParameter('b', zeros([1]));
  forward(x) {
    return linear(x, this.w, this.b);
  }
}

const rng = new Rng(0);
const x = randn([64, 3], { rng });
const y = scope(() => x.matmul(randn([3, 1], { rng })).add(0.5)); // a linear teacher
const model = new Regressor();
const opt = adam(model, { lr: 0.05 });

const losses = [];
for (let step = 0; step < 40; step++) {
  const loss = scope(() => {
    const l = mseLoss(model.forward(x), y);
    l.backward();
    opt.step();
    opt.zeroGrad();
    return l;
  });
  losses.push(loss.item());
  loss.dispose();
}

const first = losses[0];
const last = losses.at(-1);
const info = backendInfo();
const entry = require.resolve('@gradkit/tensor');
console.log(
  `cjs: @gradkit/tensor -> ${entry.replace(/^.*node_modules\//, '')}; backend ${info.name} (${info.reason}); ` +
    `loss ${first.toFixed(4)} -> ${last.toFixed(4)} in ${losses.length} Adam steps; ${memory().tensors} live tensors`,
);
if (!entry.endsWith('/dist/index.cjs')) throw new Error(`require resolved @gradkit/tensor to ${entry}`);
if (!(Number.isFinite(last) && last < first * 0.5))
  throw new Error(`the loss did not fall: ${first} -> ${last}`);
// An argument such as `wasm,cpu` names the backends this run may end up on (consumer-test.sh).
const expected = process.argv[2]?.split(',');
if (expected && !expected.includes(info.name)) {
  throw new Error(`backend ${info.name} is not one of ${expected.join(', ')} (${info.reason})`);
}
