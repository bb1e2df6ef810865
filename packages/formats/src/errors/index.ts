export {
  codeHasPrefix,
  type DefinedError,
  type DefinedErrorClass,
  type DefinedErrors,
  type DefineErrorsOptions,
  defineErrors,
  type ErrorParams,
  type ErrorSpec,
  FerryError,
  type FerryErrorInit,
  formatErrorMessage,
  isFerryError,
} from './define.js';
export { ERRORS, type ErrorCode, FormatsError, ferryError, isFormatsError } from './formats.js';
