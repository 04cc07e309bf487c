#!/usr/bin/env python3
"""PyTorch CPU contender of the gradkit benchmark (optional: the bench runs without Python).

Usage: torch_bench.py SPEC.json   (written by apps/bench; the result goes to spec["resultFile"])

One thread (torch.set_num_threads(1)), float32, the same workloads, sizes, repetition rules and
data order as the JavaScript contenders. Progress lines go to stderr prefixed with "progress:".
"""
import json
import os
import resource
import sys
import time


def progress(msg):
    sys.stderr.write("progress: %s\n" % msg)
    sys.stderr.flush()


def peak_rss_mib():
    # Linux: ru_maxrss is in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def summarize(ts, warmup=0):
    s = sorted(ts)
    n = len(s)
    if n == 0:
        return {"medianMs": float("nan"), "minMs": float("nan"), "maxMs": float("nan"), "reps": 0, "warmup": warmup}
    mid = n // 2
    med = s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2
    return {"medianMs": med, "minMs": s[0], "maxMs": s[-1], "reps": n, "warmup": warmup}


def measure(fn, o):
    """Same rules as the JS side (stats.ts measure): warm-up runs, then reps fitted to a time budget."""
    est = 0.0
    warmup = 0
    start = time.perf_counter()
    while warmup < max(1, o["warmup"]) or (
        (time.perf_counter() - start) * 1000 < o.get("warmupMs", 0) and warmup < 1000
    ):
        t0 = time.perf_counter()
        fn()
        est = (time.perf_counter() - t0) * 1000
        warmup += 1
    fit = int(o["budgetMs"] // est) if est > 0 else o["maxReps"]
    reps = max(o["minReps"], min(o["maxReps"], fit))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return summarize(ts, warmup)


def measure_after_first(first_ms, fn, o, single_ms):
    """Same rule as stats.ts measureAfterFirst: a first run at least single_ms long is the only sample."""
    if first_ms >= single_ms:
        return summarize([first_ms], 0)
    return measure(fn, o)


def blas_library():
    """The BLAS shared library this process mapped (after a matmul ran)."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if any(k in line for k in ("blas", "mkl", "blis"))})
        return ", ".join(os.path.realpath(p) for p in libs) or "none mapped (built-in)"
    except OSError:
        return "unknown"


def blas_threads():
    """Threads of the loaded OpenBLAS (the orchestrator sets OPENBLAS_NUM_THREADS=1), if it is OpenBLAS."""
    try:
        import ctypes

        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "openblas" in line and ".so" in line}
        for path in libs:
            lib = ctypes.CDLL(path)
            if hasattr(lib, "openblas_get_num_threads"):
                return str(lib.openblas_get_num_threads())
    except (OSError, AttributeError):
        pass
    return "n/a"


def details(torch):
    torch.ones(64, 64) @ torch.ones(64, 64)
    cfg = torch.__config__.show()
    blas = [part.strip() for part in cfg.replace("\n", ",").split(",") if "BLAS_INFO" in part]
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": str(torch.get_num_threads()),
        "blasInfo": blas[0] if blas else "unknown",
        "blasLibrary": blas_library(),
        "blasThreads": blas_threads(),
        "mkldnn": str(torch.backends.mkldnn.is_available()),
    }


def matmul_rows(torch, spec):
    rows = []
    g = torch.Generator().manual_seed(2)
    for n in spec["sizes"]["matmulNs"]:
        a = torch.rand(n, n, generator=g) * 2 - 1
        b = torch.rand(n, n, generator=g) * 2 - 1
        for variant in ("A*B", "A^T*B", "A*B^T"):
            if variant == "A*B":
                f = lambda: (a @ b).sum().item()
            elif variant == "A^T*B":
                f = lambda: (a.t() @ b).sum().item()  # a view: BLAS reads it transposed
            else:
                f = lambda: (a @ b.t()).sum().item()
            t = measure(f, spec["sizes"]["matmul"])
            gf = 2 * n ** 3 / t["medianMs"] / 1e6
            rows.append({"contender": spec["id"], "variant": variant, "n": n, "timing": t, "gflops": gf})
            progress("matmul %s n=%d: %.2f GFLOP/s" % (variant, n, gf))
    return rows


def micro_rows(torch, spec):
    import torch.nn.functional as F

    s = spec["sizes"]
    rows = []
    g = torch.Generator().manual_seed(3)

    def push(op, shape, elements, fn):
        t = measure(fn, s["micro"])
        rows.append({"contender": spec["id"], "op": op, "shape": "[%s]" % ", ".join(map(str, shape)),
                     "elements": elements, "timing": t})
        progress("%s %s: %.3f ms" % (op, "x".join(map(str, shape)), t["medianMs"]))

    r, c = s["biasAct"]
    x = torch.randn(r, c, generator=g)
    b = torch.randn(c, generator=g)
    push("bias+relu fwd", [r, c], r * c, lambda: torch.relu(x + b)[0, 0].item())

    r, c = s["softmaxCe"]
    logits = torch.randn(r, c, generator=g).requires_grad_()
    labels = torch.tensor([(i * 7) % c for i in range(r)], dtype=torch.long)

    def ce():
        F.cross_entropy(logits, labels).backward()
        logits.grad[0, 0].item()
        logits.grad = None

    push("softmax-CE fwd+bwd", [r, c], r * c, ce)

    r, c = s["batchNorm"]
    bn = torch.nn.BatchNorm1d(c)
    bn.train()
    xb = torch.randn(r, c, generator=g).requires_grad_()
    dy = torch.randn(r, c, generator=g)

    def bnf():
        bn(xb).backward(dy)
        xb.grad[0, 0].item()
        xb.grad = None
        bn.zero_grad()

    push("batchnorm fwd+bwd", [r, c], r * c, bnf)

    n = s["adam"]
    p = torch.nn.Parameter(torch.randn(n, generator=g))
    p.grad = torch.randn(n, generator=g) * 0.01
    opt = torch.optim.Adam([p], lr=1e-3)

    def adam():
        opt.step()
        p.detach()[0].item()

    push("adam update", [n], n, adam)
    return rows


def conv_rows(torch, spec):
    """The conv workload: the orchestrator's seeded data (one file per case: x, w, b, dy float32),
    forward alone under no_grad, then forward + backward (input, weight, bias gradients) reading one
    element of each gradient; then the output and gradients at the probe positions."""
    import numpy as np
    import torch.nn.functional as F

    s = spec["sizes"]
    rows = []
    for index, c in enumerate(s["convCases"]):
        try:
            conv = c["kind"] == "conv2d"
            N, C, H, W = c["batch"], c["channels"], c["height"], c["width"]
            K, st, pad, G = c["kernel"], c["stride"], c["padding"], c["groups"]
            oh = (H + 2 * pad - K) // st + 1
            ow = (W + 2 * pad - K) // st + 1
            co = c["outChannels"]
            raw = np.fromfile(spec["convDataFiles"][index], dtype="<f4")
            sizes = [N * C * H * W, co * (C // G) * K * K if conv else 0, co if conv else 0,
                     N * (co if conv else C) * oh * ow]
            parts, at = [], 0
            for n in sizes:
                parts.append(raw[at:at + n])
                at += n
            xs, ws, bs, dys = parts
            checksum = 0.0
            for a in parts:
                checksum += float(np.dot(a.astype(np.float64), (np.arange(a.size) % 7 + 1).astype(np.float64)))
            x = torch.from_numpy(xs.copy()).reshape(N, C, H, W).requires_grad_()
            dy = torch.from_numpy(dys.copy()).reshape(N, co if conv else C, oh, ow)
            if conv:
                w = torch.from_numpy(ws.copy()).reshape(co, C // G, K, K).requires_grad_()
                b = torch.from_numpy(bs.copy()).requires_grad_()
                params = [x, w, b]
                f = lambda: F.conv2d(x, w, b, stride=st, padding=pad, groups=G)
            else:
                params = [x]
                f = lambda: F.max_pool2d(x, K, st)

            def fwd():
                with torch.no_grad():
                    f().reshape(-1)[0].item()

            def train():
                f().backward(dy)
                for p in params:
                    p.grad.reshape(-1)[0].item()
                    p.grad = None

            single = s.get("convSingleRunMs", 15000)
            t0 = time.perf_counter()
            fwd()
            tf = measure_after_first((time.perf_counter() - t0) * 1000, fwd, s["conv"], single)
            # the first forward + backward: timed (the only sample when it is slow), then read at
            # the probe positions after its clock stopped
            idx = spec["convProbes"][index]
            t0 = time.perf_counter()
            y = f()
            y.backward(dy)
            for p in params:
                p.grad.reshape(-1)[0].item()
            first = (time.perf_counter() - t0) * 1000
            probe = {
                "out": y.detach().reshape(-1)[idx["out"]].tolist(),
                "dx": x.grad.reshape(-1)[idx["dx"]].tolist(),
                "dw": w.grad.reshape(-1)[idx["dw"]].tolist() if conv else [],
                "db": b.grad.tolist() if conv else [],
            }
            del y
            for p in params:
                p.grad = None
            tt = measure_after_first(first, train, s["conv"], single)
            rows.append({"contender": spec["id"], "case": c["name"], "forward": tf, "train": tt,
                         "probe": probe, "checksum": checksum})
            progress("conv %s: fwd %.3f ms, fwd+bwd %.3f ms" % (c["name"], tf["medianMs"], tt["medianMs"]))
        except Exception as e:  # one case failing leaves the others (and matmul, micro) standing
            import traceback

            traceback.print_exc()
            rows.append({"contender": spec["id"], "case": c["name"], "error": "%s: %s" % (type(e).__name__, e)})
    return rows


def read_idx(path, rank):
    import numpy as np

    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        import gzip

        with gzip.open(path + ".gz", "rb") as f:
            raw = f.read()
    else:
        with open(path, "rb") as f:
            raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)


def checksum(x, y):
    """Same weighting as data.ts checksum (float64, chunked to keep memory flat)."""
    import numpy as np

    flat = x.reshape(-1)
    total = 0.0
    step = 1 << 20
    for start in range(0, flat.size, step):
        chunk = flat[start:start + step].astype(np.float64)
        w = (np.arange(start, start + chunk.size) % 7 + 1).astype(np.float64)
        total += float(np.dot(chunk, w))
    w = (np.arange(y.size) % 13 + 1).astype(np.float64)
    return total + float(np.dot(y.astype(np.float64), w))


def load(spec, split, order):
    import numpy as np

    stem = "train" if split == "train" else "t10k"
    d = spec["mnistDir"]
    images = read_idx(os.path.join(d, "%s-images-idx3-ubyte" % stem), 3)
    labels = read_idx(os.path.join(d, "%s-labels-idx1-ubyte" % stem), 1)
    # p / 255 in float64, rounded to float32: bit-identical to the JS contenders
    table = (np.arange(256, dtype=np.float64) / 255).astype(np.float32)
    x = table[images].reshape(-1, 784)
    y = labels.astype(np.int64)
    if order is not None:
        x = x[order]
        y = y[order]
    return x, y


def mnist(torch, spec):
    import numpy as np
    import torch.nn.functional as F

    s = spec["sizes"]
    order = np.fromfile(spec["orderFile"], dtype="<i4")
    x, y = load(spec, "train", order)
    tx, ty = load(spec, "test", None)
    tx, ty = tx[: s["mnistTest"]], ty[: s["mnistTest"]]
    sums = checksum(x, y)
    data_rss = rss_mib()
    layers = s["layers"]
    batch = s["batch"]

    def build(seed):
        torch.manual_seed(seed)
        mods = []
        for i in range(len(layers) - 1):
            mods.append(torch.nn.Linear(layers[i], layers[i + 1]))
            if i + 2 < len(layers):
                mods.append(torch.nn.ReLU())
        return torch.nn.Sequential(*mods)

    def step(model, opt, a, b):
        xb = torch.from_numpy(x[a:b])
        yb = torch.from_numpy(y[a:b])
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    n = x.shape[0]
    warm = min(s["mnistWarmupSteps"], (n + batch - 1) // batch)
    if warm > 0:
        wm = build(spec["seed"] + 1)
        wo = torch.optim.Adam(wm.parameters(), lr=s["lr"])
        for i in range(warm):
            step(wm, wo, i * batch, min(n, (i + 1) * batch))
        del wm, wo

    model = build(spec["seed"])
    opt = torch.optim.Adam(model.parameters(), lr=s["lr"], betas=(0.9, 0.999), eps=1e-8)
    limit = spec["timeLimitS"]
    steps, losses = [], []
    trained = 0
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    last = t0
    last_report = t0
    for a in range(0, n, batch):
        b = min(n, a + batch)
        losses.append(step(model, opt, a, b))
        now = time.perf_counter()
        steps.append((now - last) * 1000)
        last = now
        trained = b
        if now - last_report > 10:
            last_report = now
            progress("mnist %d/%d samples, %.0f samples/s" % (trained, n, trained / (now - t0)))
        if limit > 0 and now - t0 > limit and trained < n:
            break
    seconds = last - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    with torch.no_grad():
        pred = model(torch.from_numpy(np.ascontiguousarray(tx))).argmax(1).numpy()
    acc = float((pred == ty).mean())
    tail = losses[-10:]
    return {
        "contender": spec["id"],
        "trainSamples": trained,
        "requestedSamples": n,
        "partial": trained < n,
        "seconds": seconds,
        "samplesPerSecond": trained / seconds,
        "step": summarize(steps),
        "testAccuracy": acc,
        "testSamples": int(tx.shape[0]),
        "lastLoss": sum(tail) / len(tail) if tail else None,
        "cpuSeconds": cpu,
        "dataRssMiB": data_rss,
        "peakRssMiB": peak_rss_mib(),
        "checksum": sums,
        "warmupSteps": warm,
        "config": "PyTorch %s CPU, 1 thread: nn.Sequential(Linear %s, ReLU between), PyTorch default init "
        "(torch.manual_seed(%d)); F.cross_entropy on logits; torch.optim.Adam(lr %g, betas 0.9/0.999, eps 1e-8); "
        "batches of %d sliced in the shared order from a float32 numpy array (torch.from_numpy, no copy), "
        "loss.item() every step" % (torch.__version__, "-".join(map(str, layers)), spec["seed"], s["lr"], batch),
    }


def finite_or_none(x):
    import math

    return x if x is not None and math.isfinite(x) else None


def cnn(torch, spec):
    """The cnn epoch: LeNet-5 (spec["cnnModel"], as the JS contenders build it) on 1x28x28 images.
    First, untimed, the check (also the warm-up): from the shared starting weights
    (spec["cnnWeightsFile"]), one Adam step on the first batch (its loss), then the loss on that
    batch again. Then the timed epoch from PyTorch's default initialization (torch.manual_seed)."""
    import math

    import numpy as np
    import torch.nn.functional as F

    s = spec["sizes"]
    arch = spec["cnnModel"]
    order = np.fromfile(spec["orderFile"], dtype="<i4")
    x, y = load(spec, "train", order)
    tx, ty = load(spec, "test", None)
    tx, ty = tx[: s["cnnTest"]], ty[: s["cnnTest"]]
    sums = checksum(x, y)
    c0, h0, w0 = arch["input"]
    x = x.reshape(-1, c0, h0, w0)
    tx = np.ascontiguousarray(tx).reshape(-1, c0, h0, w0)
    data_rss = rss_mib()
    batch = s["cnnBatch"]
    nn = torch.nn

    def build(seed):
        torch.manual_seed(seed)
        mods = []
        c, h, w = c0, h0, w0
        for b in arch["convs"]:
            mods += [nn.Conv2d(c, b["out"], b["kernel"], padding=b["padding"]), nn.ReLU(), nn.MaxPool2d(2)]
            c = b["out"]
            h = (h + 2 * b["padding"] - b["kernel"] + 1) // 2
            w = (w + 2 * b["padding"] - b["kernel"] + 1) // 2
        mods.append(nn.Flatten())
        width = c * h * w
        for units in arch["dense"]:
            mods += [nn.Linear(width, units), nn.ReLU()]
            width = units
        mods.append(nn.Linear(width, arch["classes"]))
        return nn.Sequential(*mods)

    def step(model, opt, a, b):
        loss = F.cross_entropy(model(torch.from_numpy(x[a:b])), torch.from_numpy(y[a:b]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    n = x.shape[0]
    n0 = min(n, batch)
    cm = build(spec["seed"])
    raw = np.fromfile(spec["cnnWeightsFile"], dtype="<f4")
    at = 0
    with torch.no_grad():
        for p in cm.parameters():
            p.copy_(torch.from_numpy(raw[at:at + p.numel()].copy()).reshape(p.shape))
            at += p.numel()
    if at != raw.size:
        raise ValueError("the shared weights hold %d values, LeNet-5 has %d parameters" % (raw.size, at))
    co = torch.optim.Adam(cm.parameters(), lr=s["lr"], betas=(0.9, 0.999), eps=1e-8)
    loss_before = step(cm, co, 0, n0)
    with torch.no_grad():
        loss_after = F.cross_entropy(cm(torch.from_numpy(x[0:n0])), torch.from_numpy(y[0:n0])).item()
    progress("cnn check: loss %r -> %r after one step" % (loss_before, loss_after))
    warm = min(s["cnnWarmupSteps"], (n + batch - 1) // batch)
    for i in range(1, warm):
        step(cm, co, i * batch, min(n, (i + 1) * batch))
    del cm, co

    model = build(spec["seed"])
    opt = torch.optim.Adam(model.parameters(), lr=s["lr"], betas=(0.9, 0.999), eps=1e-8)
    limit = spec["timeLimitS"]
    steps, losses = [], []
    trained = 0
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    last = t0
    last_report = t0
    for a in range(0, n, batch):
        b = min(n, a + batch)
        losses.append(step(model, opt, a, b))
        now = time.perf_counter()
        steps.append((now - last) * 1000)
        last = now
        trained = b
        if now - last_report > 10:
            last_report = now
            progress("cnn %d/%d samples, %.0f samples/s" % (trained, n, trained / (now - t0)))
        if limit > 0 and now - t0 > limit and trained < n:
            break
    seconds = last - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    correct = 0
    with torch.no_grad():
        for a in range(0, tx.shape[0], 500):
            pred = model(torch.from_numpy(tx[a:a + 500])).argmax(1).numpy()
            correct += int((pred == ty[a:a + 500]).sum())
    tail = losses[-10:]
    last_loss = sum(tail) / len(tail) if tail else None
    return {
        "contender": spec["id"],
        "trainSamples": trained,
        "requestedSamples": n,
        "partial": trained < n,
        "seconds": seconds,
        "samplesPerSecond": trained / seconds,
        "step": summarize(steps),
        "testAccuracy": correct / tx.shape[0],
        "testSamples": int(tx.shape[0]),
        "lastLoss": finite_or_none(last_loss),
        "cpuSeconds": cpu,
        "dataRssMiB": data_rss,
        "peakRssMiB": peak_rss_mib(),
        "checksum": sums,
        "warmupSteps": warm,
        "lossBefore": finite_or_none(loss_before),
        "lossAfter": finite_or_none(loss_after),
        "lossesFinite": all(math.isfinite(v) for v in losses),
        "config": "PyTorch %s CPU, 1 thread: nn.Sequential of %s (Conv2d, ReLU, MaxPool2d(2), Flatten, Linear), "
        "the check from the harness's weights, the epoch from PyTorch's default init (torch.manual_seed(%d)); "
        "F.cross_entropy on logits; torch.optim.Adam(lr %g, betas 0.9/0.999, eps 1e-8); batches of %d images "
        "[B, 1, 28, 28] sliced in the shared order from a float32 numpy array (torch.from_numpy, no copy), "
        "loss.item() every step" % (torch.__version__, spec.get("cnnDescription", "LeNet-5"), spec["seed"], s["lr"], batch),
    }


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    out = spec["resultFile"]
    try:
        import torch

        torch.set_num_threads(1)
        res = {"ok": True, "details": details(torch)}
        if spec["job"] == "mnist":
            res["mnist"] = mnist(torch, spec)
        elif spec["job"] == "cnn":
            res["cnn"] = cnn(torch, spec)
        else:
            res["matmul"] = matmul_rows(torch, spec) if "matmul" in spec["workloads"] else []
            res["micro"] = micro_rows(torch, spec) if "micro" in spec["workloads"] else []
            res["conv"] = conv_rows(torch, spec) if "conv" in spec["workloads"] else []
    except Exception as e:  # reported by the orchestrator, which carries on
        import traceback

        traceback.print_exc()
        res = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    with open(out, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
