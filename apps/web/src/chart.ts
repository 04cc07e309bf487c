// The live chart, on a plain canvas: training loss (left axis) and training accuracy (right axis,
// 0-100%) per progress point, against the step, and the test accuracy after each epoch as dots.

interface Point {
  readonly step: number;
  readonly value: number;
}

const COLORS = { loss: '#2563eb', accuracy: '#ea580c', test: '#16a34a', grid: '#e5e7eb', text: '#374151' };

export class LiveChart {
  private loss: Point[] = [];
  private accuracy: Point[] = [];
  private test: Point[] = [];
  private totalSteps = 1;
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Training points in the last drawing. */
  drawnPoints = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onDraw: (points: number) => void = () => {},
  ) {
    this.draw();
  }

  /** Training points plotted so far (each is one loss and one accuracy value). */
  get points(): number {
    return this.loss.length;
  }

  reset(totalSteps: number): void {
    this.loss = [];
    this.accuracy = [];
    this.test = [];
    this.totalSteps = Math.max(1, totalSteps);
    // cleared at once (a drawing still pending would show the previous run's points)
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    this.frame = 0;
    this.draw();
  }

  add(step: number, loss: number, accuracy: number): void {
    this.loss.push({ step, value: loss });
    this.accuracy.push({ step, value: accuracy });
    this.schedule();
  }

  addTest(step: number, accuracy: number): void {
    this.test.push({ step, value: accuracy });
    this.schedule();
  }

  /**
   * Redraws at the next animation frame, or after 50 ms if no frame comes first (a busy or
   * headless compositor can space frames out); points arriving together are drawn once.
   */
  private schedule(): void {
    if (this.frame) return;
    const draw = () => {
      cancelAnimationFrame(this.frame);
      clearTimeout(this.timer);
      this.frame = 0;
      this.draw();
    };
    this.frame = requestAnimationFrame(draw);
    this.timer = setTimeout(draw, 50);
  }

  /** Draws now. */
  draw(): void {
    const { canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || canvas.width;
    const cssH = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    // A small chart drawn on the CPU: reading its pixels back (a script, a test) never waits for a
    // GPU readback on the page's thread.
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const pad = { left: 46, right: 46, top: 30, bottom: 30 };
    const w = cssW - pad.left - pad.right;
    const h = cssH - pad.top - pad.bottom;
    const maxLoss = Math.max(0.5, ...this.loss.map((p) => (Number.isFinite(p.value) ? p.value : 0))) * 1.05;
    const x = (step: number) => pad.left + (step / this.totalSteps) * w;
    const yLoss = (v: number) => pad.top + h - (Math.min(v, maxLoss) / maxLoss) * h;
    const yAcc = (v: number) => pad.top + h - v * h;

    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.strokeStyle = COLORS.grid;
    ctx.fillStyle = COLORS.text;
    for (let k = 0; k <= 4; k++) {
      const yy = pad.top + (h * k) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.left, yy);
      ctx.lineTo(pad.left + w, yy);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillText((maxLoss * (1 - k / 4)).toFixed(2), pad.left - 6, yy + 4);
      ctx.textAlign = 'left';
      ctx.fillText(`${100 - 25 * k}%`, pad.left + w + 6, yy + 4);
    }
    ctx.textAlign = 'center';
    ctx.fillText(`step (of ${this.totalSteps})`, pad.left + w / 2, cssH - 8);

    const line = (pts: Point[], y: (v: number) => number, color: string) => {
      if (pts.length === 0) return;
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      pts.forEach((p, i) => {
        if (i === 0) ctx.moveTo(x(p.step), y(p.value));
        else ctx.lineTo(x(p.step), y(p.value));
      });
      ctx.stroke();
    };
    line(this.loss, yLoss, COLORS.loss);
    line(this.accuracy, yAcc, COLORS.accuracy);
    ctx.fillStyle = COLORS.test;
    for (const p of this.test) {
      ctx.beginPath();
      ctx.arc(x(p.step), yAcc(p.value), 5, 0, 2 * Math.PI);
      ctx.fill();
    }

    // legend
    const items: [string, string][] = [
      ['training loss', COLORS.loss],
      ['training accuracy', COLORS.accuracy],
      ['test accuracy', COLORS.test],
    ];
    ctx.textAlign = 'left';
    let lx = pad.left + 8;
    for (const [label, color] of items) {
      ctx.fillStyle = color;
      ctx.fillRect(lx, 6, 10, 10);
      ctx.fillStyle = COLORS.text;
      ctx.fillText(label, lx + 14, 15);
      lx += ctx.measureText(label).width + 30;
    }
    this.drawnPoints = this.loss.length;
    this.onDraw(this.drawnPoints);
  }
}
