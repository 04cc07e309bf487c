// Small builders of WebAssembly text shared by the kernel generators (wasm-gen.mjs,
// wasm-window-gen.mjs, wasm-skinny-gen.mjs): locals, i32 arithmetic on addresses and counters,
// and a loop that tests its condition before each pass.

/** `(local.get $l)`. */
export const get = (l) => `(local.get $${l})`;
/** `(local.set $l v)`. */
export const set = (l, v) => `(local.set $${l} ${v})`;
/** i32 `a + b`. */
export const add = (a, b) => `(i32.add ${a} ${b})`;
/** i32 `a * b`. */
export const mul = (a, b) => `(i32.mul ${a} ${b})`;
/** i32 `a << k` for a constant `k`. */
export const shl = (a, k) => `(i32.shl ${a} (i32.const ${k}))`;
/** `$l += by` (a constant number or an i32 expression). */
export const inc = (l, by) => set(l, add(get(l), typeof by === 'number' ? `(i32.const ${by})` : by));
/** A `(loop)` running `body` while `cond` holds, tested before each pass (labels `$B<name>`, `$L<name>`). */
export const whileLoop = (name, cond, body) => `(block $B${name} (loop $L${name}
        (br_if $B${name} (i32.eqz ${cond}))
        ${body}
        (br $L${name})))`;
/** `[0, 1, ..., n - 1]`. */
export const range = (n) => Array.from({ length: n }, (_, i) => i);
