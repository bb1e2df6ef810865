export { allows, formatGrant, hashToken, newToken, type Principal, parseGrant } from './auth.js';
export { type ModelCard, parseCard } from './card.js';
export { createRegistryServer, type RegistryServer, type RegistryServerOptions } from './server.js';
export { type DispatcherOptions, signBody, WebhookDispatcher } from './webhook-dispatcher.js';
export { type AuthLimiterOptions, AuthFailureLimiter } from './auth-limiter.js';
export { type UploadExpiryOptions, UploadSweeper } from './upload-sweeper.js';
export {
  isNonPublicAddress,
  REFUSED_DELIVERY,
  type WebhookTargetPolicy,
  WebhookTargets,
} from './webhook-target.js';
