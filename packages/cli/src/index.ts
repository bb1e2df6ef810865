export type { Command } from './command.js';
export type { CliIO } from './io.js';
export { EXIT, main } from './main.js';
