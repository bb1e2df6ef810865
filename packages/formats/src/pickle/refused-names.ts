/**
 * Names real files hold that ferry refuses on purpose, with why: the finding says so instead of
 * "not a known data reconstructor" (issue #22.4: old containers are read or named and refused).
 */
const COMPANION_FILE =
  "joblib < 0.10's array wrapper: joblib.load np.load()s a companion file named in the pickle, outside the file scanned (dump it again with joblib >= 0.10)";

export const REFUSED_NAMES: ReadonlyMap<string, string> = new Map([
  ['joblib.numpy_pickle.NDArrayWrapper', COMPANION_FILE],
  ['joblib.numpy_pickle.ZNDArrayWrapper', COMPANION_FILE],
  ['joblib.numpy_pickle_compat.NDArrayWrapper', COMPANION_FILE],
  ['joblib.numpy_pickle_compat.ZNDArrayWrapper', COMPANION_FILE],
  ['sklearn.externals.joblib.numpy_pickle.NDArrayWrapper', COMPANION_FILE],
  ['sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper', COMPANION_FILE],
]);
