// The drawing pad: strokes with the mouse, a pen or a finger (pointer events) on a canvas, turned
// into a 28 x 28 image the way MNIST's digits were made: the ink's bounding box scaled to fit 20 x 20
// (aspect kept, antialiased), then placed in 28 x 28 so that its centre of mass is at the centre.

/** Side of the image the model sees. */
const SIDE = 28;
/** Side of the box the digit is scaled into (MNIST: 20). */
const BOX = 20;

/** A canvas to draw on; calls `onChange` while drawing (throttled) and when a stroke ends. */
export class DrawingPad {
  private readonly ctx: CanvasRenderingContext2D;
  private drawing = false;
  private last: { x: number; y: number } | null = null;
  private lastNotify = 0;
  private inked = false;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onChange: (final: boolean) => void,
  ) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('the drawing canvas has no 2d context');
    this.ctx = ctx;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      this.drawing = true;
      this.last = this.point(e);
      this.dot(this.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      e.preventDefault();
      const p = this.point(e);
      this.line(this.last ?? p, p);
      this.last = p;
      const now = performance.now();
      if (now - this.lastNotify > 120) {
        this.lastNotify = now;
        this.onChange(false);
      }
    });
    const end = (e: PointerEvent) => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = null;
      if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
      this.onChange(true);
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  /** Whether anything was drawn since the last clear. */
  get hasInk(): boolean {
    return this.inked;
  }

  clear(): void {
    const { ctx, canvas } = this;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    this.inked = false;
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) / r.width) * this.canvas.width,
      y: ((e.clientY - r.top) / r.height) * this.canvas.height,
    };
  }

  private get lineWidth(): number {
    return this.canvas.width / 13;
  }

  private dot(p: { x: number; y: number }): void {
    const { ctx } = this;
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc(p.x, p.y, this.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
    this.inked = true;
  }

  private line(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const { ctx } = this;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.lineWidth;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
    this.inked = true;
  }

  /**
   * The drawing as MNIST would have it: 784 values in [0, 1] (ink = 1), row-major; null when
   * nothing is drawn.
   */
  image(): Float32Array | null {
    const { canvas, ctx } = this;
    const { width: w, height: h } = canvas;
    const rgba = ctx.getImageData(0, 0, w, h).data;
    let x0 = w;
    let y0 = h;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (rgba[(y * w + x) * 4] > 24) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
    if (x1 < 0) return null;
    const bw = x1 - x0 + 1;
    const bh = y1 - y0 + 1;
    const scale = BOX / Math.max(bw, bh);
    const sw = Math.max(1, Math.round(bw * scale));
    const sh = Math.max(1, Math.round(bh * scale));
    // Downscale in halving steps (a single drawImage from 280 px to 20 px would alias).
    let src: HTMLCanvasElement = canvas;
    let sx = x0;
    let sy = y0;
    let cw = bw;
    let ch = bh;
    while (cw / 2 > sw && ch / 2 > sh) {
      const half = document.createElement('canvas');
      half.width = Math.ceil(cw / 2);
      half.height = Math.ceil(ch / 2);
      const hc = half.getContext('2d')!;
      hc.imageSmoothingQuality = 'high';
      hc.drawImage(src, sx, sy, cw, ch, 0, 0, half.width, half.height);
      src = half;
      sx = 0;
      sy = 0;
      cw = half.width;
      ch = half.height;
    }
    const small = document.createElement('canvas');
    small.width = sw;
    small.height = sh;
    const sc = small.getContext('2d', { willReadFrequently: true })!;
    sc.imageSmoothingQuality = 'high';
    sc.drawImage(src, sx, sy, cw, ch, 0, 0, sw, sh);
    const px = sc.getImageData(0, 0, sw, sh).data;
    // centre of mass of the scaled digit
    let mass = 0;
    let mx = 0;
    let my = 0;
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) {
        const v = px[(y * sw + x) * 4] / 255;
        mass += v;
        mx += v * (x + 0.5);
        my += v * (y + 0.5);
      }
    }
    const cx = mass > 0 ? mx / mass : sw / 2;
    const cy = mass > 0 ? my / mass : sh / 2;
    const ox = Math.round(SIDE / 2 - cx);
    const oy = Math.round(SIDE / 2 - cy);
    const out = new Float32Array(SIDE * SIDE);
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) {
        const tx = x + ox;
        const ty = y + oy;
        if (tx < 0 || ty < 0 || tx >= SIDE || ty >= SIDE) continue;
        out[ty * SIDE + tx] = px[(y * sw + x) * 4] / 255;
      }
    }
    return out;
  }
}

/** Paints a 28 x 28 image (values in [0, 1]) onto a small canvas, for the "what the model sees" view. */
export function paintImage(canvas: HTMLCanvasElement, pixels: Float32Array | null): void {
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = Math.round((pixels?.[i] ?? 0) * 255);
    img.data[4 * i] = v;
    img.data[4 * i + 1] = v;
    img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
