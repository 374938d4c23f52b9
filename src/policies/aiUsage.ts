import { aiProviders, aiUsageDaily, aiUsageEventKeys, aiUsageEvents, modelPrices } from '../schema/aiUsage.js';
import { ownerMayRead, ownerOrAdminMayRead, signedInMayRead } from './factories.js';

// Usage is written only by the backend (service_role) through record_usage.
// Users read their own; admins read everyone's for support.
export const usageEventsRead = ownerOrAdminMayRead('users read their own usage events, admins read all', aiUsageEvents, aiUsageEvents.userId);
// The keys of one's own events (which of one's keys are taken).
export const usageEventKeysRead = ownerMayRead('users read their own idempotency keys', aiUsageEventKeys, aiUsageEventKeys.userId);
export const usageDailyRead = ownerOrAdminMayRead('users read their own daily usage, admins read all', aiUsageDaily, aiUsageDaily.userId);

// Price list and providers: readable by signed-in users, written by service_role only.
export const providersRead = signedInMayRead('signed-in users read providers', aiProviders);
export const modelPricesRead = signedInMayRead('signed-in users read model prices', modelPrices);
