import { GENERATED_CLASSES } from './allowlist-classes.js';
import { LIGHTGBM_CLASSES } from './allowlist-lightgbm.js';
import {
  MASKED_RECONSTRUCTORS,
  NDARRAY_CLASSES,
  NDARRAY_RECONSTRUCTORS,
  NUMPY_DATA_CLASSES,
} from './numpy-classes.js';

/**
 * Globals that reconstruct data, not behaviour. The torch set is what torch's own
 * `weights_only` unpickler allows (torch/_weights_only_unpickler.py, _get_allowed_globals, in
 * torch 1.13 and 2.x); the NumPy and joblib sets are what ndarray.__reduce__ and joblib's
 * NumpyPickler write. A name must match exactly: `collections.OrderedDict.fromkeys` or a dotted
 * path through an allowed class is not allowed (protocol 4 resolves dotted names attribute by
 * attribute, so a prefix match would be a bypass).
 */

const TORCH_STORAGES = [
  'Double',
  'Float',
  'Half',
  'BFloat16',
  'Long',
  'Int',
  'Short',
  'Char',
  'Byte',
  'Bool',
  'ComplexFloat',
  'ComplexDouble',
  'QUInt8',
  'QInt8',
  'QInt32',
  'QUInt4x2',
  'QUInt2x4',
];

const TORCH_DTYPES = [
  'complex32',
  'complex64',
  'complex128',
  'float16',
  'float32',
  'float64',
  'bfloat16',
  'half',
  'float',
  'double',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
  'float8_e4m3fn',
  'float8_e5m2',
];

export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  // torch (weights_only)
  'collections.OrderedDict',
  'torch.nn.parameter.Parameter',
  'torch.serialization._get_layout',
  'torch.Size',
  'torch.Tensor',
  'torch.device',
  'torch.storage.UntypedStorage',
  'torch.storage.TypedStorage',
  'torch.storage._LegacyStorage',
  'torch.UntypedStorage',
  'torch.TypedStorage',
  'torch.per_tensor_affine',
  'torch.per_channel_affine',
  'torch.per_tensor_symmetric',
  'torch.per_channel_symmetric',
  'torch.per_channel_affine_float_qparams',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_sparse_csr_tensor',
  'torch._utils._rebuild_qtensor',
  'torch._tensor._rebuild_from_type_v2',
  ...TORCH_STORAGES.flatMap((s) => [`torch.${s}Storage`, `torch.cuda.${s}Storage`]),
  ...TORCH_STORAGES.flatMap((s) => [`torch.${s}Tensor`, `torch.cuda.${s}Tensor`]),
  ...TORCH_DTYPES.map((d) => `torch.${d}`),
  // Python builtins that only make values
  'builtins.set',
  'builtins.frozenset',
  'builtins.slice',
  'builtins.complex',
  'builtins.bytearray',
  'builtins.bytes',
  'builtins.int',
  'builtins.float',
  'builtins.str',
  'builtins.tuple',
  'builtins.list',
  'builtins.dict',
  'builtins.bool',
  'builtins.range',
  'builtins.object',
  // Protocols 0-1 (and __reduce_ex__ fallbacks) rebuild objects through copyreg; these make an
  // instance like NEWOBJ does, and the classes they are handed are judged as callees (policy.ts).
  'copyreg._reconstructor',
  'copyreg.__newobj__',
  'copyreg.__newobj_ex__',
  // Protocol-2 pickles of bytes under Python 3: _codecs.encode(text, 'latin1')
  '_codecs.encode',
  'collections.defaultdict',
  'collections.deque',
  'datetime.datetime',
  'datetime.date',
  'datetime.timedelta',
  // NumPy (ndarray.__reduce__, dtype, scalars, protocol 5 buffers; ndarray subclasses and
  // masked arrays in numpy-classes.ts)
  ...NDARRAY_RECONSTRUCTORS,
  ...MASKED_RECONSTRUCTORS,
  ...NDARRAY_CLASSES,
  ...NUMPY_DATA_CLASSES,
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  'numpy.dtype',
  'numpy.random._pickle.__randomstate_ctor',
  'numpy.random._pickle.__bit_generator_ctor',
  'numpy.random._pickle.__generator_ctor',
  'numpy.random.mtrand.RandomState',
  // numpy >= 2 hands __bit_generator_ctor the class itself, and pickles the seed sequence
  // (BitGenerator.__reduce__: state, _seed_seq; numpy/random/bit_generator.pyx).
  'numpy.random._mt19937.MT19937',
  'numpy.random._pcg64.PCG64',
  'numpy.random._pcg64.PCG64DXSM',
  'numpy.random._philox.Philox',
  'numpy.random._sfc64.SFC64',
  'numpy.random.bit_generator.SeedSequence',
  'numpy.random.bit_generator.__pyx_unpickle_SeedSequence',
  // sklearn's BinaryTree.__reduce__ (neighbors/_binary_tree.pxi): newObj(cls) is cls.__new__(cls)
  'sklearn.neighbors._kd_tree.newObj',
  'sklearn.neighbors._ball_tree.newObj',
  'sklearn.metrics._dist_metrics.newObj',
  // A fitted GridSearchCV/RandomizedSearchCV with the default scoring holds this function as
  // scorer_ (scikit-learn 1.2 model_selection/_search.py); it only calls estimator.score, and
  // is referenced, never called, on load (scikit-learn >= 1.4 pickles a _PassthroughScorer).
  'sklearn.metrics._scorer._passthrough_scorer',
  // joblib's inline array wrapper (joblib/numpy_pickle.py). Not numpy_pickle_compat's
  // NDArrayWrapper: it np.load()s a file named in the pickle, outside the scanned file.
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
]);

/**
 * Exact names only, here and in the generated table of data classes (estimators, trees, losses,
 * NumPy scalars, SciPy sparse matrices, XGBoost models: allowlist-classes.ts, made by
 * fixtures/make/allowlist_classes.py; LightGBM's in allowlist-lightgbm.ts). A class is allowed under the module that defines it, never
 * under a module that imports it: `sklearn.datasets._covtype.GzipFile` is gzip's GzipFile, which
 * truncates a file when called (issue #24.3). No module prefix or name pattern admits anything.
 */
export function isAllowedGlobal(qualified: string): boolean {
  return (
    ALLOWED_GLOBALS.has(qualified) || GENERATED_CLASSES.has(qualified) || LIGHTGBM_CLASSES.has(qualified)
  );
}
