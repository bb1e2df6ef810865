// Public API of @ferry/torchscript (filled in by the following commits).
export {};
