import { quotaNotifications } from '../schema/notifications.js';
import { ownerMayRead, ownerMayUpdate } from './factories.js';

// A user reads their own quota notifications (the API and Supabase Realtime
// alike: Realtime checks this policy for each subscriber) and marks them read
// (the column grant allows read_at only). Nobody reads another user's: not
// admins either, whose Realtime subscription would otherwise hear everyone's.
export const quotaNotificationsOwnerRead = ownerMayRead('users read their own quota notifications', quotaNotifications, quotaNotifications.userId);
export const quotaNotificationsOwnerUpdate = ownerMayUpdate(
  'users mark their own quota notifications read',
  quotaNotifications,
  quotaNotifications.userId,
);
