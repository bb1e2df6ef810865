/**
 * NumPy's array reconstructors and ndarray subclasses, under every module name a real pickle
 * writes them with: numpy sets `__module__ = 'numpy'` on its public classes (numpy 1.17+), older
 * numpy wrote the defining module (`numpy.matrixlib.defmatrix.matrix`, joblib's own test data),
 * numpy 2 moved `numpy.core` to `numpy._core` and records/chararray to `numpy.rec`/`numpy.char`.
 * Each is data: its unpickling runs ndarray.__new__ and ndarray.__setstate__ (or, for masked
 * arrays, MaskedArray.__setstate__, which sets data, mask and fill value) and nothing else.
 */

/** `_reconstruct(subtype, shape, dtype)`: ndarray.__new__(subtype, shape, dtype), then BUILD. */
export const NDARRAY_RECONSTRUCTORS: ReadonlySet<string> = new Set([
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  // numpy < 1.0 wrote this one; numpy keeps it (numpy/core/_internal.py) to read those files,
  // e.g. numpy's own test data lib/tests/data/py2-np0-objarr.npy.
  'numpy.core._internal._reconstruct',
  'numpy._core._internal._reconstruct',
]);

/**
 * `_mareconstruct(subtype, baseclass, baseshape, basetype)` makes an empty masked array;
 * MaskedArray.__setstate__((ver, shape, dtype, fortran, data, mask, fill_value)) fills it
 * (numpy/ma/core.py).
 */
export const MASKED_RECONSTRUCTORS: ReadonlySet<string> = new Set(['numpy.ma.core._mareconstruct']);

/** ndarray subclasses: what `_reconstruct` and `_mareconstruct` are handed as the class to make. */
export const NDARRAY_CLASSES: ReadonlySet<string> = new Set([
  'numpy.ndarray',
  // numpy.matrix: a 2-D ndarray (joblib's test files, old scikit-learn sparse results)
  'numpy.matrix',
  'numpy.matrixlib.defmatrix.matrix',
  // numpy.recarray: field access by attribute; numpy.record is its scalar (the dtype's type)
  'numpy.recarray',
  'numpy.core.records.recarray',
  'numpy.rec.recarray',
  // numpy.memmap: unpickles as an in-memory array (no file is opened: _mmap is None)
  'numpy.memmap',
  'numpy.core.memmap.memmap',
  // numpy.chararray: string arrays with vectorized string methods
  'numpy.chararray',
  'numpy.core.defchararray.chararray',
  'numpy.char.chararray',
  // numpy.ma: masked arrays and their scalar forms
  'numpy.ma.core.MaskedArray',
  'numpy.ma.core.mvoid',
]);

/** Other NumPy data classes a pickle names. */
export const NUMPY_DATA_CLASSES: ReadonlySet<string> = new Set([
  // The scalar type of record dtypes: numpy.dtype(numpy.record, ...) rebuilds a recarray's dtype.
  'numpy.record',
  'numpy.core.records.record',
  'numpy.rec.record',
  // numpy.ma.masked: MaskedConstant() returns the one singleton (MaskedConstant.__reduce__).
  'numpy.ma.core.MaskedConstant',
]);

/** Names that make a NumPy dtype whose type is a class, not a code: void with fields. */
export const RECORD_TYPES: ReadonlySet<string> = new Set([
  'numpy.record',
  'numpy.core.records.record',
  'numpy.rec.record',
]);
