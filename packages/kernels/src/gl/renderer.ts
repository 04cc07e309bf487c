// Software rasterizers, recognised from the GL renderer string.

/**
 * The software rasterizers gradkit recognises in a GL renderer string, with the name it reports:
 * Google's SwiftShader (Chromium without a usable GPU; ANGLE reports it inside its renderer
 * string), Mesa's llvmpipe (also Vulkan's lavapipe) and softpipe, Chromium's generic
 * "Software Rasterizer", Windows' "Microsoft Basic Render Driver" and "GDI Generic", and Apple's
 * "Apple Software Renderer".
 */
const SOFTWARE: readonly [RegExp, string][] = [
  [/swiftshader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/softpipe/i, 'softpipe'],
  [/microsoft basic render/i, 'Microsoft Basic Render Driver'],
  [/gdi generic/i, 'GDI Generic'],
  [/apple software renderer/i, 'Apple Software Renderer'],
  [/software rasterizer/i, 'Software Rasterizer'],
];

/**
 * Recognises a software rasterizer in a GL renderer string (as `WEBGL_debug_renderer_info`'s
 * `UNMASKED_RENDERER_WEBGL` or `RENDERER` report it): SwiftShader, llvmpipe, lavapipe, softpipe,
 * "Microsoft Basic Render Driver", "GDI Generic", "Apple Software Renderer" or Chromium's
 * "Software Rasterizer". A renderer that hides its name (a browser masking it as `"WebKit WebGL"`)
 * is not recognised. Automatic backend selection ranks a `gl` backend on such a renderer below
 * `wasm`; `backend: 'gl'` still uses it.
 *
 * @param renderer the renderer string.
 * @returns the rasterizer's name (`'llvmpipe'`, `'SwiftShader'`, ...), or `null` for anything else.
 * @example
 * ```ts
 * detectSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)'); // 'llvmpipe'
 * detectSoftwareRenderer('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)'); // 'SwiftShader'
 * detectSoftwareRenderer('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)'); // null
 * ```
 * @see https://registry.khronos.org/webgl/extensions/WEBGL_debug_renderer_info/
 */
export function detectSoftwareRenderer(renderer: string): string | null {
  if (typeof renderer !== 'string') return null;
  for (const [re, name] of SOFTWARE) if (re.test(renderer)) return name;
  return null;
}
