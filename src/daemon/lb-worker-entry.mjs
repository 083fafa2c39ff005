// Entry of the load balancer's worker thread: the sources are TypeScript, run through tsx like the main thread.
import { register } from 'tsx/esm/api';

register();
await import('./lb-host.ts');
