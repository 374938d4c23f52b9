// Provider adapters: a provider's own usage object in, recordUsage's input
// out (provider, model, service tier and the token contract's figures), so
// that no backend has to know how each provider counts. Pure functions,
// typed against each provider's official SDK (type imports only: no SDK is
// loaded at run time, and each is an optional peer dependency).
//
//   const usage = usageFromAnthropic(message);
//   await recordUsage(db, { userId, idempotencyKey, agentMode: 'implement', ...usage });
export { ProviderUsageError, serviceTiers } from './contract.js';
export type { ProviderUsage, ServiceTier } from './contract.js';
export { usageFromOpenAI } from './openai.js';
export { usageFromOpenRouter } from './openrouter.js';
export type { OpenRouterUsage } from './openrouter.js';
export { usageFromAiSdk } from './aiSdk.js';
export type { AiSdkUsageMeta } from './aiSdk.js';
export { usageFromAnthropic } from './anthropic.js';
export { usageFromGemini } from './gemini.js';
export { usageFromOllama } from './ollama.js';
