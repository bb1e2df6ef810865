// `node --import tsx --import ./record-imports.mjs MODULE`: registers record-hooks.mjs after tsx,
// so the recorder sees every resolution (tsx's .ts ones included) before the module is loaded.
import { register } from 'node:module';

register('./record-hooks.mjs', import.meta.url);
