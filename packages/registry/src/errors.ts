/**
 * The registry's error table is the API's error vocabulary, which the client speaks too (it
 * rebuilds a server's error body into a RemoteRegistryError with the same code), so it lives in
 * @ferry/registry-client; the server raises the same codes from the same class, so
 * `isRegistryError` holds for a bad name whichever side parsed it.
 */
export {
  isRegistryError,
  REGISTRY_ERRORS,
  RegistryError,
  type RegistryErrorCode,
  type RegistryErrorParams,
  type RegistryErrorSpec,
  RemoteRegistryError,
  registryError,
} from '@ferry/registry-client';
