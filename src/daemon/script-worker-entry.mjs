// Entry of the track-script worker thread: the sources are TypeScript, run through tsx like the main thread.
import { register } from 'tsx/esm/api';

register();
await import('./script-host.ts');
