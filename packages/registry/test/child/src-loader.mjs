import { register } from 'node:module';

register('./src-hooks.mjs', import.meta.url);
