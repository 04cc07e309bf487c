import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrainerState } from '../trainer.js';
import type { Checkpoint } from './checkpoint.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { SafetensorsError } from './safetensors.js';

// Crash states are made by hand on disk: the directories a save killed between its steps leaves.

/** A pid that surely ran and ended (a child that already exited). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid as number;
}

function state(epoch: number): TrainerState {
  return {
    epoch,
    step: epoch * 3,
    history: Array.from({ length: epoch }, (_, i) => ({
      epoch: i + 1,
      step: (i + 1) * 3,
      seconds: 0.5,
      logs: { loss: 1 / (i + 1) },
    })),
    dataRng: [1, 2, 3, 4],
    globalRng: [5, 6, 7, 8],
    callbacks: {},
    stopped: null,
  };
}

function ckpt(epoch: number): Checkpoint {
  return {
    model: { 'fc.weight': { shape: [2], data: Float32Array.from([epoch, -epoch]) } },
    optimizer: { optimizer: 'SGD', state: {}, paramGroups: [] },
    trainer: state(epoch),
    callbackTensors: { constructor: { best: { shape: [1], data: Float32Array.from([epoch]) } } },
    modelSpec: { format: 'x' },
    config: { lr: 0.1 },
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'gradkit-crash-'));

describe('checkpoint crash windows', () => {
  it('a save sweeps the leftovers of a killed save, and keeps those of a running process', () => {
    const root = tmp();
    const last = join(root, 'last');
    saveCheckpoint(last, ckpt(1));
    const dead = deadPid();
    const staleTmp = join(root, `.last.tmp-${dead}-abc123`);
    const staleOld = join(root, `.last.old-${dead}`);
    const liveTmp = join(root, `.last.tmp-${process.ppid}-zz`); // the parent runs: its save may be under way
    for (const d of [staleTmp, staleOld, liveTmp]) {
      mkdirSync(d);
      writeFileSync(join(d, 'model.safetensors'), 'partial');
    }
    writeFileSync(join(root, '.lastly.tmp-1-x'), 'not ours'); // another checkpoint's name: untouched
    saveCheckpoint(last, ckpt(2));
    expect(readdirSync(root).sort()).toEqual([`.last.tmp-${process.ppid}-zz`, '.lastly.tmp-1-x', 'last']);
    expect(loadCheckpoint(last).trainer.epoch).toBe(2);
  });

  it('loading sweeps stale temporary directories too', () => {
    const root = tmp();
    saveCheckpoint(join(root, 'last'), ckpt(3));
    const stale = join(root, `.last.tmp-${deadPid()}-q1`);
    mkdirSync(stale);
    expect(loadCheckpoint(join(root, 'last')).trainer.epoch).toBe(3);
    expect(existsSync(stale)).toBe(false);
  });

  it('a kill between the two renames (no last, a complete .last.old-*) recovers the previous checkpoint', () => {
    const root = tmp();
    const last = join(root, 'last');
    saveCheckpoint(last, ckpt(4));
    const dead = deadPid();
    // the state the kill leaves: last renamed to .last.old-<pid>, the new one still a temp dir
    renameSync(last, join(root, `.last.old-${dead}`));
    mkdirSync(join(root, `.last.tmp-${dead}-k9`));
    writeFileSync(join(root, `.last.tmp-${dead}-k9`, 'model.safetensors'), '');
    expect(existsSync(last)).toBe(false);
    const back = loadCheckpoint(last);
    expect(back.trainer.epoch).toBe(4);
    expect(Array.from(back.model['fc.weight'].data)).toEqual([4, -4]);
    expect(readdirSync(root)).toEqual(['last']);
    // and a save after such a kill works (the stale name of this pid no longer blocks the rename)
    renameSync(last, join(root, `.last.old-${process.pid}`));
    saveCheckpoint(last, ckpt(5));
    expect(readdirSync(root)).toEqual(['last']);
    expect(loadCheckpoint(last).trainer.epoch).toBe(5);
  });

  it('recovers the newest of several complete leftovers, and nothing from an incomplete one', () => {
    const root = tmp();
    const last = join(root, 'last');
    for (const [epoch, pid] of [
      [2, deadPid()],
      [6, deadPid()],
    ]) {
      saveCheckpoint(last, ckpt(epoch));
      renameSync(last, join(root, `.last.old-${pid}`));
    }
    expect(loadCheckpoint(last).trainer.epoch).toBe(6);
    const other = join(root, 'best');
    mkdirSync(join(root, `.best.old-${deadPid()}`)); // empty: not a checkpoint
    expect(() => loadCheckpoint(other)).toThrow(/best: no such checkpoint directory/);
  });
});

describe('loadCheckpoint checks what it reads', () => {
  function saved(): string {
    const dir = join(tmp(), 'ck');
    saveCheckpoint(dir, ckpt(2));
    return dir;
  }

  it('for evaluation (training: false) it reads neither optimizer.json nor callbacks', () => {
    const dir = saved();
    writeFileSync(join(dir, 'optimizer.json'), '{"optimizer": "SGD", "sta'); // truncated by a full disk
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(/optimizer.json: not valid JSON/);
    const c = loadCheckpoint(dir, { training: false });
    expect(c.optimizer).toBeNull();
    expect(c.callbackTensors).toEqual({});
    expect(Array.from(c.model['fc.weight'].data)).toEqual([2, -2]);
    rmSync(join(dir, 'optimizer.json'));
    expect(loadCheckpoint(dir, { training: false }).trainer.epoch).toBe(2);
    writeFileSync(join(dir, 'optimizer.json'), '[1, 2]');
    expect(() => loadCheckpoint(dir)).toThrow(/optimizer.json: expected a JSON object/);
  });

  it('callback tensors named like Object.prototype members load as own entries', () => {
    const c = loadCheckpoint(saved());
    expect(Object.hasOwn(c.callbackTensors, 'constructor')).toBe(true);
    const key: string = 'constructor';
    expect(Array.from(c.callbackTensors[key].best.data)).toEqual([2]);
  });

  // biome-ignore lint/suspicious/noExplicitAny: edits of parsed JSON
  type Edit = (s: Record<string, any>) => unknown;
  const corruptions: [string, Edit, RegExp][] = [
    ['not an object', () => 42, /unsupported checkpoint format undefined/],
    ['no trainer', (s) => ({ ...s, trainer: undefined }), /"trainer" must be an object/],
    ['trainer null', (s) => ({ ...s, trainer: null }), /"trainer" must be an object/],
    [
      'epoch negative',
      (s) => {
        s.trainer.epoch = -1;
      },
      /"trainer.epoch" must be a non-negative integer, got -1/,
    ],
    [
      'epoch a string',
      (s) => {
        s.trainer.epoch = '2';
      },
      /"trainer.epoch" must be a non-negative integer, got "2"/,
    ],
    [
      'step fractional',
      (s) => {
        s.trainer.step = 1.5;
      },
      /"trainer.step" must be a non-negative integer, got 1.5/,
    ],
    [
      'history not an array',
      (s) => {
        s.trainer.history = {};
      },
      /"trainer.history" must be an array/,
    ],
    [
      'history record bad',
      (s) => {
        s.trainer.history[1].logs = { loss: 'x' };
      },
      /"trainer.history\[1\]" must be/,
    ],
    [
      'history too short',
      (s) => {
        s.trainer.history.pop();
      },
      /"trainer.history" has 1 records for 2 completed epochs/,
    ],
    [
      'dataRng short',
      (s) => {
        s.trainer.dataRng = [1, 2];
      },
      /"trainer.dataRng" must be four unsigned 32-bit integers/,
    ],
    [
      'globalRng negative',
      (s) => {
        s.trainer.globalRng = [1, 2, 3, -4];
      },
      /"trainer.globalRng"/,
    ],
    [
      'callbacks array',
      (s) => {
        s.trainer.callbacks = [];
      },
      /"trainer.callbacks" must be an object/,
    ],
    [
      'stopped number',
      (s) => {
        s.trainer.stopped = 3;
      },
      /"trainer.stopped" must be a string or null/,
    ],
    [
      'model spec a string',
      (s) => {
        s.model = 'mlp';
      },
      /"model" must be an object or null/,
    ],
    [
      'config an array',
      (s) => {
        s.config = [1];
      },
      /"config" must be an object or null/,
    ],
    [
      'step mismatch',
      (s) => {
        s.trainer.step = 99;
      },
      /model.safetensors is from step 6, trainer.json from step 99/,
    ],
  ];
  it.each(corruptions)('a trainer.json with %s is a CheckpointError naming the field', (_, edit, message) => {
    const dir = saved();
    const path = join(dir, 'trainer.json');
    const parsed = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify(edit(parsed) ?? parsed));
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(message);
    expect(() => loadCheckpoint(dir, { training: false })).toThrow(message);
  });

  it('a truncated or garbage model.safetensors is a CheckpointError (SafetensorsError)', () => {
    const dir = saved();
    const path = join(dir, 'model.safetensors');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    expect(() => loadCheckpoint(dir)).toThrow(SafetensorsError);
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    writeFileSync(path, 'garbage garbage garbage');
    expect(() => loadCheckpoint(dir)).toThrow(/model.safetensors: header length \d+ exceeds the file/);
    const copy = join(tmp(), 'copy');
    cpSync(saved(), copy, { recursive: true });
    writeFileSync(
      join(copy, 'model.safetensors'),
      Buffer.concat([readFileSync(join(copy, 'model.safetensors')), Buffer.from([0])]),
    );
    expect(() => loadCheckpoint(copy)).toThrow(/1 trailing bytes after the last tensor/);
  });
});
