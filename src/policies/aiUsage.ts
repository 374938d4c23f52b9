import { aiProviders, aiUsageDaily, aiUsageEvents, modelPrices } from '../schema/aiUsage.js';
import { ownerOrAdminMayRead, signedInMayRead } from './factories.js';

// Usage is written only by the backend (service_role) through record_usage.
// Users read their own; admins read everyone's for support.
export const usageEventsRead = ownerOrAdminMayRead('users read their own usage events, admins read all', aiUsageEvents, aiUsageEvents.userId);
export const usageDailyRead = ownerOrAdminMayRead('users read their own daily usage, admins read all', aiUsageDaily, aiUsageDaily.userId);

// Price list and providers: readable by signed-in users, written by service_role only.
export const providersRead = signedInMayRead('signed-in users read providers', aiProviders);
export const modelPricesRead = signedInMayRead('signed-in users read model prices', modelPrices);
