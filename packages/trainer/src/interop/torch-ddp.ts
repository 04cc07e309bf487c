/**
 * The Python source of `train_ddp.py`, which `gradkit export --format torch` writes beside
 * `model.py`: it continues a gradkit run with PyTorch's DistributedDataParallel (`gloo`, CPU):
 *
 * ```sh
 * torchrun --nproc_per_node 2 train_ddp.py --epochs 1      # or --steps N; plain python3 runs one process
 * ```
 *
 * It reads, from its own directory: `model.py` (`load()` for the weights, `load_optimizer()` for
 * `optimizer.json`/`optimizer.safetensors` when present, else SGD with `--lr`) and `data.json`
 * (`train`/`test`: `{ images, labels, count? }` paths of IDX files, raw or gzipped, and how many
 * leading rows to use; `trainRows`: the rows of those that are trained on, when a validation
 * split held some out; `normalize`: `'unit'`, `'standard'` or `'none'` as `loadMnist`;
 * `sampleShape`; `batchSize`; and `order`: the sample order of gradkit's next epoch, so one process
 * sees exactly the batches gradkit's next steps would; later epochs are shuffled by PyTorch with
 * `--seed`). Each global batch is split into contiguous equal parts, one per process; DDP averages
 * the gradients, which equals the full batch's gradient of the mean loss when the parts are equal
 * (a last, odd-sized batch weighs its parts equally). It prints JSON lines on rank 0:
 * `{"step", "epoch", "loss", "size"}` per step (the loss of the whole global batch), then
 * `{"test": {"loss", "accuracy", "correct", "total"}}` in eval mode on the test split, and saves
 * `<out>.safetensors` (`model.save`), `<out>-optimizer.json/.safetensors` (`save_optimizer`) and
 * `<out>.json` (steps, completed epochs with their mean loss, the test result) for `gradkit import`. Options:
 * `--steps N` / `--epochs N` (default 1 epoch), `--batch-size` (default the run's), `--lr`
 * (overrides the optimizer's), `--seed` (default 0), `--out` (default `trained`, beside the
 * script), `--test-limit N` (default all rows).
 *
 * Not carried over from a gradkit run: penalties (`--l1`, `--l2`), gradient clipping, max-norm,
 * learning-rate schedules and early stopping (the optimizer continues at its current `lr`).
 *
 * @see https://pytorch.org/docs/1.13/notes/ddp.html
 * @example
 * ```ts
 * writeFileSync('export/train_ddp.py', TORCH_DDP_SCRIPT);
 * ```
 */
export const TORCH_DDP_SCRIPT = `"""Continue a gradkit run with PyTorch DistributedDataParallel (gloo, CPU), written by gradkit export.

    torchrun --nproc_per_node 2 train_ddp.py --epochs 1     # 2 processes on this machine
    python3 train_ddp.py --steps 10                         # one process, no torchrun

Reads model.py, optimizer.json/.safetensors and data.json beside this file; prints JSON lines
(one per step, then the test result) on rank 0 and saves trained.safetensors (model.save),
trained-optimizer.json/.safetensors (save_optimizer) and trained.json for gradkit import.
"""
import argparse
import gzip
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def load_model_module():
    spec = importlib.util.spec_from_file_location("model", os.path.join(HERE, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_idx(path):
    """An IDX file (raw or .gz) as a numpy array (unsigned bytes only, as MNIST's)."""
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, path + ": not an unsigned-byte IDX file"
    shape = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_split(split, normalize, sample_shape, limit=None):
    """Features as gradkit's loadMnist makes them (a float64 table rounded to float32) and labels."""
    images, labels = read_idx(split["images"]), read_idx(split["labels"])
    n = min(split.get("count") or len(labels), limit or len(labels))
    p = np.arange(256, dtype=np.float64)
    table = {"none": p, "unit": p / 255, "standard": (p / 255 - MNIST_MEAN) / MNIST_STD}[normalize]
    x = torch.from_numpy(table.astype(np.float32)[images[:n].reshape(n, -1)]).reshape([n] + list(sample_shape))
    return x, torch.from_numpy(labels[:n].astype(np.int64))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=None, help="optimizer steps (default: --epochs)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs when --steps is not given (default 1)")
    ap.add_argument("--batch-size", type=int, default=None, help="global batch size (default: the run's)")
    ap.add_argument("--lr", type=float, default=None, help="learning rate (default: the exported optimizer's)")
    ap.add_argument("--seed", type=int, default=0, help="shuffle seed of the epochs after the first")
    ap.add_argument("--out", default=os.path.join(HERE, "trained"), help="stem of the saved files")
    ap.add_argument("--data", default=os.path.join(HERE, "data.json"), help="data description (default data.json)")
    ap.add_argument("--test-limit", type=int, default=None, help="evaluate on the first N test rows")
    args = ap.parse_args()

    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))

    if not os.path.exists(args.data):
        sys.exit("train_ddp.py: no " + args.data + ": export an MNIST run, or write one (see its keys in the README)")
    with open(args.data) as f:
        data = json.load(f)
    x, y = load_split(data["train"], data["normalize"], data["sampleShape"])
    if data.get("trainRows"):  # the run held out a validation split: its training rows
        rows = torch.tensor(data["trainRows"], dtype=torch.int64)
        x, y = x[rows], y[rows]
    batch = args.batch_size or data["batchSize"]

    model = load_model_module()
    net = model.load()
    net.train()
    if os.path.exists(os.path.join(HERE, "optimizer.json")):
        opt = model.load_optimizer(net)
    elif args.lr is not None:
        opt = torch.optim.SGD(net.parameters(), lr=args.lr)
    else:
        sys.exit("train_ddp.py: no optimizer.json beside the script: pass --lr for plain SGD")
    if args.lr is not None:
        for g in opt.param_groups:
            g["lr"] = args.lr
    ddp = DistributedDataParallel(net) if distributed else net

    n = len(y)
    per_epoch = (n + batch - 1) // batch
    total = args.steps if args.steps is not None else args.epochs * per_epoch
    step, epoch, history = 0, 0, []
    while step < total:
        if epoch == 0 and data.get("order") and len(data["order"]) == n:
            order = torch.tensor(data["order"], dtype=torch.int64)  # gradkit's next epoch
        else:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(args.seed + epoch))
        epoch += 1
        epoch_loss, epoch_rows = 0.0, 0
        for b in range(per_epoch):
            if step >= total:
                break
            idx = order[b * batch : (b + 1) * batch]
            part = torch.tensor_split(idx, world)[rank]
            opt.zero_grad()
            loss = F.cross_entropy(ddp(x[part]), y[part])
            loss.backward()
            opt.step()
            step += 1
            total_loss = torch.tensor([loss.item() * len(part), float(len(part))], dtype=torch.float64)
            if distributed:
                dist.all_reduce(total_loss)
            epoch_loss, epoch_rows = epoch_loss + total_loss[0].item(), epoch_rows + int(total_loss[1].item())
            if rank == 0:
                print(json.dumps({"step": step, "epoch": epoch, "loss": total_loss[0].item() / total_loss[1].item(), "size": len(idx)}), flush=True)
            if b == per_epoch - 1:  # a completed epoch: its mean loss, as gradkit's history records it
                history.append({"epoch": epoch, "step": step, "loss": epoch_loss / epoch_rows})

    if rank == 0:
        net.eval()
        tx, ty = load_split(data["test"], data["normalize"], data["sampleShape"], args.test_limit)
        correct, loss_sum = 0, 0.0
        with torch.no_grad():
            for i in range(0, len(ty), 1000):
                logits = net(tx[i : i + 1000])
                loss_sum += F.cross_entropy(logits, ty[i : i + 1000], reduction="sum").item()
                correct += int((logits.argmax(1) == ty[i : i + 1000]).sum())
        test = {"loss": loss_sum / len(ty), "accuracy": correct / len(ty), "correct": correct, "total": len(ty)}
        print(json.dumps({"test": test}), flush=True)
        model.save(net, args.out + ".safetensors")
        model.save_optimizer(opt, net, args.out + "-optimizer")
        with open(args.out + ".json", "w") as f:
            json.dump({"format": "gradkit.torch-run", "version": 1, "steps": step, "epochs": len(history), "history": history, "processes": world, "test": test}, f, indent=1)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
