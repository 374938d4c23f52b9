// How the tables refer to each other, for Drizzle's relational queries
// (`db.query.agentSessions.findFirst({ with: { messages: true } })`). These
// declarations live only in TypeScript: they follow the foreign keys declared
// on the tables and add nothing to the database (drizzle-kit generates no SQL
// for them). Row-level security applies to relational reads as to any other:
// they are ordinary SELECTs with subqueries.
import { relations } from 'drizzle-orm';
import { agentMessages, agentSessions } from './agentSessions.js';
import { aiProviders, aiUsageDaily, aiUsageEvents, modelPrices } from './aiUsage.js';
import { profiles } from './profiles.js';
import { quotaNotifications } from './notifications.js';
import { quotaReservations, quotaTiers, userQuotas } from './quotas.js';

export const profilesRelations = relations(profiles, ({ one, many }) => ({
  sessions: many(agentSessions),
  usageEvents: many(aiUsageEvents),
  dailyUsage: many(aiUsageDaily),
  // One row per user, made with the profile; the key is on user_quotas.
  quota: one(userQuotas),
  reservations: many(quotaReservations),
  quotaNotifications: many(quotaNotifications),
}));

export const agentSessionsRelations = relations(agentSessions, ({ one, many }) => ({
  user: one(profiles, { fields: [agentSessions.userId], references: [profiles.id] }),
  messages: many(agentMessages),
  usageEvents: many(aiUsageEvents),
}));

export const agentMessagesRelations = relations(agentMessages, ({ one, many }) => ({
  session: one(agentSessions, { fields: [agentMessages.sessionId], references: [agentSessions.id] }),
  usageEvents: many(aiUsageEvents),
}));

export const aiUsageEventsRelations = relations(aiUsageEvents, ({ one }) => ({
  user: one(profiles, { fields: [aiUsageEvents.userId], references: [profiles.id] }),
  session: one(agentSessions, { fields: [aiUsageEvents.sessionId], references: [agentSessions.id] }),
  message: one(agentMessages, { fields: [aiUsageEvents.messageId], references: [agentMessages.id] }),
  reservation: one(quotaReservations, { fields: [aiUsageEvents.reservationId], references: [quotaReservations.id] }),
  price: one(modelPrices, { fields: [aiUsageEvents.priceId], references: [modelPrices.id] }),
}));

export const aiUsageDailyRelations = relations(aiUsageDaily, ({ one }) => ({
  user: one(profiles, { fields: [aiUsageDaily.userId], references: [profiles.id] }),
}));

export const aiProvidersRelations = relations(aiProviders, ({ many }) => ({
  prices: many(modelPrices),
}));

export const modelPricesRelations = relations(modelPrices, ({ one, many }) => ({
  // Not `provider`: that name is the price's column holding the provider's id.
  aiProvider: one(aiProviders, { fields: [modelPrices.provider], references: [aiProviders.id] }),
  usageEvents: many(aiUsageEvents),
}));

export const quotaTiersRelations = relations(quotaTiers, ({ many }) => ({
  userQuotas: many(userQuotas),
}));

export const userQuotasRelations = relations(userQuotas, ({ one }) => ({
  user: one(profiles, { fields: [userQuotas.userId], references: [profiles.id] }),
  tier: one(quotaTiers, { fields: [userQuotas.tierId], references: [quotaTiers.id] }),
}));

export const quotaReservationsRelations = relations(quotaReservations, ({ one, many }) => ({
  user: one(profiles, { fields: [quotaReservations.userId], references: [profiles.id] }),
  usageEvents: many(aiUsageEvents),
}));

export const quotaNotificationsRelations = relations(quotaNotifications, ({ one }) => ({
  user: one(profiles, { fields: [quotaNotifications.userId], references: [profiles.id] }),
}));
