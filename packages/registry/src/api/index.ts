export { allows, formatGrant, hashToken, newToken, type Principal, parseGrant } from './auth.js';
export { type ModelCard, parseCard } from './card.js';
export { createRegistryServer, type RegistryServer, type RegistryServerOptions } from './server.js';
export { type DispatcherOptions, signBody, WebhookDispatcher } from './webhook-dispatcher.js';
