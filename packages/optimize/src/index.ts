// Public API of @ferry/optimize.
export {};
