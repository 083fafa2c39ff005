/** The content hash of a config: `sha256:` + hex of the exact bytes, so two nodes agree iff their files are equal. */
import { createHash } from 'node:crypto';

/**
 * The hash every node, `tandem config status`, the metrics and the console show for a config text.
 * @example configHash('a\n') // 'sha256:87428fc5…'
 */
export function configHash(text: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
